package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/dfbatch/dfbatch/gpu"
	"github.com/dfbatch/dfbatch/model/onnx"
	"github.com/dfbatch/dfbatch/model/subprocess"
)

// versionCommand is `dfbatch version`: what was built, and what the
// optional runtimes find on this machine, found as runs find them.
func versionCommand(args []string, stdout io.Writer) error {
	fs := newCommandFlags("dfbatch version", "dfbatch version   (the build, and whether ONNX Runtime and Python are found)")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	version, settings := "(unknown)", map[string]string{}
	if info, ok := debug.ReadBuildInfo(); ok {
		version = info.Main.Version
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
	}
	fmt.Fprintf(stdout, "dfbatch %s\n", version)
	if rev := settings["vcs.revision"]; rev != "" {
		modified := ""
		if settings["vcs.modified"] == "true" {
			modified = " (modified)"
		}
		fmt.Fprintf(stdout, "commit:      %s %s%s\n", rev, settings["vcs.time"], modified)
	}
	fmt.Fprintf(stdout, "go:          %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	tags := settings["-tags"]
	if tags == "" {
		tags = "none"
	}
	cuda := "no (GPUs need a build with -tags cuda)"
	if _, err := gpu.Devices(); !errors.Is(err, gpu.ErrNoCUDA) {
		cuda = "yes"
	}
	fmt.Fprintf(stdout, "build tags:  %s; CUDA: %s; cgo: %s\n", tags, cuda, cmp.Or(settings["CGO_ENABLED"], "?"))
	if path, from, err := onnx.LoadORTLibrary(""); err != nil {
		fmt.Fprintf(stdout, "onnxruntime: not found (--runtime onnxruntime needs it): %s\n", modelFlagNames.Replace(err.Error()))
	} else {
		fmt.Fprintf(stdout, "onnxruntime: %s (from %s)\n", path, from)
	}
	if path, err := subprocess.FindPython("pandas"); err != nil {
		why, _, _ := strings.Cut(err.Error(), "\n")
		fmt.Fprintf(stdout, "python:      no python3 with pandas (Python --command models need one): %s\n", why)
	} else {
		fmt.Fprintf(stdout, "python:      %s, with pandas\n", path)
	}
	return nil
}
