// Compare runs every performance comparison of dfbatch against its peers
// side by side, prints the table as it goes and writes bench/RESULTS.md.
//
//	go run ./bench/compare                      # the full run, about 10 minutes on 2 cores
//	go run ./bench/compare -quick               # a smoke test: small sizes, RESULTS.md untouched
//	go run ./bench/compare -only 'mlp|zoo'      # the comparisons whose ID matches; -out to keep them
//
// ONNX Runtime comes from $DFBATCH_ORT_LIB, else from bench/peers (run
// bench/peers/setup.sh); pandas and numpy from /usr/bin/python3 (or
// $DFBATCH_PYTHON). A peer that is missing is skipped with a line saying
// how to install it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/dfbatch/dfbatch/internal/bench"
)

func main() {
	bench.ChildMain() // the memory comparison's child and the subprocess comparison's model process exit here

	quick := flag.Bool("quick", false, "small sizes and 2 repetitions, a smoke test; writes no file unless -out is given")
	out := flag.String("out", "", "where to write the results (default bench/RESULTS.md; none with -quick or -only)")
	only := flag.String("only", "", "run only the comparisons whose ID matches this regular expression (IDs: overhead/, edges/, mlp/, scaling/, zoo/, python/, memory/, subprocess/)")
	reps := flag.Int("reps", 0, "repetitions per contender (default 9, 2 with -quick)")
	flag.Parse()
	if flag.NArg() > 0 {
		fail(2, fmt.Errorf("unexpected arguments %q", flag.Args()))
	}

	cfg := bench.FullConfig()
	if *quick {
		cfg = bench.QuickConfig()
	}
	if *reps > 0 {
		cfg.Reps = *reps
	}
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fail(2, fmt.Errorf("-only: %w", err))
		}
		cfg.Only = re
	}
	root, err := bench.RepoRoot()
	if err != nil {
		fail(1, err)
	}
	cfg.PeersDir = filepath.Join(root, "bench", "peers")
	cfg.ORTLibrary = bench.DefaultORTLibrary(cfg.PeersDir)
	cfg.Python = bench.DefaultPython()
	cfg.Command = strings.Join(append([]string{"go run ./bench/compare"}, os.Args[1:]...), " ")
	cfg.Out, cfg.Log = os.Stdout, os.Stderr
	path := *out
	if path == "" && !*quick && *only == "" {
		path = filepath.Join(root, "bench", "RESULTS.md")
		// RESULTS.md names the commit it measured: it must be that
		// commit's code.
		if commit, clean := bench.Checkout(); !clean {
			fail(2, fmt.Errorf("the working tree differs from commit %s: bench/RESULTS.md is written from a committed HEAD only; commit first, or give -out", commit))
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := bench.Compare(ctx, cfg)
	if err != nil {
		fail(1, err)
	}
	if path == "" {
		return
	}
	if gpu, err := os.ReadFile(filepath.Join(root, "bench", "RESULTS-GPU.md")); err == nil {
		res.GPU = string(gpu)
	}
	f, err := os.Create(path)
	if err != nil {
		fail(1, err)
	}
	if err := bench.WriteMarkdown(f, res); err != nil {
		fail(1, err)
	}
	if err := f.Close(); err != nil {
		fail(1, err)
	}
	fmt.Fprintf(os.Stderr, "# wrote %s\n", path)
}

func fail(code int, err error) {
	fmt.Fprintln(os.Stderr, "compare:", err)
	os.Exit(code)
}
