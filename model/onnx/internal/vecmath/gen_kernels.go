//go:build ignore

// gen_kernels writes kernel_amd64.s, the AVX2+FMA kernels of the package's
// functions, and constants.go, the coefficients they share with the
// portable Go code, so that both run one algorithm on one set of numbers.
// The elementwise kernels take whole vectors of 8 (the caller handles the
// tail); those of SoftmaxRows and ArgMaxRows take rows of up to 16 values.
// Run it with go generate.
package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// constant is a coefficient or bit pattern the kernels read, broadcast to
// a whole vector in the assembly and a typed constant in Go.
type constant struct {
	name  string
	value float32 // when !isBits
	bits  uint32  // when isBits
	// isBits marks an integer or mask pattern rather than a float32.
	isBits bool
	doc    string
}

func f(name string, v float64, doc string) constant {
	return constant{name: name, value: float32(v), doc: doc}
}

func b(name string, bits uint32, doc string) constant {
	return constant{name: name, bits: bits, isBits: true, doc: doc}
}

// constants are the numbers of the algorithms. The polynomials are
// Cephes' expf and logf (S. L. Moshier), and the rational tanh (from
// Eigen) and erff (N. Juffa's) that ONNX Runtime's MLAS uses.
var constants = []constant{
	f("one", 1, "1"),
	f("minusOne", -1, "-1"),
	b("signMask", 0x80000000, "the sign bit"),
	b("absMask", 0x7fffffff, "all but the sign bit"),

	f("expMax", 89, "above ln(MaxFloat32): e^x is +Inf from here"),
	f("expMin", -104, "below ln(2^-150): e^x rounds to 0 from here"),
	f("log2e", math.Log2E, "log2(e)"),
	f("roundMagic", 12582912, "1.5 * 2^23: adding it rounds to an integer, held in the low mantissa bits"),
	f("expC1", 0.693359375, "ln 2 = expC1 + expC2, expC1 with few mantissa bits so n*expC1 is exact"),
	f("expC2", -2.12194440e-4, "ln 2 - expC1"),
	f("expP0", 1.9875691500e-4, "e^r = 1 + r + r^2 (((((expP0 r + expP1) r + expP2) r + expP3) r + expP4) r + expP5)"),
	f("expP1", 1.3981999507e-3, ""),
	f("expP2", 8.3334519073e-3, ""),
	f("expP3", 4.1665795894e-2, ""),
	f("expP4", 1.6666665459e-1, ""),
	f("expP5", 5.0000001201e-1, ""),
	b("exponentBias", 127, "the float32 exponent bias"),

	f("tanhTiny", 0.0004, "below it tanh(x) is x"),
	f("tanhMax", 9, "tanh(x) rounds to 1 from 9.02, and the rational function is 1 at 9"),
	f("tanhMin", -9, "-tanhMax"),
	f("tanhP0", -2.76076847742355e-16, "tanh(x) = x P(x^2) / Q(x^2) on [-9, 9], P's coefficients highest first"),
	f("tanhP1", 2.00018790482477e-13, ""),
	f("tanhP2", -8.60467152213735e-11, ""),
	f("tanhP3", 5.12229709037114e-08, ""),
	f("tanhP4", 1.48572235717979e-05, ""),
	f("tanhP5", 6.37261928875436e-04, ""),
	f("tanhP6", 4.89352455891786e-03, ""),
	f("tanhQ0", 1.19825839466702e-06, "Q's coefficients, highest first"),
	f("tanhQ1", 1.18534705686654e-04, ""),
	f("tanhQ2", 2.26843463243900e-03, ""),
	f("tanhQ3", 4.89352518554385e-03, ""),

	f("minNormal", 0x1p-126, "the smallest normal float32"),
	f("two23", 0x1p23, "scales a subnormal to a normal"),
	f("minus23", -23, "the exponent the scaling adds"),
	b("exponent126", 126, "the exponent bias less one: mantissas are taken in [0.5, 1)"),
	b("mantissaMask", 0x007fffff, "the mantissa bits"),
	b("halfBits", 0x3f000000, "the bits of 0.5"),
	f("sqrtHalf", 0.707106781186547524, "sqrt(0.5): mantissas below it are doubled"),
	f("logP0", 7.0376836292e-2, "log(1+m) = m - m^2/2 + m^3 P(m), P's coefficients logP0 (highest) to logP8"),
	f("logP1", -1.1514610310e-1, ""),
	f("logP2", 1.1676998740e-1, ""),
	f("logP3", -1.2420140846e-1, ""),
	f("logP4", 1.4249322787e-1, ""),
	f("logP5", -1.6668057665e-1, ""),
	f("logP6", 2.0000714765e-1, ""),
	f("logP7", -2.4999993993e-1, ""),
	f("logP8", 3.3333331174e-1, ""),
	f("minusHalf", -0.5, "-1/2"),
	f("inf", math.Inf(1), "+Inf"),
	f("negInf", math.Inf(-1), "-Inf"),
	b("nan", 0x7fc00000, "the quiet NaN of the logarithm of a negative number"),

	f("erfSplit", 0.921875, "up to it erf is x + x P(x^2), above it 1 - e^-(t + t Q(t)), t = |x|"),
	f("erfMax", 3.925, "erf(3.925) rounds to 1"),
	f("erfSmallP0", -5.99104969e-4, "P's coefficients, highest first"),
	f("erfSmallP1", 4.99339588e-3, ""),
	f("erfSmallP2", -2.67667342e-2, ""),
	f("erfSmallP3", 1.12818025e-1, ""),
	f("erfSmallP4", -3.76124859e-1, ""),
	f("erfSmallP5", 1.28379151e-1, ""),
	f("erfBigP0", 1.72948930e-5, "Q's coefficients, highest first"),
	f("erfBigP1", -3.83208680e-4, ""),
	f("erfBigP2", 3.88393435e-3, ""),
	f("erfBigP3", -2.42545605e-2, ""),
	f("erfBigP4", 1.06777847e-1, ""),
	f("erfBigP5", 6.34846687e-1, ""),
	f("erfBigP6", 1.28717512e-1, ""),
}

// gen writes assembly. A kernel that runs two blocks of 8 at a time
// writes its body twice, the second copy with its registers moved up by
// shift and its mask to the other mask register, and interleaves the two.
type gen struct {
	strings.Builder
	shift, maskShift int
}

func (g *gen) op(format string, args ...any) { fmt.Fprintf(g, "\t"+format+"\n", args...) }
func (g *gen) line(s string)                 { g.WriteString(s + "\n") }

// v names vector register i: zero, the masks, or a body's register i,
// moved up by shift.
func (g *gen) v(i int) string {
	if i < zero {
		i += g.shift
	}
	return fmt.Sprintf("Y%d", i)
}

// c is the memory operand of a constant vector.
func c(name string) string { return name + "<>(SB)" }

// zero is the register kept at 0 through a kernel.
const zero = 13

// mask names mask register i: Y14 or Y15.
func (g *gen) mask(i int) string { return g.v(14 + i + g.maskShift) }

// logic is the bitwise instruction op (AND, OR, XOR).
func (g *gen) logic(op string) string { return "VP" + op }

func (g *gen) load(dst int, src string) { g.op("VMOVUPS %s, %s", src, g.v(dst)) }

// binary writes dst = a op b; b may be a constant's memory operand.
func (g *gen) binary(op string, a int, b string, dst int) {
	g.op("%s %s, %s, %s", op, b, g.v(a), g.v(dst))
}

// fma writes acc = acc*x + add.
func (g *gen) fma(acc, x int, add string) { g.op("VFMADD213PS %s, %s, %s", add, g.v(x), g.v(acc)) }

// horner writes acc = the polynomial of x with coefficients (highest first).
func (g *gen) horner(acc, x int, coefs ...string) {
	g.load(acc, c(coefs[0]))
	for _, k := range coefs[1:] {
		g.fma(acc, x, c(k))
	}
}

// minKeepNaN writes x = min(bound, x), NaN where x is NaN: x is the
// second source, the one MINPS returns when either is NaN.
func (g *gen) minKeepNaN(x int, bound string, tmp int) {
	g.load(tmp, c(bound))
	g.op("VMINPS %s, %s, %s", g.v(x), g.v(tmp), g.v(x))
}

// maxKeepNaN is minKeepNaN's maximum.
func (g *gen) maxKeepNaN(x int, bound string, tmp int) {
	g.load(tmp, c(bound))
	g.op("VMAXPS %s, %s, %s", g.v(x), g.v(tmp), g.v(x))
}

// Comparison predicates of VCMPPS.
const (
	eqOQ  = 0
	ltOS  = 1
	leOS  = 2
	nltUS = 5 // not less than, or unordered
)

// cmp writes mask m = a pred b.
func (g *gen) cmp(pred, a int, b string, m int) {
	g.op("VCMPPS $%d, %s, %s, %s", pred, b, g.v(a), g.mask(m))
}

// blend writes dst = m ? ifTrue : ifFalse; ifTrue may be a constant.
func (g *gen) blend(m int, ifTrue string, ifFalse, dst int) {
	g.op("VBLENDVPS %s, %s, %s, %s", g.mask(m), ifTrue, g.v(ifFalse), g.v(dst))
}

// expCore writes p = e^x for an x in [expMin, expMax] or NaN, clobbering
// x, n, ni and s: x = n ln2 + r with n an integer, |r| <= ln2/2, e^r a
// polynomial and 2^n built in the exponent bits, in two halves when split
// so that results down to 2^-150 (subnormal) stay exact scalings.
func (g *gen) expCore(x, n, ni, p, s int, split bool) {
	g.load(n, c("roundMagic"))
	g.op("VFMADD231PS %s, %s, %s", c("log2e"), g.v(x), g.v(n))
	g.binary("VPSUBD", n, c("roundMagic"), ni)
	g.binary("VSUBPS", n, c("roundMagic"), n)
	g.op("VFNMADD231PS %s, %s, %s", c("expC1"), g.v(n), g.v(x))
	g.op("VFNMADD231PS %s, %s, %s", c("expC2"), g.v(n), g.v(x))
	g.horner(p, x, "expP0", "expP1", "expP2", "expP3", "expP4", "expP5")
	g.binary("VMULPS", x, g.v(x), s)
	g.fma(p, s, g.v(x))
	g.binary("VADDPS", p, c("one"), p)
	if split {
		g.op("VPSRAD $1, %s, %s", g.v(ni), g.v(s))
		g.binary("VPSUBD", ni, g.v(s), ni)
		g.scale(p, s)
	}
	g.scale(p, ni)
}

// scale writes p *= 2^e for the integer e, clobbering e.
func (g *gen) scale(p, e int) {
	g.binary("VPADDD", e, c("exponentBias"), e)
	g.op("VPSLLD $23, %s, %s", g.v(e), g.v(e))
	g.binary("VMULPS", p, g.v(e), p)
}

// copySign writes dst |= the sign of x, for a dst >= 0, using tmp.
func (g *gen) copySign(dst, x, tmp int) {
	g.binary(g.logic("AND"), x, c("signMask"), tmp)
	g.binary(g.logic("OR"), dst, g.v(tmp), dst)
}

// Each body reads x from register 0 and returns the register of the
// result.

func (g *gen) exp() int {
	g.minKeepNaN(0, "expMax", 1)
	g.maxKeepNaN(0, "expMin", 1)
	g.expCore(0, 1, 2, 3, 4, true)
	return 3
}

func (g *gen) tanh() int {
	// t = x clamped to [-tanhMax, tanhMax]; t P(t^2) / Q(t^2).
	g.op("VMOVUPS %s, %s", g.v(0), g.v(1))
	g.minKeepNaN(1, "tanhMax", 2)
	g.maxKeepNaN(1, "tanhMin", 2)
	g.binary("VMULPS", 1, g.v(1), 2)
	g.horner(3, 2, "tanhP0", "tanhP1", "tanhP2", "tanhP3", "tanhP4", "tanhP5", "tanhP6")
	g.binary("VMULPS", 3, g.v(1), 3)
	g.horner(4, 2, "tanhQ0", "tanhQ1", "tanhQ2", "tanhQ3")
	g.binary("VDIVPS", 3, g.v(4), 3)
	// The rational function passes 1 by an ulp near 8.2: clamp to [-1, 1].
	g.minKeepNaN(3, "one", 4)
	g.maxKeepNaN(3, "minusOne", 4)
	// x itself where |x| < tanhTiny.
	g.binary(g.logic("AND"), 0, c("absMask"), 5)
	g.cmp(ltOS, 5, c("tanhTiny"), 0)
	g.blend(0, g.v(0), 3, 3)
	return 3
}

func (g *gen) sigmoid() int {
	// e = e^-|x|; 1/(1+e) for x >= 0, e/(1+e) below.
	g.binary(g.logic("OR"), 0, c("signMask"), 1)
	g.maxKeepNaN(1, "expMin", 2)
	g.expCore(1, 2, 3, 4, 5, true)
	g.binary("VADDPS", 4, c("one"), 5)
	g.cmp(nltUS, 0, g.v(zero), 0)
	g.blend(0, c("one"), 4, 1)
	g.binary("VDIVPS", 1, g.v(5), 1)
	return 1
}

func (g *gen) log() int {
	// Subnormals are scaled by 2^23 first.
	g.cmp(ltOS, 0, c("minNormal"), 0)
	g.binary("VMULPS", 0, c("two23"), 1)
	g.blend(0, g.v(1), 0, 1)
	g.blend(0, c("minus23"), zero, 2)
	// x = m 2^e, m in [sqrt(0.5), sqrt(2)): m in [0.5, 1) from the bits,
	// then doubled (and e less one) below sqrt(0.5); m becomes m - 1.
	g.op("VPSRLD $23, %s, %s", g.v(1), g.v(3))
	g.binary("VPSUBD", 3, c("exponent126"), 3)
	g.binary(g.logic("AND"), 1, c("mantissaMask"), 1)
	g.binary(g.logic("OR"), 1, c("halfBits"), 1)
	g.op("VCVTDQ2PS %s, %s", g.v(3), g.v(3))
	g.binary("VADDPS", 3, g.v(2), 3)
	g.cmp(ltOS, 1, c("sqrtHalf"), 1)
	g.blend(1, g.v(1), zero, 4)
	g.blend(1, c("one"), zero, 5)
	g.binary("VSUBPS", 3, g.v(5), 3)
	g.binary("VSUBPS", 1, c("one"), 1)
	g.binary("VADDPS", 1, g.v(4), 1)
	// log(1+m) + e ln2, with ln2 = expC1 + expC2.
	g.binary("VMULPS", 1, g.v(1), 4)
	g.horner(5, 1, "logP0", "logP1", "logP2", "logP3", "logP4", "logP5", "logP6", "logP7", "logP8")
	g.binary("VMULPS", 5, g.v(1), 5)
	g.binary("VMULPS", 5, g.v(4), 5)
	g.op("VFMADD231PS %s, %s, %s", c("expC2"), g.v(3), g.v(5))
	g.op("VFMADD231PS %s, %s, %s", c("minusHalf"), g.v(4), g.v(5))
	g.binary("VADDPS", 5, g.v(1), 5)
	g.op("VFMADD231PS %s, %s, %s", c("expC1"), g.v(3), g.v(5))
	// +Inf and NaN are themselves, x < 0 NaN, ±0 -Inf.
	g.cmp(nltUS, 0, c("inf"), 0)
	g.blend(0, g.v(0), 5, 5)
	g.cmp(ltOS, 0, g.v(zero), 0)
	g.blend(0, c("nan"), 5, 5)
	g.cmp(eqOQ, 0, g.v(zero), 0)
	g.blend(0, c("negInf"), 5, 5)
	return 5
}

func (g *gen) erf() int {
	g.binary(g.logic("AND"), 0, c("absMask"), 1)
	// |x| <= erfSplit: x + x P(x^2).
	g.binary("VMULPS", 0, g.v(0), 2)
	g.horner(3, 2, "erfSmallP0", "erfSmallP1", "erfSmallP2", "erfSmallP3", "erfSmallP4", "erfSmallP5")
	g.fma(3, 0, g.v(0))
	// Otherwise sign(x) (1 - e^-(t + t Q(t))), t = min(|x|, erfMax).
	g.load(4, c("erfMax"))
	g.op("VMINPS %s, %s, %s", g.v(1), g.v(4), g.v(4))
	g.horner(5, 4, "erfBigP0", "erfBigP1", "erfBigP2", "erfBigP3", "erfBigP4", "erfBigP5", "erfBigP6")
	g.fma(5, 4, g.v(4))
	g.binary(g.logic("XOR"), 5, c("signMask"), 5)
	g.expCore(5, 6, 7, 8, 9, false)
	g.load(9, c("one"))
	g.binary("VSUBPS", 9, g.v(8), 9)
	g.copySign(9, 0, 10)
	g.cmp(leOS, 1, c("erfSplit"), 0)
	g.blend(0, g.v(3), 9, 9)
	return 9
}

// kernel writes the function nameAVX2 over n elements, a multiple of 8.
// With pairs, the body runs on two blocks of 8 per step, its two copies
// interleaved: each copy is one long chain of dependent instructions,
// which the two fill each other's waits with.
func (g *gen) kernel(name, doc string, body func(*gen) int, pairs bool) {
	fn := name + "AVX2"
	g.line(fmt.Sprintf("// func %s(y, x *float32, n int)", fn))
	g.line("//")
	g.line(doc)
	g.line(fmt.Sprintf("TEXT ·%s(SB), NOSPLIT, $0-24", fn))
	g.op("MOVQ y+0(FP), DI")
	g.op("MOVQ x+8(FP), SI")
	g.op("MOVQ n+16(FP), CX")
	g.op("%s %s, %s, %s", g.logic("XOR"), g.v(zero), g.v(zero), g.v(zero))
	g.op("SHRQ $3, CX")
	g.op("JZ done")
	if pairs {
		g.op("MOVQ CX, DX")
		g.op("SHRQ $1, DX")
		g.op("JZ single")
		g.line("")
		g.line("pairs:")
		first, second := &gen{}, &gen{shift: pairRegs, maskShift: 1}
		outs := [2]int{}
		for i, copy := range []*gen{first, second} {
			copy.load(0, fmt.Sprintf("%d(SI)", 32*i))
			outs[i] = body(copy)
			copy.op("VMOVUPS %s, %d(DI)", copy.v(outs[i]), 32*i)
		}
		a, b := strings.SplitAfter(first.String(), "\n"), strings.SplitAfter(second.String(), "\n")
		for i := range a {
			g.WriteString(a[i] + b[i])
		}
		g.op("ADDQ $64, SI")
		g.op("ADDQ $64, DI")
		g.op("DECQ DX")
		g.op("JNZ pairs")
		g.line("")
		g.line("single:")
		g.op("ANDQ $1, CX")
		g.op("JZ done")
	}
	g.line("")
	g.line("loop:")
	g.load(0, "(SI)")
	out := body(g)
	g.op("VMOVUPS %s, (DI)", g.v(out))
	g.op("ADDQ $32, SI")
	g.op("ADDQ $32, DI")
	g.op("DECQ CX")
	g.op("JNZ loop")
	g.line("")
	g.line("done:")
	g.op("VZEROUPPER")
	g.op("RET")
	g.line("")
}

// pairRegs is the most registers a body that runs on two blocks at a time
// may use: two copies fit below zero.
const pairRegs = zero / 2

// kernels are the functions, each with the doc comment of its kernels.
// pairs says the body is small enough to run on two blocks at a time: at
// most pairRegs registers below zero (x is register 0) and one mask.
var kernels = []struct {
	name, doc string
	body      func(*gen) int
	pairs     bool
}{
	{"exp", "// y = e^x: x clamped to [expMin, expMax] (NaN kept), then expCore.", (*gen).exp, true},
	{"tanh", "// y = tanh(x): x for |x| < tanhTiny, else a rational function of x clamped to ±tanhMax.", (*gen).tanh, true},
	{"sigmoid", "// y = 1/(1 + e^-x), as e/(1+e) with e = e^x for negative x.", (*gen).sigmoid, true},
	{"log", "// y = ln(x): Cephes' logf on the mantissa and exponent.", (*gen).log, false},
	{"erf", "// y = erf(x): N. Juffa's erff.", (*gen).erf, false},
}

// softmaxRows writes softmaxRows<8*halves>AVX2: Softmax of each row of up
// to 8*halves values, the row in one or two vectors (masked loads, -Inf
// past the row).
//
// Registers: SI x, R11 its row stride in bytes, DI y, R10 its stride, CX
// the rows left, R12 the width; Y14 and Y15 the masks of the row's lanes
// in each half, Y12 -Inf. The halves are exponentiated in Y0..Y4 and
// Y5..Y9 (the body's registers moved up by 5), interleaved; Y10 and Y11
// reduce.
func (g *gen) softmaxRows(halves int) {
	name := fmt.Sprintf("softmaxRows%dAVX2", 8*halves)
	g.line(fmt.Sprintf("// func %s(y *float32, ys int, x *float32, xs int, rows, width int, masks *int32)", name))
	g.line("//")
	g.line(fmt.Sprintf("// Softmax of each row of up to %d values (x + r*xs float32s, into y +", 8*halves))
	g.line("// r*ys): x - max(x) through exp's body, the sum of the exponentials in")
	g.line("// float64, each times float32(1/sum). masks holds 16 int32 lanes, all")
	g.line("// ones where the row has a value.")
	g.line(fmt.Sprintf("TEXT ·%s(SB), NOSPLIT, $64-56", name))
	g.op("MOVQ y+0(FP), DI")
	g.op("MOVQ ys+8(FP), R10")
	g.op("SHLQ $2, R10")
	g.op("MOVQ x+16(FP), SI")
	g.op("MOVQ xs+24(FP), R11")
	g.op("SHLQ $2, R11")
	g.op("MOVQ rows+32(FP), CX")
	g.op("MOVQ width+40(FP), R12")
	g.op("MOVQ masks+48(FP), AX")
	g.op("VMOVUPS (AX), Y14")
	g.op("VMOVUPS 32(AX), Y15")
	g.load(12, c("negInf"))
	g.op("TESTQ CX, CX")
	g.op("JZ done")
	g.line("")
	g.line("row:")
	g.loadRow(halves, 5, 12)
	// The maximum in every lane of Y10; a NaN makes every result NaN
	// through the sum, whichever lane the maximum keeps.
	g.laneMax(halves, 0, 5, 10, 11)
	// x - max; 0 past the row, whose -Inf would make exp's scaling go
	// through subnormal numbers, which cost a microcode assist each.
	for h := range halves {
		g.op("VSUBPS Y10, Y%d, Y%d", 5*h, 5*h)
		g.op("VANDPS Y%d, Y%d, Y%d", 14+h, 5*h, 5*h)
	}
	copies := []*gen{{}, {shift: 5}}[:halves]
	var outs, lines [2][]string
	for h, copy := range copies {
		outs[h] = []string{fmt.Sprint(copy.exp() + 5*h)}
		lines[h] = strings.SplitAfter(copy.String(), "\n")
	}
	for i := range lines[0] {
		g.WriteString(lines[0][i])
		if halves == 2 {
			g.WriteString(lines[1][i])
		}
	}
	// Past the row, 0; then the sum in float64, in Y0, Y1, Y2 and Y4,
	// which exp's first copy no longer needs.
	sums := [2][2]int{{0, 1}, {2, 4}}
	for h := range halves {
		r := outs[h][0]
		g.op("VANDPS Y%d, Y%s, Y%s", 14+h, r, r)
		g.op("VCVTPS2PD X%s, Y%d", r, sums[h][0])
		g.op("VEXTRACTF128 $1, Y%s, X11", r)
		g.op("VCVTPS2PD X11, Y%d", sums[h][1])
		g.op("VADDPD Y%d, Y%d, Y%d", sums[h][1], sums[h][0], sums[h][0])
	}
	if halves == 2 {
		g.op("VADDPD Y2, Y0, Y0")
	}
	g.op("VEXTRACTF128 $1, Y0, X1")
	g.op("VADDPD X1, X0, X0")
	g.op("VPERMILPD $1, X0, X1")
	g.op("VADDSD X1, X0, X0")
	// float32(1 / sum), in every lane.
	g.op("VCVTSS2SD %s, X11, X11", c("one"))
	g.op("VDIVSD X0, X11, X11")
	g.op("VCVTSD2SS X11, X11, X11")
	g.op("VBROADCASTSS X11, Y11")
	// Through the stack, width values at a time: a masked store is
	// microcoded on AMD's cores and cost more than the rest of the row.
	for h := range halves {
		r := outs[h][0]
		g.op("VMULPS Y11, Y%s, Y%s", r, r)
		g.op("VMOVUPS Y%s, %d(SP)", r, 32*h)
	}
	g.op("XORQ BX, BX")
	g.line("copy:")
	g.op("MOVL (SP)(BX*4), AX")
	g.op("MOVL AX, (DI)(BX*4)")
	g.op("INCQ BX")
	g.op("CMPQ BX, R12")
	g.op("JLT copy")
	g.op("ADDQ R11, SI")
	g.op("ADDQ R10, DI")
	g.op("DECQ CX")
	g.op("JNZ row")
	g.line("")
	g.line("done:")
	g.op("VZEROUPPER")
	g.op("RET")
	g.line("")
}

// argMax writes argMax<8*halves>AVX2, ArgMaxRows for rows of up to
// 8*halves values: a row's values are loaded into one or two vectors
// (masked loads, the lanes past the row set to -Inf), their maximum is
// reduced across the lanes and compared with every lane, and the lowest
// (or highest) lane equal to it is the answer: no branch depends on the
// values, where a scalar loop mispredicts about once per row.
//
// Registers: SI the row, DI out, CX the rows left, DX the row stride in
// bytes, R8 the bits of the row's lanes, R9 last; Y14 and Y15 the masks of
// the row's lanes in each half, Y13 -Inf.
func (g *gen) argMax(halves int) {
	name := fmt.Sprintf("argMax%dAVX2", 8*halves)
	g.line("")
	g.line(fmt.Sprintf("// func %s(data *float32, stride, rows int, out *int64, masks *int32, last int)", name))
	g.line("//")
	g.line("// out[r] = the index of the largest of the values of row r (at data +")
	g.line("// r*stride float32s): the first such index, or the last when last != 0;")
	g.line("// -1 for a row holding a NaN, which the caller answers. masks holds 8")
	g.line("// int32 lanes per half, all ones where the row has a value.")
	g.line(fmt.Sprintf("TEXT ·%s(SB), NOSPLIT, $0-48", name))
	g.op("MOVQ data+0(FP), SI")
	g.op("MOVQ stride+8(FP), DX")
	g.op("SHLQ $2, DX")
	g.op("MOVQ rows+16(FP), CX")
	g.op("MOVQ out+24(FP), DI")
	g.op("MOVQ masks+32(FP), AX")
	g.op("MOVQ last+40(FP), R9")
	g.op("VMOVUPS (AX), Y14")
	if halves == 2 {
		g.op("VMOVUPS 32(AX), Y15")
	}
	g.op("VMOVMSKPS Y14, R8")
	if halves == 2 {
		g.op("VMOVMSKPS Y15, AX")
		g.op("SHLL $8, AX")
		g.op("ORL AX, R8")
	}
	g.load(13, c("negInf"))
	g.op("TESTQ CX, CX")
	g.op("JZ done")
	g.line("")
	g.line("row:")
	g.loadRow(halves, 1, 13)
	// A NaN anywhere: -1.
	g.op("VCMPPS $3, Y0, Y0, Y2")
	if halves == 2 {
		g.op("VCMPPS $3, Y1, Y1, Y3")
		g.op("VORPS Y3, Y2, Y2")
	}
	g.op("VMOVMSKPS Y2, AX")
	g.op("TESTL AX, AX")
	g.op("JNZ nan")
	// Y2 = the maximum in every lane.
	g.laneMax(halves, 0, 1, 2, 3)
	// AX = the row's lanes equal to it.
	g.op("VCMPPS $0, Y2, Y0, Y3")
	g.op("VMOVMSKPS Y3, AX")
	if halves == 2 {
		g.op("VCMPPS $0, Y2, Y1, Y4")
		g.op("VMOVMSKPS Y4, BX")
		g.op("SHLL $8, BX")
		g.op("ORL BX, AX")
	}
	g.op("ANDL R8, AX")
	g.op("TESTQ R9, R9")
	g.op("JNZ highest")
	g.op("BSFL AX, AX")
	g.op("JMP store")
	g.line("")
	g.line("highest:")
	g.op("BSRL AX, AX")
	g.line("")
	g.line("store:")
	g.op("MOVQ AX, (DI)")
	g.line("")
	g.line("next:")
	g.op("ADDQ DX, SI")
	g.op("ADDQ $8, DI")
	g.op("DECQ CX")
	g.op("JNZ row")
	g.line("")
	g.line("done:")
	g.op("VZEROUPPER")
	g.op("RET")
	g.line("")
	g.line("nan:")
	g.op("MOVQ $-1, (DI)")
	g.op("JMP next")
}

// loadRow loads the row at SI: half h into Y(step*h), masked by Y(14+h),
// with Y(negInf)'s -Inf in the lanes past the row.
func (g *gen) loadRow(halves, step, negInf int) {
	for h := range halves {
		g.op("VMASKMOVPS %d(SI), Y%d, Y%d", 32*h, 14+h, step*h)
		g.op("VBLENDVPS Y%d, Y%d, Y%d, Y%d", 14+h, step*h, negInf, step*h)
	}
}

// laneMax writes Y(dst) = the maximum of the lanes of Y(lo) and, with two
// halves, Y(hi), in every lane, using Y(tmp).
func (g *gen) laneMax(halves, lo, hi, dst, tmp int) {
	if halves == 2 {
		g.op("VMAXPS Y%d, Y%d, Y%d", hi, lo, dst)
	} else {
		g.op("VMOVAPS Y%d, Y%d", lo, dst)
	}
	g.op("VEXTRACTF128 $1, Y%d, X%d", dst, tmp)
	g.op("VMAXPS X%d, X%d, X%d", tmp, dst, dst)
	for _, order := range []string{"0x4e", "0xb1"} { // swap pairs, then neighbours
		g.op("VPERMILPS $%s, X%d, X%d", order, dst, tmp)
		g.op("VMAXPS X%d, X%d, X%d", tmp, dst, dst)
	}
	g.op("VBROADCASTSS X%d, Y%d", dst, dst)
}

func assembly() string {
	g := &gen{}
	g.line("// Code generated by gen_kernels.go; DO NOT EDIT.")
	g.line("")
	g.line(`#include "textflag.h"`)
	g.line("")
	for _, c := range constants {
		bits := c.bits
		if !c.isBits {
			bits = math.Float32bits(c.value)
		}
		for i := range 8 {
			g.line(fmt.Sprintf("DATA %s<>+%d(SB)/4, $0x%08x", c.name, 4*i, bits))
		}
		g.line(fmt.Sprintf("GLOBL %s<>(SB), RODATA|NOPTR, $32", c.name))
		g.line("")
	}
	for _, k := range kernels {
		g.kernel(k.name, k.doc, k.body, k.pairs)
	}
	g.softmaxRows(1)
	g.softmaxRows(2)
	g.argMax(1)
	g.argMax(2)
	return g.String()
}

func goConstants() string {
	var s strings.Builder
	s.WriteString("// Code generated by gen_kernels.go; DO NOT EDIT.\n\npackage vecmath\n\n")
	s.WriteString("// The constants of the algorithms, the same numbers as kernel_amd64.s's.\nconst (\n")
	for _, c := range constants {
		if c.doc != "" {
			fmt.Fprintf(&s, "\t// %s: %s.\n", c.name, c.doc)
		}
		switch {
		case c.isBits:
			fmt.Fprintf(&s, "\t%s uint32 = 0x%08x\n", c.name, c.bits)
		case math.IsInf(float64(c.value), 0):
			continue
		default:
			fmt.Fprintf(&s, "\t%s float32 = %s\n", c.name, strconv.FormatFloat(float64(c.value), 'g', -1, 32))
		}
	}
	s.WriteString(")\n")
	return s.String()
}

func main() {
	for name, text := range map[string]string{"kernel_amd64.s": assembly(), "constants.go": goConstants()} {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
