package subprocess

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dfbatch/dfbatch/model"
)

const (
	defaultStartTimeout = 60 * time.Second
	defaultStopGrace    = 5 * time.Second
)

// Command is a model.Loader whose models are processes speaking the
// protocol of PROTOCOL.md: each executor starts one long-lived process of
// Args, and every Predict sends it a batch and reads the result back. A
// Python model only needs its predict function and the shipped
// dfbatch_model module, which the process finds on its PYTHONPATH; a Go
// one calls Serve.
type Command struct {
	// Args is the program and its arguments, e.g. {"python3",
	// "predict.py"}; mandatory. Shell runs a command line through sh. A
	// program named python3 or python, bare, as Args[0] or as the first
	// word of a Shell line, is $DFBATCH_PYTHON (PythonEnv) where that is set,
	// in this process's environment or in Env: the interpreter with the
	// model's packages, which need not be the first python3 on the PATH.
	Args []string
	// Dir is the process's working directory; "" for the caller's.
	Dir string
	// Env holds "key=value" variables added to the process's environment,
	// over this process's and the executor's.
	Env []string
	// Format is the payload format; "" takes the first the process offers
	// in its hello (Arrow when it can read it).
	Format Format
	// StartTimeout bounds the wait for the process's hello; 0 means 60s.
	StartTimeout time.Duration
	// StopGrace is how long Close waits for the process to exit after its
	// input is closed before killing it; 0 means 5s.
	StopGrace time.Duration
}

// Shell returns the Args that run line through /bin/sh, as a shell would:
// `python3 predict.py`, with quoting, variables and redirections. The shell
// and what it starts share the process group that is killed as one.
func Shell(line string) []string {
	return []string{shell, "-c", line}
}

const shell = "/bin/sh"

// Load starts the executor's process and waits for its hello. The
// process's environment carries the executor's resources (see
// PROTOCOL.md).
func (c Command) Load(ctx context.Context, exec model.Executor) (model.Model, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if exec.Logger == nil {
		exec.Logger = slog.New(slog.DiscardHandler)
	}
	env := c.environment(exec)
	p := &Process{cmd: c, exec: exec, env: env, args: pythonArgs(c.Args, env)}
	if p.cmd.StartTimeout <= 0 {
		p.cmd.StartTimeout = defaultStartTimeout
	}
	if p.cmd.StopGrace <= 0 {
		p.cmd.StopGrace = defaultStopGrace
	}
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

func (c Command) check() error {
	var errs []error
	if len(c.Args) == 0 || c.Args[0] == "" {
		errs = append(errs, errors.New("Command.Args is empty: name the program to run, e.g. {\"python3\", \"predict.py\"}"))
	}
	switch c.Format {
	case "", FormatArrow, FormatCSV:
	default:
		errs = append(errs, fmt.Errorf("Command.Format %q is not arrow or csv (see ParseFormat)", c.Format))
	}
	for _, kv := range c.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			errs = append(errs, fmt.Errorf("Command.Env entry %q is not key=value", kv))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("subprocess: %w", errors.Join(errs...))
	}
	return nil
}

// threadVariables are the variables that bound the threads of the common
// numeric libraries, set to the executor's threads.
var threadVariables = []string{
	"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
	"NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "GOMAXPROCS",
}

// environment is the process's environment: this process's, the
// executor's resources, the Python module's path, then Command.Env.
func (c Command) environment(exec model.Executor) []string {
	env := os.Environ()
	threads := strconv.Itoa(exec.Threads())
	for _, k := range threadVariables {
		env = append(env, k+"="+threads)
	}
	ordinals := make([]string, len(exec.Devices))
	for i, d := range exec.Devices {
		ordinals[i] = strconv.Itoa(d.Ordinal)
	}
	env = append(env,
		"CUDA_VISIBLE_DEVICES="+strings.Join(ordinals, ","),
		"DFBATCH_EXECUTOR="+strconv.Itoa(exec.Index),
	)
	if dir, err := pythonModuleDir(); err == nil {
		path := dir
		if old := lookup(env, "PYTHONPATH"); old != "" {
			path += ":" + old
		}
		env = append(env, "PYTHONPATH="+path)
	}
	return append(env, slices.Clone(c.Env)...)
}

// lookup returns the last value of key in env.
func lookup(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, _ := strings.Cut(kv, "="); k == key {
			v = val
		}
	}
	return v
}

// pythonArgs returns args with a program named python3 or python, bare, as
// env's $DFBATCH_PYTHON if it sets one: args[0], or the first word of a
// Shell line.
func pythonArgs(args, env []string) []string {
	python := lookup(env, PythonEnv)
	if python == "" {
		return args
	}
	isPython := func(program string) bool { return program == "python3" || program == "python" }
	if isPython(args[0]) {
		return append([]string{python}, args[1:]...)
	}
	if len(args) == 3 && args[0] == shell && args[1] == "-c" {
		line := strings.TrimLeft(args[2], " \t\n")
		end := strings.IndexAny(line, " \t\n")
		if end < 0 {
			end = len(line)
		}
		if isPython(line[:end]) {
			return []string{args[0], args[1], "'" + strings.ReplaceAll(python, "'", `'\''`) + "'" + line[end:]}
		}
	}
	return args
}
