package subprocess

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// PythonEnv names the Python interpreter FindPython returns first.
const PythonEnv = "DFBATCH_PYTHON"

// FindPython returns the path of a Python 3 interpreter that imports
// modules (e.g. "pandas"): $DFBATCH_PYTHON if set, which must import them,
// else the first of python3 on the PATH and /usr/bin/python3 that does. A
// machine's first python3 is often a virtual environment or a version
// manager's, without the system's packages; this finds one with them.
func FindPython(modules ...string) (string, error) {
	check := func(path string) error {
		script := "import sys"
		if len(modules) > 0 {
			script = "import " + strings.Join(modules, ", ")
		}
		out, err := exec.Command(path, "-c", script).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w: %s", path, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	if p := os.Getenv(PythonEnv); p != "" {
		if err := check(p); err != nil {
			return "", fmt.Errorf("subprocess: $%s: %w", PythonEnv, err)
		}
		return p, nil
	}
	var errs []error
	for _, candidate := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(candidate)
		if err != nil {
			continue
		}
		if err := check(path); err != nil {
			errs = append(errs, err)
			continue
		}
		return path, nil
	}
	return "", fmt.Errorf("subprocess: no Python 3 that imports %s (Debian: apt-get install python3-pandas; or set $%s): %w",
		strings.Join(modules, ", "), PythonEnv, errors.Join(errs...))
}
