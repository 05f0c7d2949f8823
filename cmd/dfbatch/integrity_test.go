package main

// Fault tests of the CLI as users run it: an output that cannot be
// created, tolerated failures, and kill -9 of the CLI process midway
// followed by --resume.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/subprocess"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test binary doubles as the dfbatch CLI (DFBATCH_TEST_CLI=1), so that
// a test can kill -9 a real CLI process, and as a --command model
// (DFBATCH_TEST_MODEL).
func TestMain(m *testing.M) {
	switch {
	case os.Getenv("DFBATCH_TEST_MODEL") == "slow":
		subprocess.Main(slowModel)
	case os.Getenv("DFBATCH_TEST_CLI") == "1":
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(runTests(m))
}

// runTests runs the tests; the kubecluster build starts a cluster around
// them.
var runTests = (*testing.M).Run

// slowModel scores id and x*2, taking 20 ms a batch, so that a test can
// interrupt a run midway.
var slowModel = model.Func(func(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	time.Sleep(20 * time.Millisecond)
	ids, err := in.Col("id")
	if err != nil {
		return nil, err
	}
	x, err := in.Float64Matrix(nil, "x")
	if err != nil {
		return nil, err
	}
	for i := range x {
		x[i] *= 2
	}
	return frame.New(frame.Column{Name: "id", Values: ids}, frame.Float64s("score", x))
})

// slowCommand is the --command line of slowModel.
func slowCommand(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	return "DFBATCH_TEST_MODEL=slow DFBATCH_TEST_CLI= exec " + strconv.Quote(self)
}

// idCSV writes n rows id,x; the rows in missing have no x.
func idCSV(t *testing.T, path string, n int, missing ...int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,x\n")
	for i := range n {
		if contains(missing, i) {
			fmt.Fprintf(&b, "%d,\n", i)
			continue
		}
		fmt.Fprintf(&b, "%d,%d.5\n", i, i)
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestRunWithAnOutputThatCannotBeCreatedExitsWithAnError(t *testing.T) {
	input := filepath.Join(t.TempDir(), "in.csv")
	idCSV(t, input, 100)
	code, _, stderr := runCLI("run", "--command", slowCommand(t), "--input", input, "--output", "/proc/o.csv", "--batch-size", "10")
	assert.NotEqual(t, exitOK, code)
	assert.Contains(t, stderr, "/proc/")
}

func TestRunWithToleratedFailuresExitsNonZeroAndWritesTheRowsToRerun(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.csv")
	idCSV(t, input, 100, 15, 72)
	output := filepath.Join(dir, "scored.parquet")
	code, stdout, stderr := runCLI("run", "--command", slowCommand(t), "--input", input, "--output", output,
		"--batch-size", "10", "--executors", "2", "--max-failed-tasks", "5")
	assert.Equal(t, exitTasksFailed, code, stderr)
	assert.Contains(t, stderr, "partial: 8/10 tasks")
	assert.Contains(t, stderr, "failed: task 1 ("+input+" rows 10-19)")
	assert.Contains(t, stderr, "failed: task 7 ("+input+" rows 70-79)")
	assert.Contains(t, stderr, "2 tasks failed (listed above), 2 tasks to re-run")
	assert.Empty(t, stdout, "no output holds every row")
	assert.NoFileExists(t, output)

	failedRows := filepath.Join(dir, "scored.failed-rows.csv")
	assert.Contains(t, stderr, "rows to re-run written to "+failedRows)
	data, err := os.ReadFile(failedRows)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 21)
	assert.Equal(t, "id,x", lines[0])
	assert.Equal(t, "10,10.5", lines[1])
	assert.Equal(t, "15,", lines[6])
	assert.Equal(t, "79,79.5", lines[20])
	assert.Contains(t, stderr, "checkpoint kept in ")

	// The input is fixed: the checkpoint was made for the other one.
	idCSV(t, input, 100)
	code, _, stderr = runCLI("run", "--command", slowCommand(t), "--input", input, "--output", output,
		"--batch-size", "10", "--executors", "2", "--resume")
	assert.Equal(t, exitUsage, code, stderr)
	assert.Contains(t, stderr, "input "+input+" changed")
}

func TestRunEveryTaskFailingIsNotASuccess(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.csv")
	idCSV(t, input, 30, 0, 10, 20)
	code, _, stderr := runCLI("run", "--command", slowCommand(t), "--input", input, "--output", filepath.Join(dir, "o.csv"),
		"--batch-size", "10", "--max-failed-tasks", "3")
	assert.Equal(t, exitTasksFailed, code, stderr)
	assert.Contains(t, stderr, "partial: 0/3 tasks")
}

// cliProcess starts the CLI as a child process of its own.
func cliProcess(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), "DFBATCH_TEST_CLI=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	return cmd, &stderr
}

// journalLines counts the task outputs a checkpoint holds.
func journalLines(dir string) int {
	f, err := os.Open(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.Contains(s.Text(), `"spool"`) {
			n++
		}
	}
	return n
}

func TestKill9MidRunThenResumeScoresTheRestAndWritesTheSameFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI as a child process")
	}
	for _, format := range []string{"parquet", "csv"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			input := filepath.Join(dir, "in.csv")
			idCSV(t, input, 20_000)
			output := filepath.Join(dir, "scored."+format)
			args := []string{"run", "--command", slowCommand(t), "--input", input, "--output", output, "--batch-size", "100", "--executors", "2"}

			cmd, stderr := cliProcess(t, args...)
			work := filepath.Join(dir, ".scored."+format+".dfbatch")
			deadline := time.Now().Add(time.Minute)
			for journalLines(work) < 120 { // 60% of the 200 tasks
				require.True(t, time.Now().Before(deadline), "the run did not get to 60%%: %s", stderr)
				time.Sleep(5 * time.Millisecond)
			}
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			err := cmd.Wait()
			require.Error(t, err, "killed")
			assert.NoFileExists(t, output, "a killed run leaves no output under its final name")

			code, stdout, resumed := runCLI(append(args, "--resume")...)
			require.Equal(t, exitOK, code, resumed)
			assert.Equal(t, output+"\n", stdout)
			var fromCheckpoint, scored int
			_, err = fmt.Sscanf(resumed[strings.Index(resumed, "rows out (")+len("rows out ("):], "%d resumed from the checkpoint, %d scored", &fromCheckpoint, &scored)
			require.NoError(t, err, resumed)
			assert.GreaterOrEqual(t, fromCheckpoint, 12_000, "everything checkpointed before the kill is kept")
			assert.Equal(t, 20_000, fromCheckpoint+scored)
			t.Logf("kill -9 at 60%%: resumed %d rows from the checkpoint, scored %d", fromCheckpoint, scored)
			assert.NoDirExists(t, work, "a complete run removes its checkpoint")

			reference := filepath.Join(t.TempDir(), "reference."+format)
			code, _, stderrRef := runCLI("run", "--command", slowCommand(t), "--input", input, "--output", reference,
				"--batch-size", "100", "--executors", "2", "--checkpoint=false")
			require.Equal(t, exitOK, code, stderrRef)
			want, err := os.ReadFile(reference)
			require.NoError(t, err)
			got, err := os.ReadFile(output)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(want, got), "the resumed output is byte for byte the uninterrupted one")
		})
	}
}

func TestRunInterruptedBySIGINTExitsWith130AndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI as a child process")
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "in.csv")
	idCSV(t, input, 10_000)
	output := filepath.Join(dir, "out")
	args := []string{"run", "--command", slowCommand(t), "--input", input, "--output", output, "--batch-size", "100"}
	cmd, stderr := cliProcess(t, args...)
	work := filepath.Join(output, ".dfbatch")
	deadline := time.Now().Add(time.Minute)
	for journalLines(work) < 20 {
		require.True(t, time.Now().Before(deadline), "the run did not start: %s", stderr)
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	err := cmd.Wait()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, exitInterrupted, exit.ExitCode(), stderr.String())
	assert.Contains(t, stderr.String(), "cancelled: ")
	assert.Contains(t, stderr.String(), "checkpoint kept in "+work)
	assert.Contains(t, stderr.String(), "not done: "+input+" rows ")
	assert.NoFileExists(t, filepath.Join(output, "in.csv"))

	code, _, resumed := runCLI(append(args, "--resume")...)
	require.Equal(t, exitOK, code, resumed)
	assert.Contains(t, resumed, "resumed from the checkpoint")
}
