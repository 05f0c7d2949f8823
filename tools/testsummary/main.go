// Testsummary reads `go test -json` on its standard input and prints what a
// plain `go test` prints (each package's ok, FAIL or "no test files" line,
// and the output of failed tests), then every skipped test with the reason
// it gave, and how long the whole command took. It exits 1 when a test or a
// package failed, so that it can stand in for go test in a script:
//
//	go test -race -json ./... | go run ./tools/testsummary
//
// Skips are easy to miss in go test's output, and without ONNX Runtime,
// Python or the interop writers many tests skip (see README.md).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json's TestEvent).
type event struct {
	Time    time.Time
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

// summary is what summarize found.
type summary struct {
	skips  []string // "package TestName: reason"
	failed bool
	start  time.Time
	end    time.Time
}

func main() {
	s, err := summarize(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if s.failed {
		os.Exit(1)
	}
}

// summarize copies the package lines and failed tests' output of the
// events in r to w, then the skips and the duration.
func summarize(r io.Reader, w io.Writer) (summary, error) {
	var s summary
	output := map[string][]string{} // package + test -> its output lines
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			// go test writes build errors as plain text.
			fmt.Fprintln(w, string(line))
			s.failed = s.failed || strings.Contains(string(line), "FAIL")
			continue
		}
		if !e.Time.IsZero() && (s.start.IsZero() || e.Time.Before(s.start)) {
			s.start = e.Time
		}
		if e.Time.After(s.end) {
			s.end = e.Time
		}
		key := e.Package + " " + e.Test
		switch {
		case e.Action == "output" && e.Test == "":
			if isPackageLine(e.Output) {
				fmt.Fprint(w, e.Output)
			}
		case e.Action == "output":
			output[key] = append(output[key], e.Output)
		case e.Action == "skip" && e.Test != "":
			s.skips = append(s.skips, e.Package+" "+e.Test+": "+skipReason(output[key]))
		case e.Action == "build-output": // a compile error, before the package's tests
			fmt.Fprint(w, e.Output)
		case e.Action == "build-fail":
			s.failed = true
		case e.Action == "fail":
			s.failed = true
			fmt.Fprint(w, strings.Join(output[key], ""))
		}
		if e.Action == "pass" || e.Action == "skip" || e.Action == "fail" {
			delete(output, key)
		}
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	noun := "tests"
	if len(s.skips) == 1 {
		noun = "test"
	}
	fmt.Fprintf(w, "\n%d %s skipped:\n", len(s.skips), noun)
	for _, skip := range s.skips {
		fmt.Fprintln(w, "  "+skip)
	}
	fmt.Fprintf(w, "tests took %s\n", s.end.Sub(s.start).Round(time.Second))
	return s, nil
}

// isPackageLine says a package-level output line is go test's summary of
// the package (ok, FAIL, no test files) or a panic outside any test.
func isPackageLine(out string) bool {
	for _, prefix := range []string{"ok ", "FAIL", "?", "panic:", "---"} {
		if strings.HasPrefix(out, prefix) {
			return true
		}
	}
	return false
}

// skipReason is the message a skipped test logged: its output without the
// RUN, PAUSE, CONT and SKIP lines, on one line.
func skipReason(lines []string) string {
	var reason []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		reason = append(reason, t)
	}
	if len(reason) == 0 {
		return "(no reason given)"
	}
	return strings.Join(reason, " ")
}
