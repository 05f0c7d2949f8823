package vecmath

import "math"

// The Go implementation: the kernels' algorithm (see gen_kernels.go) one
// value at a time, with branches where the kernels blend both ways.

func exp(x float32) float32 {
	return expCore(max(min(x, expMax), expMin), true)
}

// expCore is e^x for x in [expMin, expMax] or NaN: x = n ln2 + r, e^r a
// polynomial of r, 2^n in the exponent bits, in two factors when split so
// that subnormal results are one rounding of the exact scaling.
func expCore(x float32, split bool) float32 {
	t := x*log2e + roundMagic
	n := t - roundMagic
	ni := int32(math.Float32bits(t) - math.Float32bits(roundMagic))
	r := x - n*expC1
	r -= n * expC2
	p := ((((expP0*r+expP1)*r+expP2)*r+expP3)*r+expP4)*r + expP5
	p = p*(r*r) + r + one
	if split {
		half := ni >> 1
		p *= pow2(half)
		ni -= half
	}
	return p * pow2(ni)
}

// pow2 is 2^n for n in [-126, 127].
func pow2(n int32) float32 {
	return math.Float32frombits(uint32(n+int32(exponentBias)) << 23)
}

func tanh(x float32) float32 {
	if abs(x) < tanhTiny {
		return x
	}
	t := max(min(x, tanhMax), tanhMin)
	z := t * t
	p := (((((tanhP0*z+tanhP1)*z+tanhP2)*z+tanhP3)*z+tanhP4)*z+tanhP5)*z + tanhP6
	q := ((tanhQ0*z+tanhQ1)*z+tanhQ2)*z + tanhQ3
	return max(min(p*t/q, one), minusOne)
}

func sigmoid(x float32) float32 {
	e := expCore(max(-abs(x), expMin), true)
	if x < 0 {
		return e / (e + one)
	}
	return one / (e + one)
}

func log(x float32) float32 {
	switch {
	case !(x < float32(math.Inf(1))):
		return x // +Inf or NaN
	case x < 0:
		return math.Float32frombits(nan)
	case x == 0:
		return float32(math.Inf(-1))
	}
	var scaled float32
	if x < minNormal {
		x *= two23
		scaled = minus23
	}
	bits := math.Float32bits(x)
	e := float32(int32(bits>>23)-int32(exponent126)) + scaled
	m := math.Float32frombits(bits&mantissaMask | halfBits)
	if m < sqrtHalf {
		e--
		m += m - one
	} else {
		m -= one
	}
	z := m * m
	y := ((((((((logP0*m+logP1)*m+logP2)*m+logP3)*m+logP4)*m+logP5)*m+logP6)*m+logP7)*m + logP8) * m * z
	y += e * expC2
	y += z * minusHalf
	y += m
	return y + e*expC1
}

func erf(x float32) float32 {
	a := abs(x)
	if a <= erfSplit {
		s := x * x
		p := ((((erfSmallP0*s+erfSmallP1)*s+erfSmallP2)*s+erfSmallP3)*s+erfSmallP4)*s + erfSmallP5
		return p*x + x
	}
	t := min(a, erfMax)
	q := (((((erfBigP0*t+erfBigP1)*t+erfBigP2)*t+erfBigP3)*t+erfBigP4)*t+erfBigP5)*t + erfBigP6
	return copySign(one-expCore(-(q*t+t), false), x)
}

func abs(x float32) float32 {
	return math.Float32frombits(math.Float32bits(x) & absMask)
}

// copySign is |v| with the sign of x, for v >= 0.
func copySign(v, x float32) float32 {
	return math.Float32frombits(math.Float32bits(v) | math.Float32bits(x)&signMask)
}
