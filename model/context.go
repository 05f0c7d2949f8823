package model

import (
	"context"
	"maps"
	"os"
	"strings"
)

type parametersKey struct{}
type taskKey struct{}

// WithParameters returns a context carrying a run's parameters. The engine
// calls it for every task; tests of a model may call it too. The map is
// copied.
func WithParameters(ctx context.Context, params map[string]string) context.Context {
	return context.WithValue(ctx, parametersKey{}, maps.Clone(params))
}

// LookupEnv returns the task's parameter named key, as the reference
// platform's models see parameters as environment variables. Without such a
// parameter it falls back to the process environment. Runs in one process
// each see only their own parameters.
func LookupEnv(ctx context.Context, key string) (string, bool) {
	if params, ok := ctx.Value(parametersKey{}).(map[string]string); ok {
		if v, ok := params[key]; ok {
			return v, true
		}
	}
	return os.LookupEnv(key)
}

// Getenv is LookupEnv without the second result: "" when key is unset.
func Getenv(ctx context.Context, key string) string {
	v, _ := LookupEnv(ctx, key)
	return v
}

// Parameters returns a copy of the task's parameters, without the process
// environment.
func Parameters(ctx context.Context) map[string]string {
	params, _ := ctx.Value(parametersKey{}).(map[string]string)
	return maps.Clone(params)
}

// Environ returns the process environment with the task's parameters set,
// in os.Environ's "key=value" form, for a model that starts a subprocess.
func Environ(ctx context.Context) []string {
	params, _ := ctx.Value(parametersKey{}).(map[string]string)
	process := os.Environ()
	env := make([]string, 0, len(params)+len(process))
	for _, kv := range process {
		k, _, _ := strings.Cut(kv, "=")
		if _, overridden := params[k]; !overridden {
			env = append(env, kv)
		}
	}
	for k, v := range params {
		env = append(env, k+"="+v)
	}
	return env
}

// Task identifies the task a Predict call scores.
type Task struct {
	// Index numbers the run's tasks from 0, in input order.
	Index int
	// Start and End are the task's rows, [Start, End), in its source.
	Start, End int
	// Source names the file the rows come from; "" for an in-memory frame.
	Source string
	// Attempt counts from 1; it is above 1 when the task is retried.
	Attempt int
	// Executor is the index of the executor running the task.
	Executor int
}

// WithTask returns a context carrying the task being scored.
func WithTask(ctx context.Context, t Task) context.Context {
	return context.WithValue(ctx, taskKey{}, t)
}

// TaskFrom returns the task a Predict call scores, if the caller set one.
func TaskFrom(ctx context.Context) (Task, bool) {
	t, ok := ctx.Value(taskKey{}).(Task)
	return t, ok
}
