package engine

import "fmt"

// OptionError is an Options or FileJob field a run cannot use, found before
// any task starts. Its message names fields as Go code does
// ("Options.BatchSize must be > 0"); a program that takes the options from
// elsewhere, such as a command line's flags, finds it with errors.As and
// names them its own way with Describe ("--batch-size must be > 0").
type OptionError struct {
	// Option is the field at fault: "Options.BatchSize", "FileJob.Source".
	Option string
	// Deployed is set when the field is the client's deployed default
	// (WithDefaults) rather than the run's own.
	Deployed bool
	// Err is the underlying cause, if any, such as a file's stat error.
	Err error
	// format and args say what is wrong after the field's name; args of
	// type optionName are other fields, named as Describe names them.
	format string
	args   []any
}

// optionName marks a field's name among an OptionError's arguments.
type optionName string

// optionErrorf is an OptionError on field whose message is the field's
// name followed by format and args; cause may be nil.
func optionErrorf(field string, cause error, format string, args ...any) *OptionError {
	return &OptionError{Option: field, Err: cause, format: format, args: args}
}

func (e *OptionError) Error() string {
	msg := e.Describe(func(field string) string { return field })
	if e.Deployed {
		return "deployed defaults: " + msg
	}
	return msg
}

// Unwrap returns the cause.
func (e *OptionError) Unwrap() error { return e.Err }

// Describe returns the message with e.Option and every other field it
// mentions named by name, which gets Go names such as "Options.GPUs" or
// "FileJob.InputFormat".
func (e *OptionError) Describe(name func(field string) string) string {
	args := make([]any, len(e.args))
	for i, a := range e.args {
		if field, ok := a.(optionName); ok {
			a = name(string(field))
		}
		args[i] = a
	}
	return name(e.Option) + fmt.Sprintf(e.format, args...)
}
