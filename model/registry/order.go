package registry

import (
	"cmp"
	"strings"
)

// compareNatural orders build and model ids as people number versions:
// runs of ASCII digits compare as numbers ("9" < "10", "v2" < "v10"), the
// rest byte by byte. Ids equal as numbers ("01", "1") fall back to byte
// order, so that the order is total and the latest build is always the
// same one.
func compareNatural(a, b string) int {
	x, y := a, b
	for x != "" && y != "" {
		var cx, cy string
		cx, x = leadingRun(x)
		cy, y = leadingRun(y)
		if c := compareRuns(cx, cy); c != 0 {
			return c
		}
	}
	// One of x, y is empty: the id with runs left is the greater.
	if c := cmp.Compare(len(x), len(y)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// leadingRun splits s after its leading run of digits or of non-digits.
func leadingRun(s string) (run, rest string) {
	n := 1
	for n < len(s) && isDigit(s[n]) == isDigit(s[0]) {
		n++
	}
	return s[:n], s[n:]
}

func compareRuns(a, b string) int {
	if !isDigit(a[0]) || !isDigit(b[0]) {
		return strings.Compare(a, b)
	}
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	// Without leading zeros, a longer number is a greater one.
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
