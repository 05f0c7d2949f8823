package onnx

import (
	"errors"
	"fmt"
	"os"
)

// ORTLibraryEnv is the environment variable that names ONNX Runtime's
// shared library when Options.ORTLibrary is unset, so that the machine,
// not each caller, says where its library lives.
const ORTLibraryEnv = "DFBATCH_ORT_LIB"

// ortInstallHint says how to get a library, for every error that finds none.
const ortInstallHint = "bench/peers/setup.sh installs one (npm's onnxruntime-node 1.30.0) at " +
	"bench/peers/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"

// errORTWithoutCgo is RuntimeORT's error in a binary built without cgo,
// which cannot load a C library.
var errORTWithoutCgo = errors.New("RuntimeORT loads ONNX Runtime's C library, but this binary was built without cgo; " +
	"rebuild with CGO_ENABLED=1 and a C compiler (gcc or clang), or use RuntimeGo")

// ortLibraryPath is the library Options ask for, and where the path came
// from, for errors to name.
func ortLibraryPath(opts Options) (path, from string, err error) {
	if opts.ORTLibrary != "" {
		return opts.ORTLibrary, "Options.ORTLibrary", nil
	}
	if path := os.Getenv(ORTLibraryEnv); path != "" {
		return path, "$" + ORTLibraryEnv, nil
	}
	return "", "", fmt.Errorf("RuntimeORT needs ONNX Runtime's shared library (libonnxruntime.so): set Options.ORTLibrary (dfbatch run --ort-lib) or $%s to its path; %s",
		ORTLibraryEnv, ortInstallHint)
}

// LoadORTLibrary loads ONNX Runtime's shared library as a loader with
// Options{ORTLibrary: path} would, path "" meaning $DFBATCH_ORT_LIB, and
// returns the path loaded and where it came from ("Options.ORTLibrary" or
// "$DFBATCH_ORT_LIB"). It tells a program, such as `dfbatch version`,
// whether RuntimeORT can run here; the library stays loaded, as it would
// for a loader.
func LoadORTLibrary(path string) (loaded, from string, err error) {
	opts := Options{ORTLibrary: path}
	if loaded, from, err = ortLibraryPath(opts); err != nil {
		return "", "", err
	}
	return loaded, from, loadORTLibrary(opts)
}
