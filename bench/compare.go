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
	// Trees is the tree ensemble's shape; TreeRows the rows of its input.
	Trees    TreesShape
	TreeRows int
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

// TreesShape is a tree ensemble's size.
type TreesShape struct{ Trees, Depth, Features int }

// FullConfig is the published comparison's configuration, sized to run in
// about ten minutes on two cores.
func FullConfig() Config {
	return Config{
		Reps: 9, MinRep: 500 * time.Millisecond,
		OverheadRows: 1_000_000, OverheadBatch: 10_000,
		EdgesRows: 1_000_000, EdgesBatch: 10_000,
		MLPs:    [][]int{{16, 64, 64, 1}, {256, 512, 512, 1}},
		MLPRows: []int{65_536, 16_384},
		Batches: []int{1024, 8192},
		Trees:   TreesShape{Trees: 300, Depth: 6, Features: 30}, TreeRows: 65_536,
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
	c.Trees, c.TreeRows = TreesShape{Trees: 20, Depth: 4, Features: 30}, 1024
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
	// Ratio is A's throughput over B's (the median of the per-repetition
	// ratios), or the measured figure a row without a B is judged on.
	Ratio  string
	Target string
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
	for _, group := range []func(){r.overhead, r.edges, r.mlps, r.trees, r.python, r.memory, r.subprocessProtocol} {
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
	tableHeader = "| comparison | contender A | contender B | ratio A/B | target | met? |"
	tableRule   = "| --- | --- | --- | --- | --- | --- |"
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
	cells := []string{row.Comparison, row.A, row.B, row.Ratio, row.Target, row.Met}
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
	run  func(passes int) (time.Duration, error)
	// close, if set, releases what the contender holds.
	close func()
}

// timedPasses makes a contender of a function that scores its input once.
func timedPasses(name string, rows int, pass func() error) contender {
	return contender{name: name, rows: rows, run: func(passes int) (time.Duration, error) {
		start := time.Now()
		for range passes {
			if err := pass(); err != nil {
				return 0, err
			}
		}
		return time.Since(start), nil
	}}
}

// measured is what measure found: each contender's median throughput and
// the median of the per-repetition ratios A/B.
type measured struct {
	a, b, ratio float64
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
		d, err := c.run(1)
		if err != nil {
			return measured{}, fmt.Errorf("%s: %w", c.name, err)
		}
		passes[i] = 1
		if r.cfg.MinRep > 0 && d < r.cfg.MinRep {
			// The warm-up pass paid for first-call costs: time another.
			if d, err = c.run(1); err != nil {
				return measured{}, fmt.Errorf("%s: %w", c.name, err)
			}
			passes[i] = max(1, int(math.Ceil(float64(r.cfg.MinRep)/float64(max(d, time.Microsecond)))))
		}
	}
	rates := make([][]float64, len(cs))
	var ratios []float64
	for range r.cfg.Reps {
		if err := r.ctx.Err(); err != nil {
			return measured{}, err
		}
		rep := make([]float64, len(cs))
		for i, c := range cs {
			d, err := c.run(passes[i])
			if err != nil {
				return measured{}, fmt.Errorf("%s: %w", c.name, err)
			}
			rep[i] = float64(passes[i]*c.rows) / d.Seconds()
			rates[i] = append(rates[i], rep[i])
		}
		if b != nil {
			ratios = append(ratios, rep[0]/rep[1])
		}
	}
	m := measured{a: median(rates[0])}
	if b != nil {
		m.b, m.ratio = median(rates[1]), median(ratios)
	}
	return m, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// target is a comparison's goal on the ratio A/B (or on a figure).
type target struct {
	text string
	ok   func(ratio float64) bool
}

// atLeast is the target ratio >= min.
func atLeast(min float64) *target {
	return &target{text: fmt.Sprintf(">= %gx", min), ok: func(r float64) bool { return r >= min }}
}

// pair measures a against b (nil when b's peer is absent, with bSkip
// saying why) and adds the row.
func (r *runner) pair(id, comparison string, a contender, b *contender, bSkip string, t *target) {
	row := Row{ID: id, Comparison: comparison, A: a.name, Met: ""}
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
		row.Ratio, row.Met = "error", "error"
		row.A = a.name
		r.note(fmt.Sprintf("%s: %v", comparison, err))
		if b != nil {
			row.B = b.name
		}
		row.A += ": " + shortErr(err)
	case b == nil:
		row.A += ": " + rate(m.a)
		row.Ratio, row.Met = "skipped", "skipped"
	default:
		row.A += ": " + rate(m.a)
		row.B += ": " + rate(m.b)
		row.Ratio = ratioText(m.ratio)
		if t != nil {
			row.Met = yesNo(t.ok(m.ratio))
		}
	}
	r.add(row)
}

// failed adds a row for a comparison that could not be set up.
func (r *runner) failed(id, comparison, a, b string, t *target, err error) {
	row := Row{ID: id, Comparison: comparison, A: a + ": " + shortErr(err), B: b, Ratio: "error", Met: "error"}
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

// rate formats rows per second.
func rate(rowsPerS float64) string {
	switch {
	case rowsPerS >= 1e6:
		return fmt.Sprintf("%.2fM rows/s", rowsPerS/1e6)
	case rowsPerS >= 1e3:
		return fmt.Sprintf("%.1fk rows/s", rowsPerS/1e3)
	}
	return fmt.Sprintf("%.0f rows/s", rowsPerS)
}

// agree returns an error unless got and want are equal within a relative
// 1e-4 (of the larger magnitude, at least 1e-3).
func agree(got, want []float32) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d outputs, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.Abs(g-w) > 1e-4*max(math.Abs(g), math.Abs(w), 1e-3) || math.IsNaN(g) != math.IsNaN(w) {
			return fmt.Errorf("row %d: %v, want %v", i, g, w)
		}
	}
	return nil
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
