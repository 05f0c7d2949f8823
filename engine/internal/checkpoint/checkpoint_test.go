package checkpoint

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func outputOf(t *testing.T, start, end int) *frame.Frame {
	t.Helper()
	ids := make([]int64, end-start)
	for i := range ids {
		ids[i] = int64(start + i)
	}
	f, err := frame.New(frame.Int64s("id", ids))
	require.NoError(t, err)
	return f
}

func testJob(t *testing.T) Job {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.csv")
	require.NoError(t, os.WriteFile(path, []byte("id\n1\n"), 0o644))
	in, err := Identify(path)
	require.NoError(t, err)
	return NewJob([]Input{in}, 10, map[string]string{"attribute": "a"}, "", nil)
}

// spooledThree makes a checkpoint holding tasks [0,10), [10,20), [20,30)
// of input 0, closed as a crash would leave it.
func spooledThree(t *testing.T) (dir string, job Job) {
	t.Helper()
	dir, job = t.TempDir(), testJob(t)
	c, err := Create(dir, job, OS)
	require.NoError(t, err)
	for start := 0; start < 30; start += 10 {
		require.NoError(t, c.Save(Span{N: 0, Start: start, End: start + 10}, outputOf(t, start, start+10)))
	}
	require.NoError(t, c.Close())
	return dir, job
}

// spooled counts the task outputs c holds for input n.
func spooled(c *Checkpoint, n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	count := 0
	for s := range c.spooled {
		if s.N == n {
			count++
		}
	}
	return count
}

func ids(t *testing.T, f *frame.Frame) []int64 {
	t.Helper()
	col, err := f.Int64Col("id")
	require.NoError(t, err)
	return col.Int64Values()
}

func TestOpenReplaysWhatWasSpooled(t *testing.T) {
	dir, job := spooledThree(t)
	c, err := Open(dir, job, OS)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, 3, spooled(c, 0))
	out, err := c.Output(Span{N: 0, Start: 10, End: 20})
	require.NoError(t, err)
	assert.Equal(t, ids(t, outputOf(t, 10, 20)), ids(t, out))
	out, err = c.Output(Span{N: 0, Start: 30, End: 40})
	require.NoError(t, err)
	assert.Nil(t, out, "never spooled")
}

func TestOpenDropsAJournalLineTornByACrash(t *testing.T) {
	dir, job := spooledThree(t)
	journal := filepath.Join(dir, journalFile)
	f, err := os.OpenFile(journal, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"n":0,"start":30,"end":40,"spool":"spool-0.0.ar`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	c, err := Open(dir, job, OS)
	require.NoError(t, err)
	assert.Equal(t, 3, spooled(c, 0))
	// What is journaled next starts on a line of its own, in a new spool.
	require.NoError(t, c.Save(Span{N: 0, Start: 30, End: 40}, outputOf(t, 30, 40)))
	require.NoError(t, c.Close())
	c, err = Open(dir, job, OS)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, 4, spooled(c, 0))
	out, err := c.Output(Span{N: 0, Start: 30, End: 40})
	require.NoError(t, err)
	assert.Equal(t, ids(t, outputOf(t, 30, 40)), ids(t, out))
	assert.FileExists(t, filepath.Join(dir, "spool-0.1.arrows"), "a resumed run does not overwrite the earlier spool")
}

func TestSpooledOutputsLostOrDamagedAreScoredAgain(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, spool string)
	}{
		{"spool cut short (a power loss)", func(t *testing.T, spool string) {
			info, err := os.Stat(spool)
			require.NoError(t, err)
			require.NoError(t, os.Truncate(spool, info.Size()-10))
		}},
		{"spool overwritten with zeros", func(t *testing.T, spool string) {
			info, err := os.Stat(spool)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(spool, make([]byte, info.Size()), 0o644))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, job := spooledThree(t)
			tc.damage(t, filepath.Join(dir, "spool-0.0.arrows"))
			c, err := Open(dir, job, OS)
			require.NoError(t, err)
			defer c.Close()
			out, err := c.Output(Span{N: 0, Start: 20, End: 30})
			require.NoError(t, err)
			assert.Nil(t, out, "the task is scored again rather than replayed wrong")
		})
	}
}

func TestCommitDropsTheInputsSpool(t *testing.T) {
	dir, job := spooledThree(t)
	c, err := Open(dir, job, OS)
	require.NoError(t, err)
	require.NoError(t, c.Commit(0, "out.csv", 123))
	assert.NoFileExists(t, filepath.Join(dir, "spool-0.0.arrows"))
	require.NoError(t, c.Close())
	c, err = Open(dir, job, OS)
	require.NoError(t, err)
	defer c.Close()
	commit, ok := c.Committed(0)
	assert.True(t, ok)
	assert.Equal(t, Commit{Output: "out.csv", Size: 123}, commit)
	assert.Zero(t, spooled(c, 0))
}

func TestOpenRefusesAnotherJobNamingEachDifference(t *testing.T) {
	dir, job := spooledThree(t)
	other := job
	other.BatchSize = 20
	other.Parameters = map[string]string{"attribute": "b", "extra": "1"}
	other.Fingerprint = map[string]string{"model": "sha256:abc"}
	_, err := Open(dir, other, OS)
	require.ErrorIs(t, err, ErrMismatch)
	for _, want := range []string{"the batch size was 10, now 20", `parameter attribute was "a", now "b"`,
		`parameter extra was unset, now "1"`, `model setting model was unset, now "sha256:abc"`} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestLockKeepsASecondHolderOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "work")
	unlock, err := Lock(dir)
	require.NoError(t, err)
	_, err = Lock(dir)
	require.ErrorIs(t, err, ErrLocked)
	// The holder removes the folder while it holds the lock, as a finished
	// run does; the next run locks a new one.
	require.NoError(t, os.RemoveAll(dir))
	unlock()
	unlock, err = Lock(dir)
	require.NoError(t, err)
	unlock()
}
