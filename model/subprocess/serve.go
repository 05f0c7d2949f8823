package subprocess

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/dfbatch/dfbatch/model"
)

// Serve makes the calling program a subprocess model: it speaks the
// protocol on in (the requests, normally os.Stdin) and out (the replies,
// normally os.Stdout) until in ends, scoring each batch with m. Before each
// batch the run's parameters become real environment variables of this
// process, with those of an earlier batch restored (see PROTOCOL.md), and
// they also reach m through the context (model.Getenv), with the task. m's
// log lines (model.Log) go to stderr, which dfbatch keeps as the task's
// model log. A failed or panicking Predict is sent back as that batch's
// error and serving goes on. Serve returns nil when in ends, and a
// *ProtocolError for input that is not the protocol.
func Serve(ctx context.Context, m model.Model, in io.Reader, out io.Writer) error {
	r := bufio.NewReaderSize(in, 1<<16)
	w := bufio.NewWriterSize(out, 1<<16)
	hello := header{Type: typeHello, Protocol: Protocol, Formats: []Format{FormatArrow, FormatCSV}, PID: os.Getpid(), Marks: true}
	if err := writeMessage(w, hello, nil); err != nil {
		return err
	}
	env := newParameterEnv()
	var logMu sync.Mutex
	logLine := func(line string) {
		logMu.Lock()
		defer logMu.Unlock()
		fmt.Fprintln(os.Stderr, line)
	}
	for {
		h, payload, err := readMessage(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Type != typeBatch {
			return &ProtocolError{Msg: fmt.Sprintf("expected a batch, got a %q message", h.Type)}
		}
		env.set(h.Parameters)
		taskCtx := model.WithLog(model.WithParameters(ctx, h.Parameters), logLine)
		taskCtx = model.WithTask(taskCtx, model.Task{Index: h.Task, Start: h.Start, End: h.End, Attempt: h.Attempt, Executor: h.Executor})
		reply, result, err := serveBatch(taskCtx, m, h, payload)
		if err != nil {
			reply = header{Type: typeError, Error: err.Error()}
			result = nil
		}
		logLine(endMark) // the batch's log ends here
		if err := writeMessage(w, reply, result); err != nil {
			return err
		}
	}
}

// serveBatch scores one batch and encodes the result.
func serveBatch(ctx context.Context, m model.Model, h header, payload []byte) (_ header, _ []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("model panicked: %v\n%s", v, debug.Stack())
		}
	}()
	in, err := decode(payload, h.Format)
	if err != nil {
		return header{}, nil, fmt.Errorf("reading the batch: %w", err)
	}
	// Rows numbered as in the source, so that errors name the user's row.
	in = in.WithRowOffset(h.Start)
	out, err := m.Predict(ctx, in)
	if err != nil {
		return header{}, nil, err
	}
	if out == nil || out.NumRows() != in.NumRows() {
		got := 0
		if out != nil {
			got = out.NumRows()
		}
		return header{}, nil, fmt.Errorf("the model returned %d rows for %d input rows", got, in.NumRows())
	}
	result, err := encode(out, h.Format)
	if err != nil {
		return header{}, nil, err
	}
	return header{Type: typeResult, Rows: out.NumRows(), Format: h.Format}, result, nil
}

// Main runs Serve on this process's stdin and stdout and exits: status 0
// at the end of the input, 2 on a protocol error, 1 on any other. A Go
// model becomes an executable for Command with a main of one line:
//
//	func main() { subprocess.Main(model.Func(predict)) }
func Main(m model.Model) {
	err := Serve(context.Background(), m, os.Stdin, os.Stdout)
	if err == nil {
		os.Exit(0)
	}
	fmt.Fprintln(os.Stderr, "dfbatch model process:", err)
	var pe *ProtocolError
	if errors.As(err, &pe) {
		os.Exit(2)
	}
	os.Exit(1)
}

// parameterEnv makes a batch's parameters the process's environment
// variables, restoring those an earlier batch set to their values when
// serving started.
type parameterEnv struct {
	start    map[string]string // the environment when serving started
	previous map[string]bool   // keys the previous batch set
}

func newParameterEnv() *parameterEnv {
	start := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		start[k] = v
	}
	return &parameterEnv{start: start, previous: map[string]bool{}}
}

func (p *parameterEnv) set(params map[string]string) {
	for k := range p.previous {
		if _, again := params[k]; again {
			continue
		}
		if v, ok := p.start[k]; ok {
			os.Setenv(k, v)
		} else {
			os.Unsetenv(k)
		}
	}
	clear(p.previous)
	for k, v := range params {
		os.Setenv(k, v)
		p.previous[k] = true
	}
}
