package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the memory comparison re-execute the test binary as its
// file-run child, and the subprocess comparison as its model process.
func TestMain(m *testing.M) {
	ChildMain()
	os.Exit(m.Run())
}

// tinyConfig is QuickConfig shrunk further, for a test: every comparison,
// a fraction of a second each, no timing asserted.
func tinyConfig(t *testing.T) Config {
	t.Helper()
	root, err := RepoRoot()
	require.NoError(t, err)
	c := QuickConfig()
	c.Reps, c.MinRep = 1, 0
	c.OverheadRows, c.OverheadBatch = 2_000, 200
	c.EdgesRows, c.EdgesBatch = 2_000, 200
	c.MLPs, c.MLPRows = [][]int{{8, 16, 16, 1}, {16, 32, 32, 1}}, []int{256, 128}
	c.Batches = []int{32, 64}
	c.ScalingBatch, c.PythonBatch = 32, 64
	c.FileRows, c.FileBatch = 2_000, 200
	c.SubprocessRows, c.SubprocessBatches = 2_000, []int{200, 1_000}
	c.PeersDir = filepath.Join(root, "bench", "peers")
	c.ORTLibrary = DefaultORTLibrary(c.PeersDir)
	c.Python = DefaultPython()
	c.Command = "go test ./internal/bench/"
	return c
}

// groups are the comparisons' ID prefixes: every one must have rows.
var groups = []string{"overhead/", "edges/", "mlp/", "scaling/", "zoo/", "python/", "memory/", "subprocess/"}

func TestCompareRunsEveryComparison(t *testing.T) {
	cfg := tinyConfig(t)
	var out bytes.Buffer
	cfg.Out = &out
	res, err := Compare(context.Background(), cfg)
	require.NoError(t, err)

	for _, g := range groups {
		assert.True(t, hasRow(res, g), "no row for %s", g)
	}
	for _, row := range res.Rows {
		assert.NotEqual(t, "error", row.Met, "%s: %s", row.ID, row.A)
		for _, cell := range []string{row.Comparison, row.A, row.B, row.Ratio} {
			assert.NotEmpty(t, cell, "row %s has an empty cell", row.ID)
		}
		switch {
		case row.Met == "skipped":
			assert.Contains(t, row.B, "bench/peers/setup.sh", "a skipped row says how to install the peer")
		case row.Target != "":
			assert.Contains(t, []string{"yes", "no"}, row.Met, row.ID)
		}
		assert.Contains(t, out.String(), row.markdown(), "row %s is printed as it is measured", row.ID)
	}
	if cfg.ORTLibrary == "" {
		assert.Contains(t, strings.Join(res.Notes, "\n"), "ONNX Runtime not installed: run bench/peers/setup.sh")
	}

	var md bytes.Buffer
	require.NoError(t, WriteMarkdown(&md, res))
	for _, want := range []string{"## Machine and versions", res.Env.CPU, "`go test ./internal/bench/`", tableHeader, "## How to read the table"} {
		assert.Contains(t, md.String(), want)
	}
	for _, row := range res.Rows {
		assert.Contains(t, md.String(), row.markdown())
	}
}

func TestCompareSkipsAbsentPeers(t *testing.T) {
	cfg := tinyConfig(t)
	cfg.ORTLibrary, cfg.Python = "", filepath.Join(t.TempDir(), "no-python")
	cfg.Only = regexp.MustCompile(`^(mlp/8-16-16-1/b32/1-thread|python/)`)
	res, err := Compare(context.Background(), cfg)
	require.NoError(t, err)
	require.Len(t, res.Rows, 3, "the selected rows")
	for _, row := range res.Rows {
		assert.Equal(t, "skipped", row.Met, row.ID)
		assert.Contains(t, row.B, "bench/peers/setup.sh", row.ID)
	}
	assert.Contains(t, res.Rows[0].A, "rows/s", "dfbatch's side is still measured")
	notes := strings.Join(res.Notes, "\n")
	assert.Contains(t, notes, "ONNX Runtime not installed")
	assert.Contains(t, notes, "python3-pandas")
}

func TestTinyModelsMatchTheirPlainGoReference(t *testing.T) {
	// The ONNX files the comparisons build score as the plain Go code
	// says they do: the check Compare runs without ONNX Runtime.
	cfg := tinyConfig(t)
	cfg.ORTLibrary = ""
	cfg.Only = regexp.MustCompile(`^mlp/`)
	res, err := Compare(context.Background(), cfg)
	require.NoError(t, err)
	assert.Empty(t, filterNotes(res.Notes, "disagree"))
}

func hasRow(res *Results, prefix string) bool {
	for _, r := range res.Rows {
		if strings.HasPrefix(r.ID, prefix) {
			return true
		}
	}
	return false
}

func filterNotes(notes []string, word string) []string {
	var out []string
	for _, n := range notes {
		if strings.Contains(n, word) {
			out = append(out, n)
		}
	}
	return out
}
