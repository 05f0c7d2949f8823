package engine

import (
	"io"

	"github.com/dfbatch/dfbatch/frame"
)

// source hands out a run's tasks in input order, each with its rows.
// One goroutine at a time calls next: the dispatcher, or for an in-memory
// source the executors in turn; remaining is called after they have
// stopped.
type source interface {
	// next returns the next task with its rows, or io.EOF.
	next() (job, error)
	// inMemory reports whether next only slices memory, never waiting on
	// input: executors then take their tasks from it themselves, which
	// saves a goroutine switch per task, instead of through a dispatcher
	// that reads ahead of them.
	inMemory() bool
	// total is the number of tasks, or -1 while it is unknown.
	total() int
	// remaining lists the known tasks not yet handed out.
	remaining() []Task
	// exhausted reports whether every row of the input was handed out.
	exhausted() bool
}

// frameSource cuts an in-memory frame into its planned tasks, zero-copy.
type frameSource struct {
	in    *frame.Frame
	tasks []Task
	pos   int
}

func newFrameSource(in *frame.Frame, batchSize int) *frameSource {
	return &frameSource{in: in, tasks: Plan(in.NumRows(), batchSize)}
}

func (s *frameSource) next() (job, error) {
	if s.pos == len(s.tasks) {
		return job{}, io.EOF
	}
	t := s.tasks[s.pos]
	s.pos++
	return job{task: t, rows: s.in.Slice(t.Start, t.End)}, nil
}

func (s *frameSource) inMemory() bool    { return true }
func (s *frameSource) total() int        { return len(s.tasks) }
func (s *frameSource) remaining() []Task { return s.tasks[s.pos:] }
func (s *frameSource) exhausted() bool   { return s.pos == len(s.tasks) }

// rebatcher cuts a stream of frames of any size into tasks of batchSize
// rows. A task inside one frame is a zero-copy slice; one spanning frames
// is copied once.
type rebatcher struct {
	r         frame.Reader
	source    string
	batchSize int
	// firstIndex is the index of this stream's first task in the run.
	firstIndex int
	tasks      int
	rows       int // rows handed out so far
	pending    []*frame.Frame
	buffered   int // rows in pending
	eof        bool
}

func (s *rebatcher) next() (job, error) {
	for !s.eof && s.buffered < s.batchSize {
		f, err := s.r.Next()
		if err == io.EOF {
			s.eof = true
			break
		}
		if err != nil {
			return job{}, err
		}
		if f.NumRows() > 0 {
			s.pending = append(s.pending, f)
			s.buffered += f.NumRows()
		}
	}
	if s.buffered == 0 {
		return job{}, io.EOF
	}
	n := min(s.batchSize, s.buffered)
	rows, err := s.take(n)
	if err != nil {
		return job{}, err
	}
	t := Task{Index: s.firstIndex + s.tasks, Start: s.rows, End: s.rows + n, Source: s.source}
	s.tasks++
	s.rows += n
	return job{task: t, rows: rows.WithRowOffset(t.Start)}, nil
}

// take removes the first n buffered rows.
func (s *rebatcher) take(n int) (*frame.Frame, error) {
	var parts []*frame.Frame
	for n > 0 {
		head := s.pending[0]
		if head.NumRows() <= n {
			parts = append(parts, head)
			s.pending = s.pending[1:]
			n -= head.NumRows()
			s.buffered -= head.NumRows()
			continue
		}
		parts = append(parts, head.Slice(0, n))
		s.pending[0] = head.Slice(n, head.NumRows())
		s.buffered -= n
		n = 0
	}
	return frame.Concat(parts...)
}

func (s *rebatcher) inMemory() bool { return false }

func (s *rebatcher) total() int {
	if s.eof && s.buffered == 0 {
		return s.tasks
	}
	return -1
}

func (s *rebatcher) remaining() []Task { return nil }
func (s *rebatcher) exhausted() bool   { return s.eof && s.buffered == 0 }
