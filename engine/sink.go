package engine

import (
	"fmt"
	"sync"

	"github.com/dfbatch/dfbatch/frame"
)

// Batch is one task's output.
type Batch struct {
	Task  Task
	Frame *frame.Frame
}

// sink receives task outputs from the executors, concurrently.
type sink interface {
	// put takes a finished task's output; an error stops the run.
	put(t Task, out *frame.Frame) error
	// drop marks a task whose output will never come (a tolerated failure);
	// an error from delivering the outputs it unblocks stops the run.
	drop(t Task) error
}

// retainSink keeps every output in memory for one frame at the end.
type retainSink struct {
	mu        sync.Mutex
	ordered   bool
	byIndex   map[int]Batch
	completed []int // task indexes in completion order
	delivered func(Task)
}

func newRetainSink(ordered bool, delivered func(Task)) *retainSink {
	return &retainSink{ordered: ordered, byIndex: map[int]Batch{}, delivered: delivered}
}

func (s *retainSink) put(t Task, out *frame.Frame) error {
	s.mu.Lock()
	s.byIndex[t.Index] = Batch{Task: t, Frame: out}
	s.completed = append(s.completed, t.Index)
	s.mu.Unlock()
	s.delivered(t)
	return nil
}

func (s *retainSink) drop(Task) error { return nil }

// frames returns the outputs in task order, or in completion order for an
// unordered run.
func (s *retainSink) frames(tasks int) []*frame.Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*frame.Frame, 0, len(s.byIndex))
	if s.ordered {
		for i := 0; i < tasks; i++ {
			if b, ok := s.byIndex[i]; ok {
				out = append(out, b.Frame)
			}
		}
		return out
	}
	for _, i := range s.completed {
		out = append(out, s.byIndex[i].Frame)
	}
	return out
}

// streamSink hands outputs to a consumer one at a time, in task order
// through a reorder buffer, or as they come for an unordered run. Each
// task that leaves it, delivered or dropped, is released, which frees a
// slot of the run's window (Run.Next): that bounds the tasks read but not
// yet delivered. After the consumer fails, nothing more is delivered: the
// run is stopping.
type streamSink struct {
	mu        sync.Mutex
	ordered   bool
	consume   func(Batch) error
	delivered func(Task)
	release   func(Task)
	next      int           // next task index to deliver, in order
	buffer    map[int]Batch // finished or dropped tasks waiting for next; a nil Frame marks a drop
	err       error         // the consumer's error, once it failed
}

func newStreamSink(ordered bool, consume func(Batch) error, delivered, release func(Task)) *streamSink {
	return &streamSink{ordered: ordered, consume: consume, delivered: delivered, release: release, buffer: map[int]Batch{}}
}

func (s *streamSink) put(t Task, out *frame.Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buffer[t.Index] = Batch{Task: t, Frame: out}
	if !s.ordered {
		s.next = t.Index
	}
	return s.flush()
}

func (s *streamSink) drop(t Task) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buffer[t.Index] = Batch{Task: t}
	if !s.ordered {
		s.next = t.Index
	}
	return s.flush()
}

// flush delivers the buffered outputs that are next in order.
func (s *streamSink) flush() error {
	for s.err == nil {
		b, ok := s.buffer[s.next]
		if !ok {
			return nil
		}
		if b.Frame != nil {
			if err := s.consume(b); err != nil {
				s.err = fmt.Errorf("writing the output of %s: %w", b.Task, err)
				return s.err
			}
			s.delivered(b.Task)
		}
		delete(s.buffer, s.next)
		s.next++
		s.release(b.Task)
	}
	return nil
}
