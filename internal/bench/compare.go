package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Config says what Compare runs and how long it measures. FullConfig is
// the published run, QuickConfig a smoke test.
type Config struct {
	// Reps is how many times each contender of a comparison is timed,
	// alternating with the other contender (A B A B ...).
	Reps int
	// MinRep is the least time one timed repetition of a contender takes:
	// a contender whose pass over its input is quicker repeats the pass
	// within the repetition. 0: one pass.
	MinRep time.Duration
	// Only, when set, keeps the comparisons whose ID it matches.
	Only *regexp.Regexp

	// OverheadRows and OverheadBatch size the engine-overhead comparison
	// (the sum model on a frame of 16 float64 columns).
	OverheadRows, OverheadBatch int
	// EdgesRows and EdgesBatch size the gota DataFrame comparison.
	EdgesRows, EdgesBatch int
	// MLPs are the dense networks' layer widths, input first; MLPRows the
	// rows of each one's input, a multiple of every batch size.
	MLPs    [][]int
	MLPRows []int
	// Batches are the batch sizes of the ONNX comparisons.
	Batches []int
	// ZooRows are the rows each zoo model scores; ZooQuick asks the zoo
	// for fewer, smaller models.
	ZooRows  int
	ZooQuick bool
	// ScalingBatch is the batch size of the executor-scaling comparison on
	// the last MLP; PythonBatch of the pandas comparisons.
	ScalingBatch, PythonBatch int
	// FileRows, FileBatch and FileExecutors size the file-to-file run.
	FileRows, FileBatch, FileExecutors int
	// MemoryLimitMiB is the file-to-file run's peak RSS target.
	MemoryLimitMiB int
	// SubprocessRows, SubprocessBatches and SubprocessExecutors size the
	// subprocess protocol comparison: every batch size with every executor
	// count, for each payload format.
	SubprocessRows                         int
	SubprocessBatches, SubprocessExecutors []int

	// ORTLibrary is ONNX Runtime's shared library; "" skips ONNX Runtime.
	ORTLibrary string
	// Python is the interpreter of the pandas peer; PeersDir holds its
	// script.
	Python, PeersDir string
	// Command is how the run was started, for the results.
	Command string
	// Out receives the table as it is measured, Log progress; nil
	// discards.
	Out, Log io.Writer
}

// FullConfig is the published comparison's configuration, sized to run in
// about ten minutes on two cores.
func FullConfig() Config {
	return Config{
		Reps: 9, MinRep: 500 * time.Millisecond,
		OverheadRows: 1_000_000, OverheadBatch: 10_000,
		EdgesRows: 1_000_000, EdgesBatch: 10_000,
		MLPs:         [][]int{{16, 64, 64, 1}, {256, 512, 512, 1}},
		MLPRows:      []int{65_536, 16_384},
		Batches:      []int{1024, 8192},
		ZooRows:      65_536,
		ScalingBatch: 1024, PythonBatch: 1024,
		FileRows: 5_000_000, FileBatch: 10_000, FileExecutors: 2, MemoryLimitMiB: 400,
		SubprocessRows: 200_000, SubprocessBatches: []int{10_000, 100_000}, SubprocessExecutors: []int{1, 2},
	}
}

// QuickConfig is FullConfig shrunk to a smoke test of a few seconds: the
// same comparisons on small inputs and small models, timed twice.
func QuickConfig() Config {
	c := FullConfig()
	c.Reps, c.MinRep = 2, 0
	c.OverheadRows, c.OverheadBatch = 20_000, 1_000
	c.EdgesRows, c.EdgesBatch = 20_000, 1_000
	c.MLPs, c.MLPRows = [][]int{{16, 64, 64, 1}, {64, 128, 128, 1}}, []int{1024, 512}
	c.Batches = []int{128, 256}
	c.ZooRows, c.ZooQuick = 1024, true
	c.ScalingBatch, c.PythonBatch = 128, 128
	c.FileRows, c.FileBatch = 20_000, 1_000
	c.SubprocessRows, c.SubprocessBatches = 20_000, []int{1_000, 10_000}
	return c
}

// Row is one line of the results table: contender A against contender B.
type Row struct {
	// ID names the comparison for Config.Only: "mlp/16-64-64-1/b1024/1-thread".
	ID         string
	Comparison string
	// A and B describe the contenders and what they measured.
	A, B string
	// Ratio is A's throughput per CPU second over B's (the median of the
	// per-repetition ratios, and their range), or the measured figure a
	// row without a B is judged on; WallRatio the same per wall second.
	Ratio, WallRatio string
	Target           string
	// Met is "yes", "no", "" for a row without a target, "skipped" when a
	// contender is not installed, or "error".
	Met string
}

// Results is what Compare measured, and on what.
type Results struct {
	Env  Env
	Rows []Row
	// Notes are the lines about skipped peers and errors.
	Notes []string
	// GPU is the GPU comparison's section, measured by its own command
	// (go run -tags cuda ./bench/gpu) on a machine with a GPU; "" for none.
	GPU string
}

// installHint is how to get the peers that are skipped when absent.
const installHint = "run bench/peers/setup.sh"

// Compare runs the comparisons cfg selects, printing each row to cfg.Out as
// soon as it is measured, and returns them all.
func Compare(ctx context.Context, cfg Config) (*Results, error) {
	if cfg.Reps < 1 {
		return nil, fmt.Errorf("Config.Reps is %d; at least 1", cfg.Reps)
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	tmp, err := os.MkdirTemp("", "dfbatch-compare-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	start := time.Now()
	r := &runner{cfg: cfg, ctx: ctx, tmp: tmp, res: &Results{Env: readEnv(cfg)}}
	r.initPeers()
	fmt.Fprintf(cfg.Out, "%s\n%s\n", tableHeader, tableRule)
	for _, group := range []func(){r.overhead, r.edges, r.mlps, r.zoo, r.python, r.memory, r.subprocessProtocol} {
		if err := ctx.Err(); err != nil {
			return r.res, err
		}
		group()
	}
	r.closeModels()
	r.res.Env.Duration = time.Since(start)
	r.res.Env.LoadEnd = loadAverage()
	return r.res, ctx.Err()
}

const (
	tableHeader = "| comparison | contender A | contender B | A/B per CPU-second: median (range) | A/B per wall second: median (range) | target | met? |"
	tableRule   = "| --- | --- | --- | --- | --- | --- | --- |"
)

// runner holds one Compare run's state.
type runner struct {
	cfg Config
	ctx context.Context
	tmp string
	res *Results
	// ortSkip says why ONNX Runtime is not compared, "" when it is.
	ortSkip string
	// pythonSkip says why the pandas peer is not compared.
	pythonSkip string
	mlpCases   []*modelCase
	closers    []func()
}

func (r *runner) logf(format string, args ...any) {
	elapsed := time.Since(r.res.Env.Started).Round(time.Second)
	fmt.Fprintf(r.cfg.Log, "# [%s] "+format+"\n", append([]any{elapsed}, args...)...)
}

// note records a line about a skipped peer or an error, once.
func (r *runner) note(line string) {
	if !slices.Contains(r.res.Notes, line) {
		r.res.Notes = append(r.res.Notes, line)
		r.logf("%s", line)
	}
}

// selected tells whether Config.Only keeps the comparison id.
func (r *runner) selected(id string) bool {
	return r.cfg.Only == nil || r.cfg.Only.MatchString(id)
}

// anySelected tells whether Config.Only keeps any of ids, so that a group
// skips its set-up when none of its rows runs.
func (r *runner) anySelected(ids ...string) bool {
	return slices.ContainsFunc(ids, r.selected)
}

// add records a row and prints it.
func (r *runner) add(row Row) {
	r.res.Rows = append(r.res.Rows, row)
	fmt.Fprintln(r.cfg.Out, row.markdown())
}

func (row Row) markdown() string {
	cells := []string{row.Comparison, row.A, row.B, row.Ratio, row.WallRatio, row.Target, row.Met}
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(c, "|", `\|`)
	}
	return "| " + strings.Join(cells, " | ") + " |"
}

func (r *runner) initPeers() {
	switch lib := r.cfg.ORTLibrary; {
	case lib == "":
		r.ortSkip = "ONNX Runtime not installed: " + installHint + " (or set $DFBATCH_ORT_LIB to libonnxruntime.so)"
	default:
		if _, err := os.Stat(lib); err != nil {
			r.ortSkip = fmt.Sprintf("ONNX Runtime not installed (%v): %s", err, installHint)
			break
		}
		version, err := initORT(lib)
		if err != nil {
			r.ortSkip = fmt.Sprintf("ONNX Runtime unusable: %v", err)
			break
		}
		r.res.Env.ORTVersion, r.res.Env.ORTLibrary = version, lib
	}
	if r.ortSkip != "" {
		r.note(r.ortSkip)
	}
	info, err := probePython(r.ctx, r.cfg.Python)
	if err != nil {
		r.pythonSkip = err.Error()
		r.note(r.pythonSkip)
		return
	}
	r.res.Env.Python = info
}

func (r *runner) closeModels() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	r.closers = nil
}

// contender is one side of a comparison: run times passes passes over an
// input of rows rows.
type contender struct {
	name string
	rows int
	run  func(passes int) (sample, error)
	// close, if set, releases what the contender holds.
	close func()
}

// sample is what one timed repetition took: wall time, and the CPU time
// (user and system, all threads) of the process that did the work; cpu is
// 0 when it could not be measured (a model in child processes).
type sample struct {
	wall, cpu time.Duration
}

// timedPasses makes a contender of a function that scores its input once,
// in this process. Each repetition ends with a garbage collection, timed:
// a contender pays for the garbage it made rather than leaving it to the
// next one.
func timedPasses(name string, rows int, pass func() error) contender {
	return contender{name: name, rows: rows, run: func(passes int) (sample, error) {
		cpu0, start := processCPU(), time.Now()
		for range passes {
			if err := pass(); err != nil {
				return sample{}, err
			}
		}
		runtime.GC()
		return sample{wall: time.Since(start), cpu: processCPU() - cpu0}, nil
	}}
}

// processCPU is the CPU time this process has used, all threads, user and
// system.
func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// measured is what measure found: each contender's median throughput,
// per wall second and per CPU second, and the per-repetition ratios A/B of
// each, summarised.
type measured struct {
	a, b                throughput
	wallRatio, cpuRatio spread
}

// throughput is a contender's median rows per wall second and per CPU
// second (0: not measured).
type throughput struct{ wall, cpu float64 }

// spread is the median, least and greatest of a set of ratios; n is 0 when
// there were none.
type spread struct {
	median, min, max float64
	n                int
}

func spreadOf(v []float64) spread {
	if len(v) == 0 {
		return spread{}
	}
	return spread{median: median(v), min: slices.Min(v), max: slices.Max(v), n: len(v)}
}

// measure warms both contenders up, picks each one's passes per
// repetition, then times them in turn, A B A B ..., Config.Reps times
// each. b may be nil: then A alone is timed.
func (r *runner) measure(a contender, b *contender) (measured, error) {
	cs := []*contender{&a}
	if b != nil {
		cs = append(cs, b)
	}
	passes := make([]int, len(cs))
	for i, c := range cs {
		r.logf("warming up %s", c.name)
		s, err := c.run(1)
		if err != nil {
			return measured{}, fmt.Errorf("%s: %w", c.name, err)
		}
		passes[i] = 1
		if r.cfg.MinRep > 0 && s.wall < r.cfg.MinRep {
			// The warm-up pass paid for first-call costs: time another.
			if s, err = c.run(1); err != nil {
				return measured{}, fmt.Errorf("%s: %w", c.name, err)
			}
			passes[i] = max(1, int(math.Ceil(float64(r.cfg.MinRep)/float64(max(s.wall, time.Microsecond)))))
		}
	}
	wall := make([][]float64, len(cs))
	cpu := make([][]float64, len(cs))
	var wallRatios, cpuRatios []float64
	for range r.cfg.Reps {
		if err := r.ctx.Err(); err != nil {
			return measured{}, err
		}
		rep := make([]throughput, len(cs))
		for i, c := range cs {
			s, err := c.run(passes[i])
			if err != nil {
				return measured{}, fmt.Errorf("%s: %w", c.name, err)
			}
			rows := float64(passes[i] * c.rows)
			rep[i].wall = rows / s.wall.Seconds()
			wall[i] = append(wall[i], rep[i].wall)
			if s.cpu > 0 {
				rep[i].cpu = rows / s.cpu.Seconds()
				cpu[i] = append(cpu[i], rep[i].cpu)
			}
		}
		if b != nil {
			wallRatios = append(wallRatios, rep[0].wall/rep[1].wall)
			if rep[0].cpu > 0 && rep[1].cpu > 0 {
				cpuRatios = append(cpuRatios, rep[0].cpu/rep[1].cpu)
			}
		}
	}
	m := measured{a: medians(wall[0], cpu[0]), wallRatio: spreadOf(wallRatios), cpuRatio: spreadOf(cpuRatios)}
	if b != nil {
		m.b = medians(wall[1], cpu[1])
	}
	return m, nil
}

// medians is the throughput of the median repetitions.
func medians(wall, cpu []float64) throughput {
	t := throughput{wall: median(wall)}
	if len(cpu) > 0 {
		t.cpu = median(cpu)
	}
	return t
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// target is a comparison's goal on a ratio A/B (or on a figure): per CPU
// second unless wall says it is on wall time.
type target struct {
	text string
	wall bool
	ok   func(ratio float64) bool
}

// atLeast is the target ratio >= min per CPU second.
func atLeast(min float64) *target {
	return &target{text: fmt.Sprintf(">= %gx per CPU-s", min), ok: func(r float64) bool { return r >= min }}
}

// atLeastWall is the target ratio >= min on wall time.
func atLeastWall(min float64) *target {
	return &target{text: fmt.Sprintf(">= %gx wall", min), wall: true, ok: func(r float64) bool { return r >= min }}
}

// pair measures a against b (nil when b's peer is absent, with bSkip
// saying why) and adds the row.
func (r *runner) pair(id, comparison string, a contender, b *contender, bSkip string, t *target) {
	row := Row{ID: id, Comparison: comparison, A: a.name}
	if t != nil {
		row.Target = t.text
	}
	if b != nil {
		row.B = b.name
	} else {
		row.B = bSkip
	}
	r.logf("measuring %s", comparison)
	m, err := r.measure(a, b)
	for _, c := range []*contender{&a, b} {
		if c != nil && c.close != nil {
			c.close()
		}
	}
	switch {
	case err != nil:
		row.Ratio, row.WallRatio, row.Met = "error", "error", "error"
		r.note(fmt.Sprintf("%s: %v", comparison, err))
		row.A += ": " + shortErr(err)
	case b == nil:
		row.A += ": " + m.a.String()
		row.Ratio, row.WallRatio, row.Met = "skipped", "skipped", "skipped"
	default:
		row.A += ": " + m.a.String()
		row.B += ": " + m.b.String()
		row.Ratio, row.WallRatio = m.cpuRatio.String(), m.wallRatio.String()
		judged := m.cpuRatio
		if t != nil && t.wall {
			judged = m.wallRatio
		}
		if t != nil && judged.n > 0 {
			row.Met = yesNo(t.ok(judged.median))
		}
	}
	r.add(row)
}

// String formats a throughput: rows per second and per CPU second.
func (t throughput) String() string {
	s := rate(t.wall) + "/s"
	if t.cpu > 0 {
		s += ", " + rate(t.cpu) + "/CPU-s"
	}
	return s
}

// String formats a ratio's median and range: "1.23x (1.10-1.31)".
func (s spread) String() string {
	if s.n == 0 {
		return "n/a"
	}
	if s.n == 1 {
		return ratioText(s.median)
	}
	return fmt.Sprintf("%s (%s-%s)", ratioText(s.median), strings.TrimSuffix(ratioText(s.min), "x"), strings.TrimSuffix(ratioText(s.max), "x"))
}

// failed adds a row for a comparison that could not be set up.
func (r *runner) failed(id, comparison, a, b string, t *target, err error) {
	row := Row{ID: id, Comparison: comparison, A: a + ": " + shortErr(err), B: b, Ratio: "error", WallRatio: "error", Met: "error"}
	if t != nil {
		row.Target = t.text
	}
	r.note(fmt.Sprintf("%s: %v", comparison, err))
	r.add(row)
}

// shortErr is err's message cut to fit a table cell.
func shortErr(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return "error: " + s
}

// ratioText formats a ratio A/B: two decimals, or two significant digits
// below 0.1 (0.061x, 0.0073x), where two decimals would say little.
func ratioText(x float64) string {
	if x < 0.1 {
		return fmt.Sprintf("%.2gx", x)
	}
	return fmt.Sprintf("%.2fx", x)
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

// rate formats a number of rows: "12.3M rows", per second or CPU second
// where the caller says.
func rate(rows float64) string {
	switch {
	case rows >= 1e6:
		return fmt.Sprintf("%.2fM rows", rows/1e6)
	case rows >= 1e3:
		return fmt.Sprintf("%.1fk rows", rows/1e3)
	}
	return fmt.Sprintf("%.0f rows", rows)
}

// agreeOutputs returns an error unless got and want agree on every output
// of spec: float values within a relative tol of the larger magnitude, or
// of a hundredth of the output's largest (values near zero, where float32
// and float64 arithmetic differ most), NaN where NaN; labels equal, but for
// rows where want's probabilities (spec's first output of several float
// columns) of the two labels are within tol, a tie either runner may break.
func agreeOutputs(spec *modelSpec, got, want []outputValues, tol float64) error {
	proba := slices.IndexFunc(spec.outputs, func(o outputSpec) bool { return !o.int64 && o.width > 1 })
	for i, o := range spec.outputs {
		g, w := got[i], want[i]
		if len(g.f32) != len(w.f32) || len(g.i64) != len(w.i64) {
			return fmt.Errorf("output %q: %d values, want %d", o.name, len(g.f32)+len(g.i64), len(w.f32)+len(w.i64))
		}
		width, floor := max(o.width, 1), largest(w.f32)/100
		for k := range g.f32 {
			if !closeEnough(float64(g.f32[k]), float64(w.f32[k]), tol, floor) {
				return fmt.Errorf("output %q, row %d, column %d: %v, want %v", o.name, k/width, k%width, g.f32[k], w.f32[k])
			}
		}
		for row := range g.i64 {
			gl, wl := g.i64[row], w.i64[row]
			if gl == wl || proba >= 0 && tie(want[proba].f32, spec.outputs[proba].width, row, gl, wl, tol) {
				continue
			}
			return fmt.Errorf("output %q, row %d: label %d, want %d", o.name, row, gl, wl)
		}
	}
	return nil
}

// largest is the largest magnitude of v's numbers.
func largest(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		if !math.IsNaN(float64(x)) {
			m = max(m, math.Abs(float64(x)))
		}
	}
	return m
}

// closeEnough says that g and w are equal within tol relative to the
// larger of their magnitudes and floor, or both NaN.
func closeEnough(g, w, tol, floor float64) bool {
	if math.IsNaN(g) || math.IsNaN(w) {
		return math.IsNaN(g) == math.IsNaN(w)
	}
	return math.Abs(g-w) <= tol*max(math.Abs(g), math.Abs(w), floor)
}

// tie says that classes a and b (labels 0..width-1 as indices) have
// probabilities within tol of each other in row row of proba.
func tie(proba []float32, width, row int, a, b int64, tol float64) bool {
	if a < 0 || b < 0 || int(a) >= width || int(b) >= width {
		return false
	}
	pa, pb := float64(proba[row*width+int(a)]), float64(proba[row*width+int(b)])
	return closeEnough(pa, pb, tol, 0)
}

// DefaultORTLibrary is the ONNX Runtime library Compare uses: the path in
// $DFBATCH_ORT_LIB, else the one bench/peers/setup.sh installs under
// peersDir, else "" (not installed).
func DefaultORTLibrary(peersDir string) string {
	if lib := os.Getenv("DFBATCH_ORT_LIB"); lib != "" {
		return lib
	}
	lib := filepath.Join(peersDir, "node_modules", "onnxruntime-node", "bin", "napi-v6", runtime.GOOS, ortArch(), "libonnxruntime.so.1")
	if _, err := os.Stat(lib); err == nil {
		return lib
	}
	return ""
}

func ortArch() string {
	if runtime.GOARCH == "amd64" {
		return "x64"
	}
	return runtime.GOARCH
}

// DefaultPython is the pandas peer's interpreter: $DFBATCH_PYTHON, else
// /usr/bin/python3 (Debian's, with python3-numpy and python3-pandas).
func DefaultPython() string {
	if p := os.Getenv("DFBATCH_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}

// RepoRoot is the root of the dfbatch module containing the working
// directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/dfbatch/dfbatch\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the dfbatch module: run from its working tree")
		}
		dir = parent
	}
}
