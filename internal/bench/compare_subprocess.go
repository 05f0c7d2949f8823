package bench

import (
	"context"
	"fmt"
	"os"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/subprocess"
)

// modelEnv, when set in a process's environment, makes ChildMain serve the
// model of that name (modelProcesses) over the subprocess protocol instead
// of running the program: the subprocess comparison re-executes its own
// binary as the model process.
const modelEnv = "DFBATCH_BENCH_MODEL"

// modelProcesses are the models a re-executed bench binary serves.
var modelProcesses = map[string]model.Model{"identity": IdentityModel}

// IdentityModel returns its input frame unchanged: the model that costs
// nothing, so that only the protocol around it shows.
var IdentityModel = model.Func(func(_ context.Context, in *frame.Frame) (*frame.Frame, error) { return in, nil })

// serveModelProcess serves the model named in modelEnv and exits if this
// process is a model process; otherwise it returns at once.
func serveModelProcess() {
	name := os.Getenv(modelEnv)
	if name == "" {
		return
	}
	m, ok := modelProcesses[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s=%q: no such bench model\n", modelEnv, name)
		os.Exit(2)
	}
	subprocess.Main(m)
}

// IdentityFrame is SumFrame(rows) with an int64 column "id" of the row
// numbers: the subprocess comparison's input.
func IdentityFrame(rows int) *frame.Frame {
	ids := make([]int64, rows)
	for i := range ids {
		ids[i] = int64(i)
	}
	f, err := SumFrame(rows).WithColumns(frame.Int64s("id", ids))
	if err != nil {
		panic(err) // a new name, the same length: cannot happen
	}
	return f
}

// checkIdentityFrame checks that out is IdentityFrame(rows): the ids in
// order and the 16 float64 columns' exact sums.
func checkIdentityFrame(out *frame.Frame, rows int) error {
	if out.NumRows() != rows || out.NumCols() != SumCols+1 {
		return fmt.Errorf("output is %d x %d, want %d x %d", out.NumRows(), out.NumCols(), rows, SumCols+1)
	}
	ids, err := out.Int64Col("id")
	if err != nil {
		return err
	}
	for i, id := range ids.Int64Values() {
		if id != int64(i) {
			return fmt.Errorf("row %d: id = %d", i, id)
		}
	}
	sums, err := SumColumns(context.Background(), out)
	if err != nil {
		return err
	}
	return checkSumFrame(sums, rows)
}

// subprocessFormats are the payload formats the subprocess comparison
// measures, with their names in the table.
var subprocessFormats = []struct {
	format subprocess.Format
	name   string
}{{subprocess.FormatArrow, "Arrow IPC"}, {subprocess.FormatCSV, "CSV"}}

// subprocessProtocol is comparison 7: the identity model in Go served by
// this binary run again as a subprocess.Command, against the same model in
// process, through the engine with the same options, for each payload
// format, batch size and executor count. Each pass is one RunFrame; the
// processes are started before timing (WarmUp) and closed after.
func (r *runner) subprocessProtocol() {
	rows := r.cfg.SubprocessRows
	type rowSpec struct {
		id               string
		format           subprocess.Format
		formatName       string
		batch, executors int
	}
	var specs []rowSpec
	for _, f := range subprocessFormats {
		for _, b := range r.cfg.SubprocessBatches {
			for _, e := range r.cfg.SubprocessExecutors {
				id := fmt.Sprintf("subprocess/%s/b%d/%s", f.format, b, executorsName(e, "-"))
				if r.selected(id) {
					specs = append(specs, rowSpec{id, f.format, f.name, b, e})
				}
			}
		}
	}
	if len(specs) == 0 {
		return
	}
	r.logf("building a %d x %d float64 + id frame", rows, SumCols)
	in := IdentityFrame(rows)
	self, err := os.Executable()
	inProcess := engine.NewClient(IdentityModel)
	for _, s := range specs {
		comparison := fmt.Sprintf("7. subprocess protocol: identity model in Go, %s, %s rows x (%d float64 + int64 id), batch %s, %s",
			s.formatName, count(rows), SumCols, count(s.batch), executorsName(s.executors, " "))
		a := fmt.Sprintf("subprocess.Command (%s), engine, %s", s.formatName, executorsName(s.executors, " "))
		b := fmt.Sprintf("the same model in process, engine, %s", executorsName(s.executors, " "))
		if err != nil {
			r.failed(s.id, comparison, a, b, nil, err)
			continue
		}
		opts := engine.Options{BatchSize: s.batch, Executors: s.executors, CPUs: 1}
		runFrame := func(client *engine.Client) func() error {
			return checkedOnce(func() (*frame.Frame, error) { return client.RunFrame(r.ctx, in, opts) },
				func(out *frame.Frame) error { return checkIdentityFrame(out, rows) })
		}
		// The processes start once, before timing: the rows measure the
		// protocol, not process start-up (about 50 ms a process here).
		sub := engine.NewClient(subprocess.Command{Args: []string{self}, Env: []string{modelEnv + "=identity"}, Format: s.format})
		if err := sub.WarmUp(r.ctx, opts); err != nil {
			r.failed(s.id, comparison, a, b, nil, err)
			continue
		}
		viaProcess := wallOnly(timedPasses(a, rows, runFrame(sub)))
		viaProcess.close = func() { sub.Close() }
		r.pair(s.id, comparison, viaProcess, ptr(timedPasses(b, rows, runFrame(inProcess))), "", nil)
	}
}

// wallOnly is c timed on wall time only: its work runs partly in child
// processes, whose CPU time this process cannot see while they live.
func wallOnly(c contender) contender {
	run := c.run
	c.run = func(passes int) (sample, error) {
		s, err := run(passes)
		s.cpu = 0
		return s, err
	}
	return c
}

// executorsName is "1 executor", "2 executors", with sep between.
func executorsName(n int, sep string) string {
	if n == 1 {
		return "1" + sep + "executor"
	}
	return fmt.Sprint(n) + sep + "executors"
}
