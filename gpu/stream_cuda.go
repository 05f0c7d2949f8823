//go:build cuda

package gpu

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

// The CUDA driver, cuBLAS and NVRTC entry points a Stream needs, declared
// here by hand and found with dlsym, so that the build needs no CUDA
// headers and the binary no CUDA library at link time. The types mirror
// cuda.h, cublas_api.h and nvrtc.h on 64-bit Linux; the opaque handles
// keep the headers' struct tags.
typedef int dfs_result;                    // CUresult
typedef int dfs_device;                    // CUdevice
typedef unsigned long long dfs_ptr;        // CUdeviceptr (CUdeviceptr_v2)
typedef struct CUctx_st *dfs_context;      // CUcontext
typedef struct CUstream_st *dfs_custream;  // CUstream, cudaStream_t
typedef struct CUmod_st *dfs_module;       // CUmodule
typedef struct CUfunc_st *dfs_function;    // CUfunction
typedef struct CUarray_st *dfs_array;      // CUarray
typedef struct cublasContext *dfs_blas;    // cublasHandle_t
typedef int dfs_blas_status;               // cublasStatus_t
typedef struct _nvrtcProgram *dfs_program; // nvrtcProgram
typedef int dfs_nvrtc_result;              // nvrtcResult

// CUDA_MEMCPY2D (CUDA_MEMCPY2D_v2), the argument of cuMemcpy2DAsync_v2.
typedef struct {
	size_t srcXInBytes;
	size_t srcY;
	int srcMemoryType; // CUmemorytype
	const void *srcHost;
	dfs_ptr srcDevice;
	dfs_array srcArray;
	size_t srcPitch;
	size_t dstXInBytes;
	size_t dstY;
	int dstMemoryType; // CUmemorytype
	void *dstHost;
	dfs_ptr dstDevice;
	dfs_array dstArray;
	size_t dstPitch;
	size_t WidthInBytes;
	size_t Height;
} dfs_memcpy2d;

enum {
	dfs_MEMORYTYPE_HOST = 1,        // CU_MEMORYTYPE_HOST
	dfs_MEMORYTYPE_DEVICE = 2,      // CU_MEMORYTYPE_DEVICE
	dfs_STREAM_NON_BLOCKING = 1,    // CU_STREAM_NON_BLOCKING
	dfs_MEMHOSTALLOC_PORTABLE = 1,  // CU_MEMHOSTALLOC_PORTABLE
	dfs_ATTR_COMPUTE_MAJOR = 75,    // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
	dfs_ATTR_COMPUTE_MINOR = 76,    // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR
	dfs_BLAS_OP_N = 0,              // CUBLAS_OP_N
};

// CUDA driver (libcuda.so.1).
static dfs_result (*dfs_cuDriverGetVersion)(int *);
static dfs_result (*dfs_cuGetErrorName)(dfs_result, const char **);
static dfs_result (*dfs_cuDeviceGet)(dfs_device *, int);
static dfs_result (*dfs_cuDeviceGetAttribute)(int *, int, dfs_device);
static dfs_result (*dfs_cuDevicePrimaryCtxRetain)(dfs_context *, dfs_device);
static dfs_result (*dfs_cuDevicePrimaryCtxRelease)(dfs_device);          // _v2
static dfs_result (*dfs_cuCtxSetCurrent)(dfs_context);
static dfs_result (*dfs_cuStreamCreate)(dfs_custream *, unsigned int);
static dfs_result (*dfs_cuStreamDestroy)(dfs_custream);                 // _v2
static dfs_result (*dfs_cuStreamSynchronize)(dfs_custream);
static dfs_result (*dfs_cuMemAlloc)(dfs_ptr *, size_t);                 // _v2
static dfs_result (*dfs_cuMemFree)(dfs_ptr);                            // _v2
static dfs_result (*dfs_cuMemHostAlloc)(void **, size_t, unsigned int);
static dfs_result (*dfs_cuMemFreeHost)(void *);
static dfs_result (*dfs_cuMemcpyHtoDAsync)(dfs_ptr, const void *, size_t, dfs_custream); // _v2
static dfs_result (*dfs_cuMemcpy2DAsync)(const dfs_memcpy2d *, dfs_custream);            // _v2
static dfs_result (*dfs_cuModuleLoadData)(dfs_module *, const void *);
static dfs_result (*dfs_cuModuleUnload)(dfs_module);
static dfs_result (*dfs_cuModuleGetFunction)(dfs_function *, dfs_module, const char *);
static dfs_result (*dfs_cuLaunchKernel)(dfs_function, unsigned int, unsigned int, unsigned int,
	unsigned int, unsigned int, unsigned int, unsigned int, dfs_custream, void **, void **);

// cuBLAS.
static dfs_blas_status (*dfs_cublasCreate)(dfs_blas *);                 // _v2
static dfs_blas_status (*dfs_cublasDestroy)(dfs_blas);                  // _v2
static dfs_blas_status (*dfs_cublasSetStream)(dfs_blas, dfs_custream);  // _v2
static dfs_blas_status (*dfs_cublasSgemm)(dfs_blas, int, int, int, int, int,
	const float *, const float *, int, const float *, int, const float *, float *, int); // _v2

// NVRTC.
static dfs_nvrtc_result (*dfs_nvrtcVersion)(int *, int *);
static const char *(*dfs_nvrtcGetErrorString)(dfs_nvrtc_result);
static dfs_nvrtc_result (*dfs_nvrtcCreateProgram)(dfs_program *, const char *, const char *, int,
	const char *const *, const char *const *);
static dfs_nvrtc_result (*dfs_nvrtcCompileProgram)(dfs_program, int, const char *const *);
static dfs_nvrtc_result (*dfs_nvrtcGetProgramLogSize)(dfs_program, size_t *);
static dfs_nvrtc_result (*dfs_nvrtcGetProgramLog)(dfs_program, char *);
static dfs_nvrtc_result (*dfs_nvrtcGetPTXSize)(dfs_program, size_t *);
static dfs_nvrtc_result (*dfs_nvrtcGetPTX)(dfs_program, char *);
static dfs_nvrtc_result (*dfs_nvrtcDestroyProgram)(dfs_program *);

#define DFS_SYM(lib, var, name) if (!(*(void **)&(var) = dlsym(lib, name))) return name " not found"

// dfs_load_driver finds the driver's entry points; it returns NULL, or what failed.
static const char *dfs_load_driver(void) {
	void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib) return dlerror();
	DFS_SYM(lib, dfs_cuDriverGetVersion, "cuDriverGetVersion");
	DFS_SYM(lib, dfs_cuGetErrorName, "cuGetErrorName");
	DFS_SYM(lib, dfs_cuDeviceGet, "cuDeviceGet");
	DFS_SYM(lib, dfs_cuDeviceGetAttribute, "cuDeviceGetAttribute");
	DFS_SYM(lib, dfs_cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
	DFS_SYM(lib, dfs_cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
	DFS_SYM(lib, dfs_cuCtxSetCurrent, "cuCtxSetCurrent");
	DFS_SYM(lib, dfs_cuStreamCreate, "cuStreamCreate");
	DFS_SYM(lib, dfs_cuStreamDestroy, "cuStreamDestroy_v2");
	DFS_SYM(lib, dfs_cuStreamSynchronize, "cuStreamSynchronize");
	DFS_SYM(lib, dfs_cuMemAlloc, "cuMemAlloc_v2");
	DFS_SYM(lib, dfs_cuMemFree, "cuMemFree_v2");
	DFS_SYM(lib, dfs_cuMemHostAlloc, "cuMemHostAlloc");
	DFS_SYM(lib, dfs_cuMemFreeHost, "cuMemFreeHost");
	DFS_SYM(lib, dfs_cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
	DFS_SYM(lib, dfs_cuMemcpy2DAsync, "cuMemcpy2DAsync_v2");
	DFS_SYM(lib, dfs_cuModuleLoadData, "cuModuleLoadData");
	DFS_SYM(lib, dfs_cuModuleUnload, "cuModuleUnload");
	DFS_SYM(lib, dfs_cuModuleGetFunction, "cuModuleGetFunction");
	DFS_SYM(lib, dfs_cuLaunchKernel, "cuLaunchKernel");
	return NULL;
}

// dfs_dlopen opens name, or copies why not into err.
static void *dfs_dlopen(const char *name, char *err, size_t errlen) {
	void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		const char *e = dlerror();
		strncpy(err, e ? e : "dlopen failed", errlen - 1);
		err[errlen - 1] = 0;
	}
	return lib;
}

static const char *dfs_load_blas_syms(void *lib) {
	DFS_SYM(lib, dfs_cublasCreate, "cublasCreate_v2");
	DFS_SYM(lib, dfs_cublasDestroy, "cublasDestroy_v2");
	DFS_SYM(lib, dfs_cublasSetStream, "cublasSetStream_v2");
	DFS_SYM(lib, dfs_cublasSgemm, "cublasSgemm_v2");
	return NULL;
}

static const char *dfs_load_nvrtc_syms(void *lib) {
	DFS_SYM(lib, dfs_nvrtcVersion, "nvrtcVersion");
	DFS_SYM(lib, dfs_nvrtcGetErrorString, "nvrtcGetErrorString");
	DFS_SYM(lib, dfs_nvrtcCreateProgram, "nvrtcCreateProgram");
	DFS_SYM(lib, dfs_nvrtcCompileProgram, "nvrtcCompileProgram");
	DFS_SYM(lib, dfs_nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize");
	DFS_SYM(lib, dfs_nvrtcGetProgramLog, "nvrtcGetProgramLog");
	DFS_SYM(lib, dfs_nvrtcGetPTXSize, "nvrtcGetPTXSize");
	DFS_SYM(lib, dfs_nvrtcGetPTX, "nvrtcGetPTX");
	DFS_SYM(lib, dfs_nvrtcDestroyProgram, "nvrtcDestroyProgram");
	return NULL;
}

static int dfs_driver_version(void) {
	int v = 0;
	dfs_cuDriverGetVersion(&v);
	return v;
}

static int dfs_nvrtc_version(void) {
	int major = 0, minor = 0;
	dfs_nvrtcVersion(&major, &minor);
	return major * 1000 + minor * 10;
}

static const char *dfs_cu_error(dfs_result r) {
	const char *s = NULL;
	if (dfs_cuGetErrorName(r, &s) || !s) s = "an unknown CUDA error";
	return s;
}

static const char *dfs_nvrtc_error(dfs_nvrtc_result r) {
	const char *s = dfs_nvrtcGetErrorString(r);
	return s ? s : "an unknown NVRTC error";
}

// dfs_status is what a call failed with: lib 0 (none), 1 (CUDA driver),
// 2 (cuBLAS) or 3 (NVRTC), its code, and the entry point's name.
typedef struct {
	int lib;
	int code;
	const char *call;
} dfs_status;

static const dfs_status dfs_ok = {0, 0, NULL};

#define DFS_CU(name, expr) do { dfs_result r_ = (expr); if (r_) { dfs_status s_ = {1, r_, name}; return s_; } } while (0)
#define DFS_BLAS(name, expr) do { dfs_blas_status r_ = (expr); if (r_) { dfs_status s_ = {2, r_, name}; return s_; } } while (0)
#define DFS_NVRTC(name, expr) do { dfs_nvrtc_result r_ = (expr); if (r_) { dfs_status s_ = {3, r_, name}; return s_; } } while (0)

// dfs_compute reads device ordinal's compute capability.
static dfs_status dfs_compute(int ordinal, int *major, int *minor) {
	dfs_device d;
	DFS_CU("cuDeviceGet", dfs_cuDeviceGet(&d, ordinal));
	DFS_CU("cuDeviceGetAttribute", dfs_cuDeviceGetAttribute(major, dfs_ATTR_COMPUTE_MAJOR, d));
	DFS_CU("cuDeviceGetAttribute", dfs_cuDeviceGetAttribute(minor, dfs_ATTR_COMPUTE_MINOR, d));
	return dfs_ok;
}

// dfs_compile compiles src for arch (an NVRTC option) into PTX, which it
// mallocs; on a compile failure it mallocs the compile log into *log.
static dfs_status dfs_compile(const char *src, const char *arch, char **ptx, size_t *ptxlen, char **log) {
	dfs_program p;
	*ptx = NULL;
	*log = NULL;
	DFS_NVRTC("nvrtcCreateProgram", dfs_nvrtcCreateProgram(&p, src, "dfbatch_kernels.cu", 0, NULL, NULL));
	const char *opts[] = {arch};
	dfs_nvrtc_result r = dfs_nvrtcCompileProgram(p, 1, opts);
	if (r) {
		size_t n = 0;
		if (!dfs_nvrtcGetProgramLogSize(p, &n) && n > 1 && (*log = malloc(n)) && dfs_nvrtcGetProgramLog(p, *log)) {
			free(*log);
			*log = NULL;
		}
		dfs_nvrtcDestroyProgram(&p);
		dfs_status s = {3, r, "nvrtcCompileProgram"};
		return s;
	}
	size_t n = 0;
	if (!(r = dfs_nvrtcGetPTXSize(p, &n))) {
		if (!(*ptx = malloc(n + 1))) {
			dfs_nvrtcDestroyProgram(&p);
			dfs_status s = {3, 1, "malloc"}; // NVRTC_ERROR_OUT_OF_MEMORY
			return s;
		}
		if ((r = dfs_nvrtcGetPTX(p, *ptx))) {
			free(*ptx);
			*ptx = NULL;
		} else {
			(*ptx)[n] = 0;
			*ptxlen = n;
		}
	}
	dfs_nvrtcDestroyProgram(&p);
	DFS_NVRTC("nvrtcGetPTX", r);
	return dfs_ok;
}

// dfs_stream is one Stream's handles, in C memory.
typedef struct {
	dfs_device dev;
	dfs_context ctx;
	dfs_custream stream;
	dfs_blas blas;
	dfs_module mod;
	dfs_function fn[4]; // kernelApply, kernelCombine, kernelSoftmax, kernelFill
	int retained;
} dfs_stream;

#define DFS_CURRENT(s) DFS_CU("cuCtxSetCurrent", dfs_cuCtxSetCurrent((s)->ctx))

// dfs_close releases what dfs_open got, as far as it got; it returns the
// first failure.
static dfs_status dfs_close(dfs_stream *s) {
	dfs_status first = dfs_ok;
	dfs_result r;
	if (s->ctx && (r = dfs_cuCtxSetCurrent(s->ctx)) && !first.lib) { dfs_status e = {1, r, "cuCtxSetCurrent"}; first = e; }
	if (s->stream && (r = dfs_cuStreamSynchronize(s->stream)) && !first.lib) { dfs_status e = {1, r, "cuStreamSynchronize"}; first = e; }
	if (s->blas) {
		dfs_blas_status b = dfs_cublasDestroy(s->blas);
		if (b && !first.lib) { dfs_status e = {2, b, "cublasDestroy_v2"}; first = e; }
		s->blas = NULL;
	}
	if (s->mod && (r = dfs_cuModuleUnload(s->mod)) && !first.lib) { dfs_status e = {1, r, "cuModuleUnload"}; first = e; }
	s->mod = NULL;
	if (s->stream && (r = dfs_cuStreamDestroy(s->stream)) && !first.lib) { dfs_status e = {1, r, "cuStreamDestroy_v2"}; first = e; }
	s->stream = NULL;
	if (s->retained && (r = dfs_cuDevicePrimaryCtxRelease(s->dev)) && !first.lib) { dfs_status e = {1, r, "cuDevicePrimaryCtxRelease_v2"}; first = e; }
	s->retained = 0;
	s->ctx = NULL;
	return first;
}

// dfs_open makes s the device's primary context, a stream of its own, a
// cuBLAS handle on that stream and the kernels loaded from ptx. On a
// failure the caller calls dfs_close.
static dfs_status dfs_open(dfs_stream *s, int ordinal, const char *ptx, const char *const *names) {
	DFS_CU("cuDeviceGet", dfs_cuDeviceGet(&s->dev, ordinal));
	DFS_CU("cuDevicePrimaryCtxRetain", dfs_cuDevicePrimaryCtxRetain(&s->ctx, s->dev));
	s->retained = 1;
	DFS_CURRENT(s);
	DFS_CU("cuStreamCreate", dfs_cuStreamCreate(&s->stream, dfs_STREAM_NON_BLOCKING));
	DFS_BLAS("cublasCreate_v2", dfs_cublasCreate(&s->blas));
	DFS_BLAS("cublasSetStream_v2", dfs_cublasSetStream(s->blas, s->stream));
	DFS_CU("cuModuleLoadData", dfs_cuModuleLoadData(&s->mod, ptx));
	for (int i = 0; i < 4; i++) DFS_CU("cuModuleGetFunction", dfs_cuModuleGetFunction(&s->fn[i], s->mod, names[i]));
	return dfs_ok;
}

static dfs_status dfs_sync(dfs_stream *s) {
	DFS_CURRENT(s);
	DFS_CU("cuStreamSynchronize", dfs_cuStreamSynchronize(s->stream));
	return dfs_ok;
}

static dfs_status dfs_alloc(dfs_stream *s, dfs_ptr *p, size_t bytes) {
	DFS_CURRENT(s);
	DFS_CU("cuMemAlloc_v2", dfs_cuMemAlloc(p, bytes));
	return dfs_ok;
}

static dfs_status dfs_free(dfs_stream *s, dfs_ptr p) {
	DFS_CURRENT(s);
	DFS_CU("cuMemFree_v2", dfs_cuMemFree(p));
	return dfs_ok;
}

static dfs_status dfs_host_alloc(dfs_stream *s, void **p, size_t bytes) {
	DFS_CURRENT(s);
	DFS_CU("cuMemHostAlloc", dfs_cuMemHostAlloc(p, bytes, dfs_MEMHOSTALLOC_PORTABLE));
	return dfs_ok;
}

static dfs_status dfs_host_free(dfs_stream *s, void *p) {
	DFS_CURRENT(s);
	DFS_CU("cuMemFreeHost", dfs_cuMemFreeHost(p));
	return dfs_ok;
}

static dfs_status dfs_copy_in(dfs_stream *s, dfs_ptr dst, const void *src, size_t bytes) {
	DFS_CURRENT(s);
	DFS_CU("cuMemcpyHtoDAsync_v2", dfs_cuMemcpyHtoDAsync(dst, src, bytes, s->stream));
	return dfs_ok;
}

// dfs_copy2d copies height rows of width bytes, from the device at src
// (pitch spitch) to the device at dst or, where host is not NULL, to the
// host at host (pitch dpitch).
static dfs_status dfs_copy2d(dfs_stream *s, dfs_ptr dst, void *host, size_t dpitch, dfs_ptr src, size_t spitch, size_t width, size_t height) {
	DFS_CURRENT(s);
	dfs_memcpy2d c;
	memset(&c, 0, sizeof c);
	c.srcMemoryType = dfs_MEMORYTYPE_DEVICE;
	c.srcDevice = src;
	c.srcPitch = spitch;
	if (host) {
		c.dstMemoryType = dfs_MEMORYTYPE_HOST;
		c.dstHost = host;
	} else {
		c.dstMemoryType = dfs_MEMORYTYPE_DEVICE;
		c.dstDevice = dst;
	}
	c.dstPitch = dpitch;
	c.WidthInBytes = width;
	c.Height = height;
	DFS_CU("cuMemcpy2DAsync_v2", dfs_cuMemcpy2DAsync(&c, s->stream));
	return dfs_ok;
}

// dfs_launch queues fn over blocks blocks of threads threads.
static dfs_status dfs_launch(dfs_stream *s, int fn, unsigned int blocks, unsigned int threads, void **args) {
	DFS_CU("cuLaunchKernel", dfs_cuLaunchKernel(s->fn[fn], blocks, 1, 1, threads, 1, 1, 0, s->stream, args, NULL));
	return dfs_ok;
}

static dfs_status dfs_apply(dfs_stream *s, unsigned int blocks, unsigned int threads, int f, dfs_ptr y, long long ldy,
		dfs_ptr x, long long ldx, long long rows, long long width, float alpha) {
	DFS_CURRENT(s);
	void *args[] = {&f, &y, &ldy, &x, &ldx, &rows, &width, &alpha};
	return dfs_launch(s, 0, blocks, threads, args);
}

static dfs_status dfs_combine(dfs_stream *s, unsigned int blocks, unsigned int threads, int op, dfs_ptr y, long long ldy,
		dfs_ptr x, long long ldx, dfs_ptr z, long long ldz, int zFirst, long long rows, long long width) {
	DFS_CURRENT(s);
	void *args[] = {&op, &y, &ldy, &x, &ldx, &z, &ldz, &zFirst, &rows, &width};
	return dfs_launch(s, 1, blocks, threads, args);
}

static dfs_status dfs_softmax(dfs_stream *s, unsigned int blocks, unsigned int threads, dfs_ptr y, long long ldy,
		dfs_ptr x, long long ldx, long long rows, long long width) {
	DFS_CURRENT(s);
	void *args[] = {&y, &ldy, &x, &ldx, &rows, &width};
	return dfs_launch(s, 2, blocks, threads, args);
}

// dfs_gemm queues row-major C (rows x n, ldc) = A (rows x k, lda) x W
// (k x n, packed) [+ bias in every row]: the bias (or, for k 0 without
// one, zeros) goes into C's rows first, and cuBLAS adds the product with
// beta 1, or overwrites C with beta 0. Row-major C = A W is column-major
// C' = W' A', so cuBLAS gets W as its A and A as its B.
static dfs_status dfs_gemm(dfs_stream *s, unsigned int blocks, unsigned int threads, dfs_ptr c, int ldc, dfs_ptr a, int lda,
		dfs_ptr w, dfs_ptr bias, int rows, int k, int n) {
	DFS_CURRENT(s);
	float alpha = 1.0f, beta = 0.0f;
	if (bias || k == 0) {
		long long ldc64 = ldc, rows64 = rows, n64 = n;
		void *args[] = {&c, &ldc64, &bias, &rows64, &n64};
		dfs_status st = dfs_launch(s, 3, blocks, threads, args);
		if (st.lib) return st;
		beta = 1.0f;
	}
	if (k > 0)
		DFS_BLAS("cublasSgemm_v2", dfs_cublasSgemm(s->blas, dfs_BLAS_OP_N, dfs_BLAS_OP_N, n, rows, k,
			&alpha, (const float *)w, n, (const float *)a, lda, &beta, (float *)c, ldc));
	return dfs_ok;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

var (
	_ Stream = (*cudaStream)(nil)
	_ Buffer = (*cudaBuffer)(nil)
)

// The libraries a Stream loads besides the driver, newest first. A name
// whose major version is newer than the driver's CUDA version is skipped:
// that library would need a newer driver.
var (
	cublasLibraries = []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11", "libcublas.so"}
	nvrtcLibraries  = []string{"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"}
)

// loadStreamLibraries loads the driver's stream entry points, cuBLAS and
// NVRTC, once per process.
var loadStreamLibraries = sync.OnceValue(func() error {
	if err := loadDriver(); err != nil {
		return err
	}
	if msg := C.dfs_load_driver(); msg != nil {
		return fmt.Errorf("gpu: the NVIDIA driver's library libcuda.so.1 lacks what a stream needs (%s); install an NVIDIA driver for CUDA 11.2 or later", C.GoString(msg))
	}
	driver := int(C.dfs_driver_version())
	if err := loadLibrary("cuBLAS", cublasLibraries, driver, func(lib unsafe.Pointer) *C.char { return C.dfs_load_blas_syms(lib) },
		"install cuBLAS of the CUDA toolkit (e.g. the libcublas-12-x package, or pip's nvidia-cublas-cu12) where the loader finds it (ldconfig, or LD_LIBRARY_PATH)"); err != nil {
		return err
	}
	return loadLibrary("NVRTC", nvrtcLibraries, driver, func(lib unsafe.Pointer) *C.char { return C.dfs_load_nvrtc_syms(lib) },
		"install NVRTC of the CUDA toolkit (e.g. the cuda-nvrtc-12-x package, or pip's nvidia-cuda-nvrtc-cu12) where the loader finds it (ldconfig, or LD_LIBRARY_PATH)")
})

// loadLibrary opens the first of names that opens and whose major version
// the driver (driver, as cuDriverGetVersion gives it) supports, and finds
// its entry points with syms.
func loadLibrary(what string, names []string, driver int, syms func(unsafe.Pointer) *C.char, install string) error {
	var tried []string
	var msg [512]C.char
	for _, name := range names {
		if major, ok := libraryMajor(name); ok && driver > 0 && major > driver/1000 {
			tried = append(tried, fmt.Sprintf("%s (skipped: the driver supports CUDA %d.%d)", name, driver/1000, driver%1000/10))
			continue
		}
		cname := C.CString(name)
		lib := C.dfs_dlopen(cname, &msg[0], C.size_t(len(msg)))
		C.free(unsafe.Pointer(cname))
		if lib == nil {
			tried = append(tried, fmt.Sprintf("%s (%s)", name, C.GoString(&msg[0])))
			continue
		}
		if missing := syms(lib); missing != nil {
			tried = append(tried, fmt.Sprintf("%s (%s)", name, C.GoString(missing)))
			C.dlclose(lib)
			continue
		}
		return nil
	}
	return fmt.Errorf("gpu: %s could not be loaded; tried %s; %s, or ask for no GPUs", what, strings.Join(tried, ", "), install)
}

// libraryMajor is the major version in a library's name, libx.so.12.
func libraryMajor(name string) (int, bool) {
	_, v, ok := strings.Cut(name, ".so.")
	if !ok {
		return 0, false
	}
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	return n, err == nil
}

// kernelNames are the kernels of kernelSource, in the order of kernelApply...
var kernelNames = [kernelCount]string{"dfb_apply", "dfb_combine", "dfb_softmax", "dfb_fill_rows"}

// ptxCache holds kernelSource compiled for each compute capability.
var ptxCache struct {
	sync.Mutex
	ptx map[[2]int][]byte
}

// kernelPTX compiles kernelSource for compute capability major.minor,
// once per process. Where NVRTC does not know the device's architecture
// (a device newer than NVRTC), it compiles for the newest older one it
// knows, whose PTX the driver compiles for the device.
func kernelPTX(major, minor int) ([]byte, error) {
	ptxCache.Lock()
	defer ptxCache.Unlock()
	key := [2]int{major, minor}
	if ptx, ok := ptxCache.ptx[key]; ok {
		return ptx, nil
	}
	ptx, invalid, err := compile(fmt.Sprintf("--gpu-architecture=compute_%d%d", major, minor))
	for _, arch := range []int{120, 100, 90, 89, 86, 80, 75} {
		if !invalid || arch >= major*10+minor {
			continue
		}
		ptx, invalid, err = compile(fmt.Sprintf("--gpu-architecture=compute_%d", arch))
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if ptxCache.ptx == nil {
		ptxCache.ptx = map[[2]int][]byte{}
	}
	ptxCache.ptx[key] = ptx
	return ptx, nil
}

// compile compiles kernelSource with NVRTC option arch into NUL-terminated
// PTX; invalid says that NVRTC refused the option.
func compile(arch string) (ptx []byte, invalid bool, err error) {
	src, opt := C.CString(kernelSource), C.CString(arch)
	defer C.free(unsafe.Pointer(src))
	defer C.free(unsafe.Pointer(opt))
	var out, log *C.char
	var n C.size_t
	st := C.dfs_compile(src, opt, &out, &n, &log)
	defer C.free(unsafe.Pointer(out))
	defer C.free(unsafe.Pointer(log))
	if st.lib != 0 {
		err := statusError(st)
		if log != nil {
			err = fmt.Errorf("%w, compiling the stream's kernels with %s (NVRTC %s):\n%s", err, arch, nvrtcVersion(), strings.TrimSpace(C.GoString(log)))
		} else {
			err = fmt.Errorf("%w, compiling the stream's kernels with %s (NVRTC %s)", err, arch, nvrtcVersion())
		}
		return nil, st.lib == 3 && st.code == 5, err // NVRTC_ERROR_INVALID_OPTION
	}
	return C.GoBytes(unsafe.Pointer(out), C.int(n+1)), false, nil
}

func nvrtcVersion() string {
	v := int(C.dfs_nvrtc_version())
	return fmt.Sprintf("%d.%d", v/1000, v%1000/10)
}

// The cuBLAS statuses, cublasStatus_t.
var cublasStatuses = map[int]string{
	1: "CUBLAS_STATUS_NOT_INITIALIZED", 3: "CUBLAS_STATUS_ALLOC_FAILED", 7: "CUBLAS_STATUS_INVALID_VALUE",
	8: "CUBLAS_STATUS_ARCH_MISMATCH", 11: "CUBLAS_STATUS_MAPPING_ERROR", 13: "CUBLAS_STATUS_EXECUTION_FAILED",
	14: "CUBLAS_STATUS_INTERNAL_ERROR", 15: "CUBLAS_STATUS_NOT_SUPPORTED", 16: "CUBLAS_STATUS_LICENSE_ERROR",
}

// statusError describes a failed call.
func statusError(st C.dfs_status) error {
	call, code := C.GoString(st.call), int(st.code)
	switch st.lib {
	case 1:
		name := C.GoString(C.dfs_cu_error(C.dfs_result(code)))
		if code == 222 { // CUDA_ERROR_UNSUPPORTED_PTX_VERSION
			return fmt.Errorf("gpu: %s: %s (CUDA driver error %d): NVRTC %s is newer than the driver (CUDA %d.%d); install a newer NVIDIA driver, or put an older NVRTC first on the loader path",
				call, name, code, nvrtcVersion(), int(C.dfs_driver_version())/1000, int(C.dfs_driver_version())%1000/10)
		}
		return fmt.Errorf("gpu: %s: %s (CUDA driver error %d)", call, name, code)
	case 2:
		name, ok := cublasStatuses[code]
		if !ok {
			name = "an unknown cuBLAS status"
		}
		return fmt.Errorf("gpu: %s: %s (cuBLAS status %d)", call, name, code)
	case 3:
		return fmt.Errorf("gpu: %s: %s (NVRTC error %d)", call, C.GoString(C.dfs_nvrtc_error(C.dfs_nvrtc_result(code))), code)
	}
	return fmt.Errorf("gpu: %s failed (%d)", call, code)
}

// cudaStream is a Stream on a CUDA device: the device's primary context,
// one CUDA stream of its own (non-blocking) and a cuBLAS handle bound to
// it. Each method locks its goroutine to its OS thread and makes the
// context current there, since a CUDA context is current per thread.
type cudaStream struct {
	device  Device
	h       *C.dfs_stream // C memory
	used    uint64
	buffers []*cudaBuffer
	pinned  []pinnedBlock
	err     error // the first error an operation met since the last Sync
	closed  bool
}

// cudaBuffer is device memory of a cudaStream.
type cudaBuffer struct {
	s   *cudaStream
	ptr C.dfs_ptr
	n   int
}

func (b *cudaBuffer) Len() int { return b.n }

// From is a view of b from its offset-th value on; an offset past the end
// gives an empty view, which every operation's bounds check refuses.
func (b *cudaBuffer) From(offset int) Buffer {
	offset = min(max(offset, 0), b.n)
	return &cudaBuffer{s: b.s, ptr: b.ptr + C.dfs_ptr(offset)*4, n: b.n - offset}
}

// pinnedBlock is page-locked host memory of a cudaStream.
type pinnedBlock struct {
	p unsafe.Pointer // C memory
	n int            // float32s
}

// Open starts a stream on device d: its primary context, a CUDA stream and
// a cuBLAS handle, with the stream's kernels compiled for the device (once
// per process) and loaded. The stream's memory counts against d's
// BudgetBytes.
func Open(d Device) (Stream, error) {
	if err := loadStreamLibraries(); err != nil {
		return nil, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var major, minor C.int
	if st := C.dfs_compute(C.int(d.Ordinal), &major, &minor); st.lib != 0 {
		return nil, fmt.Errorf("opening a stream on GPU %d: %w", d.Ordinal, statusError(st))
	}
	ptx, err := kernelPTX(int(major), int(minor))
	if err != nil {
		return nil, err
	}
	h := (*C.dfs_stream)(C.calloc(1, C.sizeof_dfs_stream))
	if h == nil {
		return nil, errors.New("gpu: out of host memory opening a stream")
	}
	var names [kernelCount]*C.char
	for i, name := range kernelNames {
		names[i] = C.CString(name)
		defer C.free(unsafe.Pointer(names[i]))
	}
	cptx := C.CBytes(ptx)
	defer C.free(cptx)
	if st := C.dfs_open(h, C.int(d.Ordinal), (*C.char)(cptx), &names[0]); st.lib != 0 {
		C.dfs_close(h)
		C.free(unsafe.Pointer(h))
		return nil, fmt.Errorf("opening a stream on %s: %w", d, statusError(st))
	}
	return &cudaStream{device: d, h: h}, nil
}

// Device is the device the stream runs on.
func (s *cudaStream) Device() Device { return s.device }

// enter locks the goroutine to its thread for a call into CUDA (each C
// call makes the stream's context current first); leave undoes it.
func (s *cudaStream) enter() error {
	if s.closed {
		return errors.New("gpu: the stream is closed")
	}
	runtime.LockOSThread()
	return nil
}

func leave() { runtime.UnlockOSThread() }

// fail records err as the stream's first error since the last Sync and
// returns it.
func (s *cudaStream) fail(err error) error {
	if err != nil && s.err == nil {
		s.err = err
	}
	return err
}

// check turns a C call's status into an error, recorded for Sync.
func (s *cudaStream) check(st C.dfs_status) error {
	if st.lib == 0 {
		return nil
	}
	return s.fail(statusError(st))
}

// Alloc reserves n float32s of device memory.
func (s *cudaStream) Alloc(n int) (Buffer, error) {
	if s.closed {
		return nil, errors.New("gpu: the stream is closed")
	}
	if n < 0 || n > math.MaxInt/4 {
		return nil, fmt.Errorf("gpu: cannot allocate %d values", n)
	}
	size := uint64(n) * 4
	if budget := s.device.BudgetBytes(); budget > 0 && s.used+size > budget {
		return nil, fmt.Errorf("gpu: allocating %d MiB on %s would exceed this executor's %d MiB of it", size>>20, s.device, budget>>20)
	}
	b := &cudaBuffer{s: s, n: n}
	if n > 0 {
		runtime.LockOSThread()
		st := C.dfs_alloc(s.h, &b.ptr, C.size_t(size))
		runtime.UnlockOSThread()
		if st.lib != 0 {
			return nil, fmt.Errorf("allocating %d MiB on %s: %w", size>>20, s.device, statusError(st))
		}
		s.buffers = append(s.buffers, b)
	}
	s.used += size
	return b, nil
}

// Pinned allocates n float32s of page-locked host memory, freed at Close.
func (s *cudaStream) Pinned(n int) ([]float32, error) {
	if s.closed {
		return nil, errors.New("gpu: the stream is closed")
	}
	if n < 0 || n > math.MaxInt/4 {
		return nil, fmt.Errorf("gpu: cannot allocate %d pinned values", n)
	}
	if n == 0 {
		return []float32{}, nil
	}
	var p unsafe.Pointer
	runtime.LockOSThread()
	st := C.dfs_host_alloc(s.h, &p, C.size_t(n)*4)
	runtime.UnlockOSThread()
	if st.lib != 0 {
		return nil, fmt.Errorf("allocating %d MiB of pinned host memory: %w", n>>18, statusError(st))
	}
	s.pinned = append(s.pinned, pinnedBlock{p: p, n: n})
	return unsafe.Slice((*float32)(p), n), nil
}

// buffer is b as this stream's buffer.
func (s *cudaStream) buffer(b Buffer, what string) (*cudaBuffer, error) {
	c, ok := b.(*cudaBuffer)
	if !ok || c == nil {
		return nil, fmt.Errorf("gpu: %s: a %T is not a buffer of a CUDA stream", what, b)
	}
	if c.s != s {
		return nil, fmt.Errorf("gpu: %s: the buffer belongs to another stream", what)
	}
	return c, nil
}

// span checks that rows rows of width values at stride ld fit in b.
func span(what string, b *cudaBuffer, ld, rows, width int) error {
	if rows < 0 || width < 0 || ld < 0 {
		return fmt.Errorf("gpu: %s: %d rows of %d values at stride %d", what, rows, width, ld)
	}
	if rows == 0 || width == 0 {
		return nil
	}
	if rows > math.MaxInt/width || ld > 0 && rows-1 > (math.MaxInt-width)/ld {
		return fmt.Errorf("gpu: %s: %d rows at stride %d overflow", what, rows, ld)
	}
	if need := (rows-1)*ld + width; need > b.n {
		return fmt.Errorf("gpu: %s: %d rows of %d values at stride %d need %d values; the buffer holds %d", what, rows, width, ld, need, b.n)
	}
	return nil
}

// pinnedHost checks that host lies in pinned memory of the stream and
// returns its address.
func (s *cudaStream) pinnedHost(host []float32, what string) (unsafe.Pointer, error) {
	p := unsafe.Pointer(unsafe.SliceData(host))
	start, end := uintptr(p), uintptr(p)+uintptr(len(host))*4
	for _, b := range s.pinned {
		if base := uintptr(b.p); base <= start && end <= base+uintptr(b.n)*4 {
			return p, nil
		}
	}
	return nil, fmt.Errorf("gpu: %s: the host slice is not memory from this stream's Pinned", what)
}

// blocks is the grid for n elements, one thread each, with the kernels'
// grid-stride loops covering what a capped grid leaves.
func blocks(n int) C.uint {
	return C.uint(min(max((n+kernelBlock-1)/kernelBlock, 1), 1<<16))
}

// CopyIn queues a copy of host to the start of dst.
func (s *cudaStream) CopyIn(dst Buffer, host []float32) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer leave()
	d, err := s.buffer(dst, "CopyIn")
	if err != nil {
		return s.fail(err)
	}
	if len(host) > d.n {
		return s.fail(fmt.Errorf("gpu: copying %d values into a buffer of %d", len(host), d.n))
	}
	if len(host) == 0 {
		return nil
	}
	p, err := s.pinnedHost(host, "CopyIn")
	if err != nil {
		return s.fail(err)
	}
	return s.check(C.dfs_copy_in(s.h, d.ptr, p, C.size_t(len(host))*4))
}

// CopyOut queues a copy of rows x width values of src (stride lds) to
// host, packed.
func (s *cudaStream) CopyOut(host []float32, src Buffer, lds, rows, width int) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer leave()
	b, err := s.buffer(src, "CopyOut")
	if err != nil {
		return s.fail(err)
	}
	if err := span("CopyOut", b, lds, rows, width); err != nil {
		return s.fail(err)
	}
	if rows == 0 || width == 0 {
		return nil
	}
	if rows > 1 && lds < width {
		return s.fail(fmt.Errorf("gpu: CopyOut: stride %d is under the width %d", lds, width))
	}
	if len(host) < rows*width {
		return s.fail(fmt.Errorf("gpu: CopyOut: %d rows of %d values into a host slice of %d", rows, width, len(host)))
	}
	p, err := s.pinnedHost(host[:rows*width], "CopyOut")
	if err != nil {
		return s.fail(err)
	}
	if rows == 1 {
		lds = width
	}
	return s.check(C.dfs_copy2d(s.h, 0, p, C.size_t(width)*4, b.ptr, C.size_t(lds)*4, C.size_t(width)*4, C.size_t(rows)))
}

// Copy queues a copy of rows x width values from src (stride lds) to dst
// (stride ldd).
func (s *cudaStream) Copy(dst Buffer, ldd int, src Buffer, lds, rows, width int) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer leave()
	d, err := s.buffer(dst, "Copy")
	if err != nil {
		return s.fail(err)
	}
	b, err := s.buffer(src, "Copy")
	if err != nil {
		return s.fail(err)
	}
	if err := span("Copy to", d, ldd, rows, width); err != nil {
		return s.fail(err)
	}
	if err := span("Copy from", b, lds, rows, width); err != nil {
		return s.fail(err)
	}
	if rows == 0 || width == 0 {
		return nil
	}
	if rows > 1 && (lds < width || ldd < width) {
		return s.fail(fmt.Errorf("gpu: Copy: strides %d and %d must not be under the width %d", ldd, lds, width))
	}
	if rows == 1 {
		ldd, lds = width, width
	}
	return s.check(C.dfs_copy2d(s.h, d.ptr, nil, C.size_t(ldd)*4, b.ptr, C.size_t(lds)*4, C.size_t(width)*4, C.size_t(rows)))
}

// Gemm queues C = A x W (+ bias in every row).
func (s *cudaStream) Gemm(c Buffer, ldc int, a Buffer, lda int, w, bias Buffer, rows, k, n int) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer leave()
	cb, err := s.buffer(c, "Gemm C")
	if err != nil {
		return s.fail(err)
	}
	ab, err := s.buffer(a, "Gemm A")
	if err != nil {
		return s.fail(err)
	}
	wb, err := s.buffer(w, "Gemm W")
	if err != nil {
		return s.fail(err)
	}
	var biasPtr C.dfs_ptr
	if bias != nil {
		bb, err := s.buffer(bias, "Gemm bias")
		if err != nil {
			return s.fail(err)
		}
		if bb.n < n {
			return s.fail(fmt.Errorf("gpu: Gemm: a bias of %d values for %d columns", bb.n, n))
		}
		biasPtr = bb.ptr
	}
	for _, v := range [...]int{rows, k, n, lda, ldc} {
		if v > math.MaxInt32 {
			return s.fail(fmt.Errorf("gpu: Gemm: %d is more than cuBLAS takes", v))
		}
	}
	if err := span("Gemm A", ab, lda, rows, k); err != nil {
		return s.fail(err)
	}
	if err := span("Gemm C", cb, ldc, rows, n); err != nil {
		return s.fail(err)
	}
	if err := span("Gemm W", wb, n, k, n); err != nil {
		return s.fail(err)
	}
	if rows == 0 || n == 0 {
		return nil
	}
	if rows == 1 { // the strides of a single row do not matter; cuBLAS wants them at least k and n
		lda, ldc = max(lda, k), max(ldc, n)
	}
	if lda < k || ldc < n {
		return s.fail(fmt.Errorf("gpu: Gemm: strides lda %d and ldc %d must not be under k %d and n %d", lda, ldc, k, n))
	}
	return s.check(C.dfs_gemm(s.h, blocks(rows*n), kernelBlock, cb.ptr, C.int(ldc), ab.ptr, C.int(lda), wb.ptr, biasPtr, C.int(rows), C.int(k), C.int(n)))
}

// Apply queues Y = f(X).
func (s *cudaStream) Apply(f Func, y Buffer, ldy int, x Buffer, ldx, rows, width int, alpha float32) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer leave()
	if f < 0 || int(f) >= len(funcNames) {
		return s.fail(fmt.Errorf("gpu: no elementwise function %v", f))
	}
	yb, err := s.buffer(y, "Apply Y")
	if err != nil {
		return s.fail(err)
	}
	xb, err := s.buffer(x, "Apply X")
	if err != nil {
		return s.fail(err)
	}
	if err := span("Apply Y", yb, ldy, rows, width); err != nil {
		return s.fail(err)
	}
	if err := span("Apply X", xb, ldx, rows, width); err != nil {
		return s.fail(err)
	}
	if rows == 0 || width == 0 {
		return nil
	}
	return s.check(C.dfs_apply(s.h, blocks(rows*width), kernelBlock, C.int(f), yb.ptr, C.longlong(ldy), xb.ptr, C.longlong(ldx),
		C.longlong(rows), C.longlong(width), C.float(alpha)))
}

// Combine queues Y = X op Z, or Z op X when zFirst; ldz 0 repeats Z's
// one row in every row.
func (s *cudaStream) Combine(op Op, y Buffer, ldy int, x Buffer, ldx int, z Buffer, ldz int, zFirst bool, rows, width int) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer leave()
	if op < 0 || int(op) >= len(opNames) {
		return s.fail(fmt.Errorf("gpu: no elementwise operation %v", op))
	}
	yb, err := s.buffer(y, "Combine Y")
	if err != nil {
		return s.fail(err)
	}
	xb, err := s.buffer(x, "Combine X")
	if err != nil {
		return s.fail(err)
	}
	zb, err := s.buffer(z, "Combine Z")
	if err != nil {
		return s.fail(err)
	}
	if err := span("Combine Y", yb, ldy, rows, width); err != nil {
		return s.fail(err)
	}
	if err := span("Combine X", xb, ldx, rows, width); err != nil {
		return s.fail(err)
	}
	if err := span("Combine Z", zb, ldz, rows, width); err != nil {
		return s.fail(err)
	}
	if rows == 0 || width == 0 {
		return nil
	}
	first := C.int(0)
	if zFirst {
		first = 1
	}
	return s.check(C.dfs_combine(s.h, blocks(rows*width), kernelBlock, C.int(op), yb.ptr, C.longlong(ldy), xb.ptr, C.longlong(ldx),
		zb.ptr, C.longlong(ldz), first, C.longlong(rows), C.longlong(width)))
}

// Softmax queues the normalization of each row of X into Y.
func (s *cudaStream) Softmax(y Buffer, ldy int, x Buffer, ldx, rows, width int) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer leave()
	yb, err := s.buffer(y, "Softmax Y")
	if err != nil {
		return s.fail(err)
	}
	xb, err := s.buffer(x, "Softmax X")
	if err != nil {
		return s.fail(err)
	}
	if err := span("Softmax Y", yb, ldy, rows, width); err != nil {
		return s.fail(err)
	}
	if err := span("Softmax X", xb, ldx, rows, width); err != nil {
		return s.fail(err)
	}
	if rows == 0 || width == 0 {
		return nil
	}
	return s.check(C.dfs_softmax(s.h, C.uint(min(rows, 1<<16)), kernelBlock, yb.ptr, C.longlong(ldy), xb.ptr, C.longlong(ldx),
		C.longlong(rows), C.longlong(width)))
}

// Sync waits for every queued operation; it returns the first error an
// operation met since the last Sync (also where the operation returned it
// at once), or what waiting met.
func (s *cudaStream) Sync() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer leave()
	err := statusOrNil(C.dfs_sync(s.h))
	if first := s.err; first != nil {
		s.err = nil
		return first
	}
	return err
}

func statusOrNil(st C.dfs_status) error {
	if st.lib == 0 {
		return nil
	}
	return statusError(st)
}

// Close waits for the queued work and frees the stream, its buffers and
// its pinned memory; it returns the first error, and nil when the stream
// is already closed.
func (s *cudaStream) Close() error {
	if s.closed {
		return nil
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s.closed = true
	errs := []error{statusOrNil(C.dfs_sync(s.h))}
	for _, b := range s.buffers {
		errs = append(errs, statusOrNil(C.dfs_free(s.h, b.ptr)))
		b.ptr = 0
	}
	for _, p := range s.pinned {
		errs = append(errs, statusOrNil(C.dfs_host_free(s.h, p.p)))
	}
	errs = append(errs, statusOrNil(C.dfs_close(s.h)))
	C.free(unsafe.Pointer(s.h))
	s.h, s.buffers, s.pinned, s.used, s.err = nil, nil, nil, 0, nil
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("closing the stream on %s: %w", s.device, err)
		}
	}
	return nil
}
