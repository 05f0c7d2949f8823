package mlops

import (
	"math"
	"strconv"
)

// CastFloatToString formats v as ONNX Runtime's Cast to string does, for
// float and double input alike (a float is widened first): printf's
// "%.8g", which keeps 8 significant digits as numpy prints them, and NaN,
// INF and -INF for the special values.
func CastFloatToString(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "INF"
	case math.IsInf(v, -1):
		return "-INF"
	}
	return strconv.FormatFloat(v, 'g', 8, 64)
}

// CastFloatToInt64 converts v as ONNX Runtime's Cast to int64 does on
// x86-64: it truncates toward zero, and NaN and values out of range become
// math.MinInt64, the value the conversion instruction gives for them
// (Go leaves that case to the platform).
func CastFloatToInt64(v float64) int64 {
	if v != v || v >= 1<<63 || v < -(1<<63) {
		return math.MinInt64
	}
	return int64(v)
}
