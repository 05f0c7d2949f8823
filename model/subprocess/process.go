package subprocess

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
)

// stderrTail is how many of a process's last stderr lines its errors quote.
const stderrTail = 20

// Process is the model of one executor: a running process of a Command. It
// is started again after a crash, a protocol error or a killed task, by
// Prepare before the next batch. Like every model, it is used from one
// goroutine at a time.
type Process struct {
	cmd  Command
	exec model.Executor
	env  []string
	args []string // cmd.Args, with $DFBATCH_PYTHON for python3
	run  *running // nil until started, and after the process ended
}

var (
	_ model.Preparer = (*Process)(nil)
	_ io.Closer      = (*Process)(nil)
)

// running is one process of a Process.
type running struct {
	cmd    *exec.Cmd
	stdin  *os.File
	in     *bufio.Writer
	out    *bufio.Reader
	stdout *os.File // out's pipe, closed once the process is gone
	format Format
	pid    int
	// exited is closed once the process has exited and its stderr is
	// drained; waitErr is then its exit error.
	exited  chan struct{}
	waitErr error

	// marks: the process ends each batch's log with endMark, which
	// readStderr passes on through marked.
	marks  bool
	marked chan struct{}

	mu   sync.Mutex
	sink func(string) // where stderr lines go: the current task's log
	tail []string     // the last stderrTail lines
}

// start starts the process and waits for its hello.
func (p *Process) start(ctx context.Context) error {
	c := exec.Command(p.args[0], p.args[1:]...)
	c.Dir, c.Env = p.cmd.Dir, p.env
	setProcessGroup(c)
	// Pipes of our own: exec's would be closed by Wait, maybe before the
	// last bytes of the output are read.
	var pipes [3][2]*os.File // stdin, stdout, stderr: read end, write end
	for i := range pipes {
		r, w, err := os.Pipe()
		if err != nil {
			for _, p := range pipes[:i] {
				p[0].Close()
				p[1].Close()
			}
			return err
		}
		pipes[i] = [2]*os.File{r, w}
	}
	c.Stdin, c.Stdout, c.Stderr = pipes[0][0], pipes[1][1], pipes[2][1]
	err := c.Start()
	// The child has its copies of its ends.
	pipes[0][0].Close()
	pipes[1][1].Close()
	pipes[2][1].Close()
	stdin, stdout, stderr := pipes[0][1], pipes[1][0], pipes[2][0]
	if err != nil {
		stdin.Close()
		stdout.Close()
		stderr.Close()
		return fmt.Errorf("subprocess: starting %s: %w", p.describe(), err)
	}
	r := &running{cmd: c, stdin: stdin, in: bufio.NewWriterSize(stdin, 1<<16), out: bufio.NewReaderSize(stdout, 1<<16), stdout: stdout,
		pid: c.Process.Pid, exited: make(chan struct{}), marked: make(chan struct{}, 1)}
	r.sink = func(line string) { p.exec.Logger.Info("model process", "pid", r.pid, "stderr", line) }
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		r.readStderr(stderr)
	}()
	go func() {
		// Stderr ends when the process group has closed it, which is when
		// the process has exited (or left children behind, which kill
		// ends).
		<-drained
		stderr.Close()
		r.waitErr = c.Wait()
		close(r.exited)
	}()

	hello, err := r.exchange(ctx, p.cmd.StartTimeout, nil, nil)
	if err == nil && (hello.h.Type != typeHello || hello.h.Protocol != Protocol) {
		err = &ProtocolError{Msg: fmt.Sprintf("expected a hello for protocol %d first, got type %q protocol %d", Protocol, hello.h.Type, hello.h.Protocol)}
	}
	if err == nil {
		r.format, err = p.pickFormat(hello.h.Formats)
		r.marks = hello.h.Marks
	}
	if err != nil {
		err = r.failure(err)
		r.kill()
		return fmt.Errorf("subprocess: %s (pid %d) did not start: %w%s", p.describe(), r.pid, err, r.stderrLines())
	}
	p.run = r
	return nil
}

func (p *Process) pickFormat(offered []Format) (Format, error) {
	if len(offered) == 0 {
		return "", &ProtocolError{Msg: "the hello lists no payload formats"}
	}
	if p.cmd.Format == "" {
		return offered[0], nil
	}
	if slices.Contains(offered, p.cmd.Format) {
		return p.cmd.Format, nil
	}
	msg := fmt.Sprintf("Command.Format (the CLI's --command-format) is %s, but the process offers only %s", p.cmd.Format, formatList(offered))
	if p.cmd.Format == FormatArrow {
		msg += ". To exchange Arrow, the process must read and write the Arrow IPC stream: a Python one through " +
			"dfbatch_model.py as dfbatch ships it, which needs only numpy (a copy of dfbatch_model.py older than that, " +
			"imported first because it lies beside the script or earlier on sys.path, needs pyarrow: delete the copy, " +
			"or pip install pyarrow), a process in another language through its Arrow library"
	}
	return "", errors.New(msg + "; or leave the format unset to take the process's choice")
}

func formatList(formats []Format) string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

func (p *Process) describe() string { return strings.Join(p.args, " ") }

// readStderr sends each line the process writes to stderr to the current
// sink, and keeps the last ones for error messages.
func (r *running) readStderr(stderr io.Reader) {
	s := bufio.NewScanner(stderr)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		line := s.Text()
		if line == endMark {
			select {
			case r.marked <- struct{}{}:
			default:
			}
			continue
		}
		r.mu.Lock()
		if len(r.tail) == stderrTail {
			r.tail = append(r.tail[:0], r.tail[1:]...)
		}
		r.tail = append(r.tail, line)
		sink := r.sink
		r.mu.Unlock()
		sink(line)
	}
	// A line longer than the buffer ends the scan; drain the rest so the
	// process never blocks on a full pipe.
	_, _ = io.Copy(io.Discard, stderr)
}

func (r *running) stderrLines() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.tail) == 0 {
		return ""
	}
	return "; its last stderr lines:\n  | " + strings.Join(r.tail, "\n  | ")
}

// reply is a message read from the process.
type reply struct {
	h       header
	payload []byte
}

// exchange writes a request (none when h is nil) and reads the reply,
// giving up when ctx is done or timeout (if > 0) passes, and when the
// process exits first.
func (r *running) exchange(ctx context.Context, timeout time.Duration, h *header, payload []byte) (reply, error) {
	type result struct {
		reply
		err error
	}
	done := make(chan result, 1)
	go func() {
		if h != nil {
			if err := writeMessage(r.in, *h, payload); err != nil {
				done <- result{err: err}
				return
			}
		}
		rh, rp, err := readMessage(r.out)
		done <- result{reply{rh, rp}, err}
	}()
	var expire <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expire = t.C
	}
	select {
	case res := <-done:
		return res.reply, res.err
	case <-ctx.Done():
		r.kill()
		<-done
		return reply{}, context.Cause(ctx)
	case <-expire:
		r.kill()
		<-done
		return reply{}, fmt.Errorf("%w within %s", errNoReply, timeout)
	}
}

// errNoReply is the error of an exchange that timed out; the process was
// killed for it, so its exit does not explain the failure.
var errNoReply = errors.New("no reply")

// failure explains an exchange that failed: the process's exit, if that is
// why, or the error.
func (r *running) failure(err error) error {
	var pe *ProtocolError
	if errors.As(err, &pe) || errors.Is(err, errNoReply) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	select {
	case <-r.exited:
		return fmt.Errorf("the process exited (%v)", r.waitErr)
	case <-time.After(time.Second):
		return err
	}
}

// markWait bounds the wait for a batch's end mark after its reply: the
// mark was written first, so it only waits for the stderr reader.
const markWait = 5 * time.Second

// awaitMark waits until the stderr reader has passed the batch's end mark,
// so that every line the batch logged went to its task.
func (r *running) awaitMark() {
	if !r.marks {
		return
	}
	t := time.NewTimer(markWait)
	defer t.Stop()
	select {
	case <-r.marked:
	case <-r.exited:
	case <-t.C:
	}
}

// kill kills the process's group, waits for it and closes its pipes.
func (r *running) kill() {
	killProcessGroup(r.cmd)
	<-r.exited
	r.stdin.Close()
	r.stdout.Close()
}

// Prepare makes sure the process is running before the next batch: one
// killed by the previous task's timeout, or that died between batches, is
// started again and its hello awaited here, bounded by Command.StartTimeout
// and ctx, not by the next task's timeout. A running process is left as it
// is. The executor calls Prepare before every Predict (model.Preparer)
// under the run's context; a caller that does not leaves Predict to start
// the process, within its task's time.
func (p *Process) Prepare(ctx context.Context) error {
	if p.run != nil {
		select {
		case <-p.run.exited: // it died between batches: start it again
			p.run.kill()
			p.run = nil
		default:
		}
	}
	if p.run == nil {
		return p.start(ctx)
	}
	return nil
}

// Predict sends in to the process as one batch and returns its result. The
// task's parameters travel in the request, and the process's stderr lines
// while it scores go to the task's model log (model.Log). A process that
// dies, breaks the protocol or is still busy when ctx ends is killed, and
// started again by the next Prepare, or by the next Predict if Prepare is
// not called.
func (p *Process) Predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	if err := p.Prepare(ctx); err != nil {
		return nil, err
	}
	r := p.run
	payload, err := encode(in, r.format)
	if err != nil {
		return nil, fmt.Errorf("subprocess: encoding the batch as %s: %w", r.format, err)
	}
	task, _ := model.TaskFrom(ctx)
	req := header{Type: typeBatch, Task: task.Index, Attempt: task.Attempt, Start: task.Start, End: task.End,
		Rows: in.NumRows(), Executor: p.exec.Index, Format: r.format, Parameters: model.Parameters(ctx)}

	r.mu.Lock()
	idle := r.sink
	r.sink = func(line string) { model.Log(ctx, line) }
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.sink = idle
		r.mu.Unlock()
	}()

	res, err := r.exchange(ctx, 0, &req, payload)
	if err != nil {
		p.run = nil // started again on the next call
		if ctx.Err() != nil {
			r.kill()
			return nil, fmt.Errorf("killed the model process (pid %d): %w", r.pid, err)
		}
		err = r.failure(err)
		r.kill()
		return nil, fmt.Errorf("model process %s (pid %d): %w%s", p.describe(), r.pid, err, r.stderrLines())
	}
	r.awaitMark()
	switch res.h.Type {
	case typeResult:
	case typeError:
		return nil, fmt.Errorf("model process: %s", res.h.Error)
	default:
		p.run = nil
		r.kill()
		return nil, &ProtocolError{Msg: fmt.Sprintf("expected a result or an error, got a %q message", res.h.Type)}
	}
	out, err := decode(res.payload, r.format)
	if err != nil {
		return nil, fmt.Errorf("model process: reading its %s result: %w", r.format, err)
	}
	return out, nil
}

// Close ends the process: its input is closed, and a process that has not
// exited after Command.StopGrace is killed. No process is left running.
func (p *Process) Close() error {
	r := p.run
	if r == nil {
		return nil
	}
	p.run = nil
	_ = r.stdin.Close()
	select {
	case <-r.exited:
		// Kill what the process may have left in its group.
		r.kill()
		return nil
	case <-time.After(p.cmd.StopGrace):
		r.kill()
		return fmt.Errorf("subprocess: %s (pid %d) did not exit within %s of its input closing; killed", p.describe(), r.pid, p.cmd.StopGrace)
	}
}
