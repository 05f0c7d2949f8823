// Package interop runs other tools' writers and readers in tests, so that
// the files dfbatch reads are made at test time by the tools users use:
// DuckDB, polars, arrow-rs (parquet-wasm) and Arrow JS from npm
// (tools/interop, installed by tools/interop/setup.sh), and pandas from
// Debian's python3-pandas.
package interop

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dfbatch/dfbatch/model/subprocess"
)

// Node runs script, an ES module that may import the tools/interop
// packages, with node, passing args (process.argv.slice(1)), and returns
// its standard output. Without node or the packages the test is skipped,
// or fails under CI=true, saying what to install.
func Node(t testing.TB, script string, args ...string) string {
	t.Helper()
	dir, err := packagesDir()
	if err == nil {
		_, err = exec.LookPath("node")
	}
	if err != nil {
		missing(t, err)
	}
	cmd := exec.Command("node", append([]string{"--input-type=module", "-e", script, "--"}, args...)...)
	cmd.Dir = dir // bare imports resolve from here
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// Pandas returns a Python 3 that imports pandas; without one the test is
// skipped, or fails under CI=true.
func Pandas(t testing.TB) string {
	t.Helper()
	python, err := subprocess.FindPython("pandas")
	if err != nil {
		missing(t, err)
	}
	return python
}

// missing skips the test, or fails it under CI=true, where every tool is
// installed first.
func missing(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(err)
	}
	t.Skip(err)
}

// packagesDir is tools/interop of the module this test runs in, when
// setup.sh has installed its packages.
func packagesDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the dfbatch module")
		}
		dir = parent
	}
	tools := filepath.Join(dir, "tools", "interop")
	if _, err := os.Stat(filepath.Join(tools, "node_modules", "@duckdb", "node-api")); err != nil {
		return "", errors.New("the interop tools are not installed: run tools/interop/setup.sh (npm)")
	}
	return tools, nil
}
