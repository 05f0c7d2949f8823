package model

import "context"

type logKey struct{}

// WithLog returns a context whose model log lines (Log) go to sink. The
// engine sets one for every task attempt and keeps the lines in the run's
// report; sink must be safe to call from the goroutines of one Predict call.
func WithLog(ctx context.Context, sink func(line string)) context.Context {
	return context.WithValue(ctx, logKey{}, sink)
}

// Log records one line of the model's own log for the task being scored,
// as the batch platform's execution report (BatchInferenceClient's) shows a
// model's logs: the engine keeps it in the execution's Report under the task
// and attempt. A model running a subprocess logs the process's stderr this
// way. Without a sink in ctx it does nothing.
func Log(ctx context.Context, line string) {
	if sink, ok := ctx.Value(logKey{}).(func(string)); ok {
		sink(line)
	}
}
