//go:build cuda

package gpu

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>

// The few CUDA driver API entry points discovery needs, declared here and
// found with dlsym, so that the build needs no CUDA headers and the binary
// no libcuda at link time.
typedef int CUresult;
typedef int CUdevice;
enum { dfbComputeMajor = 75, dfbComputeMinor = 76 }; // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_*

static CUresult (*dfb_cuInit)(unsigned int);
static CUresult (*dfb_cuDeviceGetCount)(int *);
static CUresult (*dfb_cuDeviceGet)(CUdevice *, int);
static CUresult (*dfb_cuDeviceGetName)(char *, int, CUdevice);
static CUresult (*dfb_cuDeviceTotalMem)(size_t *, CUdevice);
static CUresult (*dfb_cuDeviceGetAttribute)(int *, int, CUdevice);
static CUresult (*dfb_cuGetErrorName)(CUresult, const char **);

// dfb_load opens the driver library and finds the entry points; it returns
// NULL, or what failed.
static const char *dfb_load(void) {
	void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib) return dlerror();
	if (!(dfb_cuInit = dlsym(lib, "cuInit"))) return "cuInit not found";
	if (!(dfb_cuDeviceGetCount = dlsym(lib, "cuDeviceGetCount"))) return "cuDeviceGetCount not found";
	if (!(dfb_cuDeviceGet = dlsym(lib, "cuDeviceGet"))) return "cuDeviceGet not found";
	if (!(dfb_cuDeviceGetName = dlsym(lib, "cuDeviceGetName"))) return "cuDeviceGetName not found";
	if (!(dfb_cuDeviceTotalMem = dlsym(lib, "cuDeviceTotalMem_v2"))) return "cuDeviceTotalMem_v2 not found";
	if (!(dfb_cuDeviceGetAttribute = dlsym(lib, "cuDeviceGetAttribute"))) return "cuDeviceGetAttribute not found";
	if (!(dfb_cuGetErrorName = dlsym(lib, "cuGetErrorName"))) return "cuGetErrorName not found";
	return NULL;
}

static CUresult dfb_init(void) { return dfb_cuInit(0); }
static CUresult dfb_count(int *n) { return dfb_cuDeviceGetCount(n); }

// dfb_describe reads device ordinal's name, memory and compute capability.
static CUresult dfb_describe(int ordinal, char *name, int len, size_t *mem, int *major, int *minor) {
	CUdevice d;
	CUresult r;
	if ((r = dfb_cuDeviceGet(&d, ordinal))) return r;
	if ((r = dfb_cuDeviceGetName(name, len, d))) return r;
	if ((r = dfb_cuDeviceTotalMem(mem, d))) return r;
	if ((r = dfb_cuDeviceGetAttribute(major, dfbComputeMajor, d))) return r;
	return dfb_cuDeviceGetAttribute(minor, dfbComputeMinor, d);
}

static const char *dfb_error(CUresult r) {
	const char *s = "an unknown CUDA error";
	dfb_cuGetErrorName(r, &s);
	return s;
}
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// loadDriver loads libcuda.so.1 and initializes the driver, once.
var loadDriver = sync.OnceValue(func() error {
	if msg := C.dfb_load(); msg != nil {
		return fmt.Errorf("gpu: the NVIDIA driver's library libcuda.so.1 could not be loaded (%s); install the NVIDIA driver on this machine, or ask for no GPUs", C.GoString(msg))
	}
	if r := C.dfb_init(); r != 0 {
		return driverError("cuInit", r)
	}
	return nil
})

func driverError(call string, r C.CUresult) error {
	return fmt.Errorf("gpu: %s: %s (CUDA driver error %d)", call, C.GoString(C.dfb_error(r)), int(r))
}

// Devices lists the GPUs the driver shows this process.
func Devices() ([]Device, error) {
	if err := loadDriver(); err != nil {
		return nil, err
	}
	var n C.int
	if r := C.dfb_count(&n); r != 0 {
		return nil, driverError("cuDeviceGetCount", r)
	}
	devices := make([]Device, int(n))
	var name [256]C.char
	for i := range devices {
		var mem C.size_t
		var major, minor C.int
		if r := C.dfb_describe(C.int(i), &name[0], C.int(len(name)), &mem, &major, &minor); r != 0 {
			return nil, driverError(fmt.Sprintf("describing device %d", i), r)
		}
		devices[i] = Device{
			Ordinal: i, Name: C.GoString((*C.char)(unsafe.Pointer(&name[0]))), MemoryBytes: uint64(mem),
			ComputeMajor: int(major), ComputeMinor: int(minor),
		}
	}
	return devices, nil
}
