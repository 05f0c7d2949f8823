// Package vecmath computes transcendental functions over float32 slices,
// with AVX2+FMA assembly where the CPU has it (AVX-512 CPUs included) and
// portable Go otherwise. Both run one algorithm on the same coefficients (the
// generator gen_kernels.go writes the assembly and the Go constants): the
// argument is reduced to a small range where a polynomial is accurate, in
// the manner of Cephes (S. L. Moshier) and ONNX Runtime's MLAS.
//
//   - Exp: x = n ln2 + r, e^r a degree-7 polynomial, 2^n put in the
//     exponent bits (in two factors, so subnormal results are one
//     rounding of the exact scaling).
//   - Tanh: x P(x^2)/Q(x^2) on x clamped to [-9, 9] (the rational
//     function of Eigen and MLAS), clamped to [-1, 1]; x itself for
//     |x| < 0.0004.
//   - Sigmoid: 1/(1 + e^-x), computed as e/(1 + e) with e = e^x for
//     negative x so that no result is lost to cancellation or overflow.
//   - Log: x = m 2^e with m in [sqrt(0.5), sqrt(2)), log(m) a polynomial.
//   - Erf: x + x P(x^2) for |x| <= 0.921875, 1 - e^-(|x| + |x| Q(|x|))
//     above (N. Juffa's erff).
//   - Softmax: exp(x - max(x)) scaled by 1/sum.
//
// Accuracy, measured against the float64 functions of package math over
// every 97th float32 bit pattern and the edge values (the tests; -long
// checks every pattern): the relative error of every normal float32 result
// is below 1e-6. The largest measured, over every bit pattern with AVX2
// and every 97th in Go: Exp 8.5e-8, Tanh 3.6e-7, Sigmoid 1.8e-7, Log
// 8.2e-8, Erf 1.0e-7 (a float32 rounds with up to 6e-8). Where the exact result is subnormal the absolute error
// is below 2^-148 (four subnormal steps) instead. Softmax adds the
// rounding of x - max(x) to float32, up to |x - max(x)| 2^-24 relative.
// Results are exactly the IEEE ones at the edges: e^x is +Inf above
// ln(MaxFloat32) and 0 below ln(2^-150); tanh(x) = x for tiny x,
// ±1 for large |x|; sigmoid(+Inf) = 1, sigmoid(-Inf) = 0; log(±0) = -Inf,
// log of a negative number NaN, log(+Inf) = +Inf; erf(±Inf) = ±1;
// ±0 keeps its sign through Tanh and Erf, and NaN stays NaN everywhere.
//
// Every function writes y[i] for each x[i]; y may be x itself (not a
// partly overlapping slice), and a y shorter than x panics.
package vecmath
