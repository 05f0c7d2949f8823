//go:build cuda

package gpu

// kernelSource is the CUDA C++ of the stream's elementwise operations,
// Softmax and Gemm's bias rows, compiled at run time by NVRTC (once per
// process and compute capability) and loaded into each stream's context.
// Its arithmetic is float32, IEEE (no fast math), to match the Emulator
// within float32 rounding. The elementwise kernels run one thread per
// element over rows x width, flattened, with a grid-stride loop so that
// any number of rows fits the grid; softmax runs one block of
// kernelBlock threads per row. Y may alias X or Z: each thread reads its
// element before writing it, so no pointer is __restrict__.
//
// The function and operation numbers are those of Func and Op.
const kernelSource = `
#define BLOCK 256

__device__ __forceinline__ float dfb_apply1(int f, float v, float alpha) {
	switch (f) {
	case 0: return v < 0.0f ? 0.0f : v;               // Relu
	case 1: return v < 0.0f ? alpha * v : v;          // LeakyRelu
	case 2: return 1.0f / (1.0f + expf(-v));          // Sigmoid
	case 3: return tanhf(v);                          // Tanh
	case 4: return expf(v);                           // Exp
	case 5: return logf(v);                           // Log
	case 6: return sqrtf(v);                          // Sqrt
	case 7: return fabsf(v);                          // Abs
	case 8: return -v;                                // Neg
	case 9: return v > 20.0f ? v : log1pf(expf(v));   // Softplus; past 20 it is v in float32
	}
	return v;
}

extern "C" __global__ void dfb_apply(int f, float *y, long long ldy, const float *x, long long ldx,
                                     long long rows, long long width, float alpha) {
	long long n = rows * width;
	for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
		long long r = i / width, c = i - r * width;
		y[r * ldy + c] = dfb_apply1(f, x[r * ldx + c], alpha);
	}
}

extern "C" __global__ void dfb_combine(int op, float *y, long long ldy, const float *x, long long ldx,
                                       const float *z, long long ldz, int zFirst, long long rows, long long width) {
	long long n = rows * width;
	for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
		long long r = i / width, c = i - r * width;
		float a = x[r * ldx + c], b = z[r * ldz + c]; // ldz 0: one row of z for every row
		if (zFirst) { float t = a; a = b; b = t; }
		float v;
		switch (op) {
		case 0: v = a + b; break;
		case 1: v = a - b; break;
		case 2: v = a * b; break;
		default: v = a / b; break;
		}
		y[r * ldy + c] = v;
	}
}

// dfb_fill_rows sets every row of c to bias, or to zeros where bias is null.
extern "C" __global__ void dfb_fill_rows(float *c, long long ldc, const float *bias, long long rows, long long width) {
	long long n = rows * width;
	for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
		long long r = i / width, col = i - r * width;
		c[r * ldc + col] = bias ? bias[col] : 0.0f;
	}
}

// dfb_softmax normalizes rows, one block of BLOCK threads per row.
extern "C" __global__ void __launch_bounds__(BLOCK) dfb_softmax(float *y, long long ldy, const float *x, long long ldx,
                                                              long long rows, long long width) {
	__shared__ float red[BLOCK];
	const int t = threadIdx.x;
	for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
		const float *xr = x + r * ldx;
		float *yr = y + r * ldy;
		float m = __int_as_float((int)0xff800000); // -infinity
		for (long long c = t; c < width; c += BLOCK) m = fmaxf(m, xr[c]);
		red[t] = m;
		__syncthreads();
		for (int s = BLOCK / 2; s > 0; s >>= 1) {
			if (t < s) red[t] = fmaxf(red[t], red[t + s]);
			__syncthreads();
		}
		m = red[0];
		__syncthreads();
		float sum = 0.0f;
		for (long long c = t; c < width; c += BLOCK) sum += expf(xr[c] - m);
		red[t] = sum;
		__syncthreads();
		for (int s = BLOCK / 2; s > 0; s >>= 1) {
			if (t < s) red[t] += red[t + s];
			__syncthreads();
		}
		sum = red[0];
		__syncthreads();
		for (long long c = t; c < width; c += BLOCK) yr[c] = expf(xr[c] - m) / sum;
	}
}
`

// kernelBlock is the threads per block of every launch; dfb_softmax's
// BLOCK must equal it.
const kernelBlock = 256

// The kernels' names in kernelSource, in the order the stream keeps them.
const (
	kernelApply = iota
	kernelCombine
	kernelSoftmax
	kernelFill
	kernelCount
)
