package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// events are go test -json's lines for a package with a passing, a skipped
// and a failing test, and a package without tests.
const events = `{"Time":"2026-12-03T10:00:00Z","Action":"start","Package":"example.com/a"}
{"Time":"2026-12-03T10:00:01Z","Action":"run","Package":"example.com/a","Test":"TestPass"}
{"Time":"2026-12-03T10:00:01Z","Action":"output","Package":"example.com/a","Test":"TestPass","Output":"=== RUN   TestPass\n"}
{"Time":"2026-12-03T10:00:01Z","Action":"output","Package":"example.com/a","Test":"TestPass","Output":"--- PASS: TestPass (0.00s)\n"}
{"Time":"2026-12-03T10:00:01Z","Action":"pass","Package":"example.com/a","Test":"TestPass"}
{"Time":"2026-12-03T10:00:02Z","Action":"output","Package":"example.com/a","Test":"TestORT","Output":"=== RUN   TestORT\n"}
{"Time":"2026-12-03T10:00:02Z","Action":"output","Package":"example.com/a","Test":"TestORT","Output":"    ort_test.go:29: ONNX Runtime's library is not installed\n"}
{"Time":"2026-12-03T10:00:02Z","Action":"output","Package":"example.com/a","Test":"TestORT","Output":"--- SKIP: TestORT (0.00s)\n"}
{"Time":"2026-12-03T10:00:02Z","Action":"skip","Package":"example.com/a","Test":"TestORT"}
{"Time":"2026-12-03T10:00:03Z","Action":"output","Package":"example.com/a","Test":"TestFail","Output":"=== RUN   TestFail\n"}
{"Time":"2026-12-03T10:00:03Z","Action":"output","Package":"example.com/a","Test":"TestFail","Output":"    a_test.go:9: want 1, got 2\n"}
{"Time":"2026-12-03T10:00:03Z","Action":"output","Package":"example.com/a","Test":"TestFail","Output":"--- FAIL: TestFail (0.00s)\n"}
{"Time":"2026-12-03T10:00:03Z","Action":"fail","Package":"example.com/a","Test":"TestFail"}
{"Time":"2026-12-03T10:00:03Z","Action":"output","Package":"example.com/a","Output":"FAIL\n"}
{"Time":"2026-12-03T10:00:03Z","Action":"output","Package":"example.com/a","Output":"FAIL\texample.com/a\t3.0s\n"}
{"Time":"2026-12-03T10:00:03Z","Action":"fail","Package":"example.com/a","Elapsed":3}
{"Time":"2026-12-03T10:01:05Z","Action":"output","Package":"example.com/b","Output":"?   \texample.com/b\t[no test files]\n"}
{"Time":"2026-12-03T10:01:05Z","Action":"skip","Package":"example.com/b"}
`

func TestSummaryListsSkipsWithReasonsFailuresAndDuration(t *testing.T) {
	var out strings.Builder
	s, err := summarize(strings.NewReader(events), &out)
	require.NoError(t, err)
	assert.True(t, s.failed)
	assert.Equal(t, []string{"example.com/a TestORT: ort_test.go:29: ONNX Runtime's library is not installed"}, s.skips)
	text := out.String()
	assert.Contains(t, text, "    a_test.go:9: want 1, got 2\n--- FAIL: TestFail (0.00s)\n", "a failed test's output")
	assert.Contains(t, text, "FAIL\texample.com/a\t3.0s\n")
	assert.Contains(t, text, "?   \texample.com/b\t[no test files]\n")
	assert.NotContains(t, text, "TestPass", "passing tests stay quiet, as in go test")
	assert.Contains(t, text, "1 test skipped:\n  example.com/a TestORT: ort_test.go:29: ONNX Runtime's library is not installed\n")
	assert.Contains(t, text, "tests took 1m5s\n")
}

func TestSummaryPassesWhenNothingFails(t *testing.T) {
	var out strings.Builder
	s, err := summarize(strings.NewReader(`{"Time":"2026-12-03T10:00:00Z","Action":"output","Package":"p","Output":"ok  \tp\t0.1s\n"}
{"Time":"2026-12-03T10:00:00Z","Action":"pass","Package":"p"}
`), &out)
	require.NoError(t, err)
	assert.False(t, s.failed)
	assert.Contains(t, out.String(), "0 tests skipped:")
}

func TestSummaryPrintsCompileErrors(t *testing.T) {
	var out strings.Builder
	s, err := summarize(strings.NewReader(`{"ImportPath":"p","Action":"build-output","Output":"# p\n"}
{"ImportPath":"p","Action":"build-output","Output":"p/a.go:2:12: undefined: undefined\n"}
{"ImportPath":"p","Action":"build-fail"}
{"Time":"2026-12-03T10:00:00Z","Action":"start","Package":"p"}
{"Time":"2026-12-03T10:00:00Z","Action":"output","Package":"p","Output":"FAIL\tp [build failed]\n"}
{"Time":"2026-12-03T10:00:00Z","Action":"fail","Package":"p","Elapsed":0}
`), &out)
	require.NoError(t, err)
	assert.True(t, s.failed)
	assert.Contains(t, out.String(), "# p\np/a.go:2:12: undefined: undefined\n", "the compiler's message")
}
