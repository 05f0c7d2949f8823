package subprocess

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// pythonModule is the model side of the protocol for Python
// (python/dfbatch_model.py): a user's script imports it and calls
// dfbatch_model.serve(predict).
//
//go:embed python/dfbatch_model.py
var pythonModule []byte

// PythonModuleFile is the file name of the shipped Python module.
const PythonModuleFile = "dfbatch_model.py"

var pythonModuleOnce = sync.OnceValues(func() (string, error) {
	sum := sha256.Sum256(pythonModule)
	dir := filepath.Join(os.TempDir(), "dfbatch-python-"+hex.EncodeToString(sum[:6]))
	path := filepath.Join(dir, PythonModuleFile)
	if data, err := os.ReadFile(path); err == nil && string(data) == string(pythonModule) {
		return dir, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("subprocess: writing the Python module: %w", err)
	}
	// Written whole under another name, then renamed: processes of other
	// executors may be starting at the same time.
	tmp, err := os.CreateTemp(dir, PythonModuleFile+".*")
	if err != nil {
		return "", fmt.Errorf("subprocess: writing the Python module: %w", err)
	}
	_, err = tmp.Write(pythonModule)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("subprocess: writing the Python module: %w", err)
	}
	return dir, nil
})

// pythonModuleDir returns a directory holding dfbatch_model.py, written
// there once per content, for the processes' PYTHONPATH.
func pythonModuleDir() (string, error) { return pythonModuleOnce() }
