// Package checkpoint keeps what a file run has scored so far on disk, so
// that a run interrupted by a crash, kill -9, cancel or failure can resume
// without scoring it again.
//
// A checkpoint is a folder: job.json names the job (its inputs' identities
// and the options its outputs depend on), spool files hold task outputs as
// Arrow IPC streams, and journal.jsonl, appended to after each spooled
// output and each committed output file, says where everything is. The
// journal is the truth: a spooled output counts only once its journal line
// is complete, so a torn write at a crash loses at most the outputs in
// flight. One run at a time may hold a checkpoint (a file lock).
package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/dfbatch/dfbatch/frame"
)

const (
	jobFile     = "job.json"
	journalFile = "journal.jsonl"
	lockFile    = "lock"
)

// Span is a task's rows, [Start, End), in input N of the job.
type Span struct {
	N          int
	Start, End int
}

// entry is one journal line: a spooled task output, or a committed output
// file.
type entry struct {
	N      int    `json:"n"`
	Start  int    `json:"start,omitempty"`
	End    int    `json:"end,omitempty"`
	Spool  string `json:"spool,omitempty"`
	Offset int64  `json:"offset,omitempty"`
	Length int64  `json:"length,omitempty"`
	// Committed names the output file written with every row of input N.
	Committed string `json:"committed,omitempty"`
	Size      int64  `json:"size,omitempty"`
}

// Commit is an output file a run committed: renamed to its final name with
// every row of its input.
type Commit struct {
	Output string
	Size   int64
}

// Files creates the files a checkpoint writes. Tests replace it to inject
// write errors (a full disk); OS is the real one.
type Files func(name string) (File, error)

// File is a file being written.
type File interface {
	io.Writer
	Sync() error
	Close() error
}

// OS creates files with os.Create.
func OS(name string) (File, error) { return os.Create(name) }

// Checkpoint is an open checkpoint, held by one run. Its methods are safe
// for concurrent use.
type Checkpoint struct {
	dir    string
	create Files

	mu         sync.Mutex
	journal    File
	generation int // numbers this run's spool files apart from earlier runs'
	spooled    map[Span]entry
	committed  map[int]Commit
	spools     map[int]*spool // this run's spool file per input
	buf        bytes.Buffer
	err        error // the first write error: the checkpoint stops growing
}

type spool struct {
	name string
	file File
	size int64
}

// ErrLocked is returned when another run holds the checkpoint.
var ErrLocked = errors.New("another dfbatch run is using this checkpoint")

// Exists reports whether dir holds a checkpoint.
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, jobFile))
	return err == nil
}

// Lock takes dir's lock, creating dir if needed, and returns a function
// that releases it. The lock is an OS file lock: a crashed run's lock is
// released with its process. Its holder may remove the lock file (and dir)
// before releasing it: a run that locked the removed file meanwhile finds
// it gone and locks anew.
func Lock(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, lockFile)
	for {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return nil, err
		}
		if err := lockFileHandle(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", dir, ErrLocked)
		}
		held, herr := f.Stat()
		named, nerr := os.Stat(path)
		if herr == nil && nerr == nil && os.SameFile(held, named) {
			return func() { f.Close() }, nil
		}
		f.Close() // removed by the run that held it: try again
	}
}

// Create starts a new checkpoint for job in dir, replacing any earlier one.
// The caller holds dir's lock.
func Create(dir string, job Job, create Files) (*Checkpoint, error) {
	if err := removeFiles(dir); err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(job, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileSynced(create, filepath.Join(dir, jobFile), data); err != nil {
		return nil, fmt.Errorf("writing the checkpoint's job: %w", err)
	}
	c := &Checkpoint{dir: dir, create: create, spooled: map[Span]entry{}, committed: map[int]Commit{}, spools: map[int]*spool{}}
	if c.journal, err = create(filepath.Join(dir, journalFile)); err != nil {
		return nil, err
	}
	return c, nil
}

// Open opens the checkpoint in dir to continue it, after checking that it
// was made for job: if the job differs, the error says how. The caller
// holds dir's lock. A journal's torn last line (a crash mid-write) is
// dropped.
func Open(dir string, job Job, create Files) (*Checkpoint, error) {
	data, err := os.ReadFile(filepath.Join(dir, jobFile))
	if err != nil {
		return nil, err
	}
	var was Job
	if err := json.Unmarshal(data, &was); err != nil {
		return nil, fmt.Errorf("the checkpoint's %s is damaged (%v); run without resuming to start over", jobFile, err)
	}
	if err := was.Diff(job); err != nil {
		return nil, err
	}
	c := &Checkpoint{dir: dir, create: create, spooled: map[Span]entry{}, committed: map[int]Commit{}, spools: map[int]*spool{}}
	good, err := c.readJournal()
	if err != nil {
		return nil, err
	}
	// Rewrite the journal without its torn tail, so that lines appended
	// from now on start on a line of their own.
	if err := writeFileSynced(create, filepath.Join(dir, journalFile+".tmp"), good); err != nil {
		return nil, err
	}
	if err := os.Rename(filepath.Join(dir, journalFile+".tmp"), filepath.Join(dir, journalFile)); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, journalFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, err
	}
	c.journal = f
	return c, nil
}

// readJournal loads the journal's complete lines, and returns them.
func (c *Checkpoint) readJournal() ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(c.dir, journalFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	sizes := map[string]int64{}
	good := 0
	for len(data[good:]) > 0 {
		line, _, complete := bytes.Cut(data[good:], []byte{'\n'})
		if !complete {
			break // torn by a crash mid-write
		}
		var e entry
		if err := json.Unmarshal(line, &e); err != nil {
			break
		}
		good += len(line) + 1
		if e.Committed != "" {
			c.committed[e.N] = Commit{Output: e.Committed, Size: e.Size}
			continue
		}
		size, seen := sizes[e.Spool]
		if !seen {
			if info, err := os.Stat(filepath.Join(c.dir, e.Spool)); err == nil {
				size = info.Size()
			}
			sizes[e.Spool] = size
		}
		if e.Offset+e.Length > size {
			continue // the spool lost what the journal names (a power loss): score it again
		}
		c.spooled[Span{N: e.N, Start: e.Start, End: e.End}] = e
	}
	// This run's spool files must not overwrite an earlier run's.
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if g, ok := generationOf(e.Name()); ok && g >= c.generation {
			c.generation = g + 1
		}
	}
	return data[:good], nil
}

// Committed returns the output file committed for input n, if any.
func (c *Checkpoint) Committed(n int) (Commit, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	commit, ok := c.committed[n]
	return commit, ok
}

// Output returns the spooled output of the task s, or nil if there is none.
// An output that cannot be read back is dropped from the checkpoint and
// reported as none, so that its task is scored again.
func (c *Checkpoint) Output(s Span) (*frame.Frame, error) {
	c.mu.Lock()
	e, ok := c.spooled[s]
	c.mu.Unlock()
	if !ok {
		return nil, nil
	}
	out, err := readSpooled(filepath.Join(c.dir, e.Spool), e.Offset, e.Length)
	if err == nil && out.NumRows() != s.End-s.Start {
		err = fmt.Errorf("it holds %d rows for %d input rows", out.NumRows(), s.End-s.Start)
	}
	if err != nil {
		c.mu.Lock()
		delete(c.spooled, s)
		c.mu.Unlock()
		return nil, nil
	}
	return out, nil
}

func readSpooled(path string, offset, length int64) (*frame.Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data := make([]byte, length)
	if _, err := f.ReadAt(data, offset); err != nil {
		return nil, err
	}
	r, err := ipc.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer r.Release()
	if !r.Next() {
		if err := r.Err(); err != nil {
			return nil, err
		}
		return nil, errors.New("no record batch")
	}
	rec := r.RecordBatch()
	rec.Retain()
	defer rec.Release()
	return frame.FromRecord(rec)
}

// Save spools the output of task s and journals it. After an error, the
// checkpoint takes nothing more and every later call returns that error.
func (c *Checkpoint) Save(s Span, out *frame.Frame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	if err := c.save(s, out); err != nil {
		c.err = fmt.Errorf("writing the checkpoint in %s: %w", c.dir, err)
		return c.err
	}
	return nil
}

func (c *Checkpoint) save(s Span, out *frame.Frame) error {
	sp, err := c.spoolOf(s.N)
	if err != nil {
		return err
	}
	c.buf.Reset()
	w := ipc.NewWriter(&c.buf, ipc.WithSchema(out.Schema()))
	rec := out.Record()
	err = w.Write(rec)
	rec.Release()
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	e := entry{N: s.N, Start: s.Start, End: s.End, Spool: sp.name, Offset: sp.size, Length: int64(c.buf.Len())}
	n, err := sp.file.Write(c.buf.Bytes())
	sp.size += int64(n)
	if err != nil {
		return err
	}
	if err := c.appendJournal(e); err != nil {
		return err
	}
	c.spooled[s] = e
	return nil
}

func (c *Checkpoint) spoolOf(n int) (*spool, error) {
	if sp, ok := c.spools[n]; ok {
		return sp, nil
	}
	name := fmt.Sprintf("spool-%d.%d.arrows", n, c.generation)
	f, err := c.create(filepath.Join(c.dir, name))
	if err != nil {
		return nil, err
	}
	sp := &spool{name: name, file: f}
	c.spools[n] = sp
	return sp, nil
}

func (c *Checkpoint) appendJournal(e entry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	// One write per line: a crash leaves at most a torn last line.
	_, err = c.journal.Write(append(line, '\n'))
	return err
}

// Commit records that input n's output file holds every row, and removes
// the spooled outputs it no longer needs. The journal is synced first, so
// the record survives a power loss.
func (c *Checkpoint) Commit(n int, output string, size int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	if err := c.appendJournal(entry{N: n, Committed: output, Size: size}); err != nil {
		c.err = fmt.Errorf("writing the checkpoint in %s: %w", c.dir, err)
		return c.err
	}
	if err := c.journal.Sync(); err != nil {
		c.err = fmt.Errorf("writing the checkpoint in %s: %w", c.dir, err)
		return c.err
	}
	c.committed[n] = Commit{Output: output, Size: size}
	var names []string
	for s, e := range c.spooled {
		if s.N == n {
			names = append(names, e.Spool)
			delete(c.spooled, s)
		}
	}
	if sp, ok := c.spools[n]; ok {
		sp.file.Close()
		names = append(names, sp.name)
		delete(c.spools, n)
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		os.Remove(filepath.Join(c.dir, name))
	}
	return nil
}

// Close syncs and closes the checkpoint's files; it stays on disk for a
// later run to resume.
func (c *Checkpoint) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, n := range slices.Sorted(maps.Keys(c.spools)) {
		sp := c.spools[n]
		errs = append(errs, sp.file.Sync(), sp.file.Close())
	}
	c.spools = map[int]*spool{}
	if c.journal != nil {
		errs = append(errs, c.journal.Sync(), c.journal.Close())
		c.journal = nil
	}
	return errors.Join(errs...)
}

// Remove closes the checkpoint and deletes its files.
func (c *Checkpoint) Remove() error {
	c.Close()
	return removeFiles(c.dir)
}

// removeFiles removes a checkpoint's files from dir, leaving its lock and any
// file that is not the checkpoint's.
func removeFiles(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if name == jobFile || name == journalFile || name == journalFile+".tmp" || strings.HasPrefix(name, "spool-") {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// generationOf reads the generation from a spool file's name,
// spool-<input>.<generation>.arrows.
func generationOf(name string) (int, bool) {
	var n, g int
	if _, err := fmt.Sscanf(name, "spool-%d.%d.arrows", &n, &g); err != nil {
		return 0, false
	}
	return g, true
}

func writeFileSynced(create Files, path string, data []byte) error {
	f, err := create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	_, err = w.Write(data)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
