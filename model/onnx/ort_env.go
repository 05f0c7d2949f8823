//go:build cgo

package onnx

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ortEnv is onnxruntime_go's environment, which is process-global: one
// library, loaded once, for every loader of the process.
var ortEnv struct {
	sync.Mutex
	// path and file are the library loaded; path is "" before.
	path string
	file os.FileInfo
}

// loadORTLibrary loads the library Options ask for, once per process. A
// later loader may ask for the same file again, but not for another one:
// a process holds one ONNX Runtime.
func loadORTLibrary(opts Options) error {
	path, from, err := ortLibraryPath(opts)
	if err != nil {
		return err
	}
	file, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("ONNX Runtime's library %s (from %s) cannot be read: %w; set Options.ORTLibrary (dfbatch run --ort-lib) or $%s to libonnxruntime.so; %s",
			path, from, err, ORTLibraryEnv, ortInstallHint)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	ortEnv.Lock()
	defer ortEnv.Unlock()
	switch {
	case ortEnv.path == path || ortEnv.file != nil && os.SameFile(ortEnv.file, file):
		return nil
	case ortEnv.path != "":
		return fmt.Errorf("ONNX Runtime is already loaded in this process from %s, and %s asks for %s; a process loads one ONNX Runtime library, so give every loader the same one",
			ortEnv.path, from, path)
	case ort.IsInitialized():
		// Something else in the process loaded a library; use it.
		ortEnv.path, ortEnv.file = path, file
		return nil
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("loading ONNX Runtime's library %s (from %s): %w; set Options.ORTLibrary (dfbatch run --ort-lib) or $%s to libonnxruntime.so of ONNX Runtime 1.24 or newer; %s",
			path, from, err, ORTLibraryEnv, ortInstallHint)
	}
	ortEnv.path, ortEnv.file = path, file
	return nil
}

// cgoEnabled tells tests which of RuntimeORT's builds they run.
const cgoEnabled = true
