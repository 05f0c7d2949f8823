// Command dfbatch scores files with a model in batches, and inspects
// models.
//
//	dfbatch run --model churn.onnx --input customers.csv --output scored/ --batch-size 10000
//	dfbatch inspect churn.onnx
//	dfbatch version
//	dfbatch run --cloud --image registry.example.com/dfbatch:1.0.0 --bucket s3://bucket/dfbatch ...
//	dfbatch worker --model-object KEY   (in the pods of a cloud run)
//
// Exit codes: 0 success; 1 any other error; 2 bad usage (flags, options,
// a model or input that cannot be used); 3 tasks failed, even within
// --max-failed-tasks (they are listed with their rows, the rows are written
// to --failed-rows, and --resume scores only them); 130 interrupted by
// SIGINT or SIGTERM (--resume continues).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes that tell success, bad usage and failed tasks apart.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitTasksFailed = 3
	exitInterrupted = 130
)

// reportedError marks an error its command has already written to stderr
// (the worker's last log line), so that it is not printed twice.
type reportedError struct{ error }

func (r reportedError) Unwrap() error { return r.error }

// usageError marks errors in what the user asked for.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "run":
		err = runCommand(args[1:], stdout, stderr)
	case "inspect":
		err = inspectCommand(args[1:], stdout)
	case "worker":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err = workerCommand(ctx, args[1:], os.LookupEnv, stderr)
	case "version":
		err = versionCommand(args[1:], stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		msg := fmt.Sprintf("dfbatch: unknown command %q", args[0])
		if near := closestName(args[0], commands); near != "" {
			msg += "; did you mean " + near + "?"
		}
		fmt.Fprintf(stderr, "%s\nRun 'dfbatch --help' for the commands.\n", msg)
		return exitUsage
	}
	return exitCode(err, stderr)
}

// commands are dfbatch's commands, for the suggestion after a typo.
var commands = []string{"run", "inspect", "worker", "version", "help"}

func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, errHelpShown) {
		return exitOK
	}
	var reported reportedError
	if !errors.As(err, &reported) {
		// Library errors already say they are dfbatch's.
		fmt.Fprintf(stderr, "dfbatch: %s\n", goNamesAsFlags.Replace(strings.TrimPrefix(err.Error(), "dfbatch: ")))
	}
	var failed tasksFailedError
	var u usageError
	var interrupted interruptedError
	switch {
	case errors.As(err, &failed):
		return exitTasksFailed
	case errors.As(err, &u):
		return exitUsage
	case errors.As(err, &interrupted):
		return exitInterrupted
	}
	return exitError
}

const usage = `dfbatch scores files with a model in batches.

Commands:
  dfbatch run --model PATH --input FILE|FOLDER --output FILE|FOLDER --batch-size N [flags]
  dfbatch run --command "python3 predict.py" --input ... --output ... --batch-size N [flags]   (a model in any language)
  dfbatch run --cloud --image IMAGE --bucket URL [the run flags]   (on Kubernetes)
  dfbatch inspect PATH
  dfbatch version   (the build, and whether ONNX Runtime and Python are found)
  dfbatch worker (--model PATH | --model-object KEY)   (in the pods of a cloud run)

Run "dfbatch run --help" for the run flags.

Exit codes: 0 success, 1 error, 2 bad usage, 3 tasks failed (even within
--max-failed-tasks: rows are missing), 130 interrupted (--resume continues).
`
