//go:build !cuda

package gpu

// Devices lists the GPUs present; this build has no CUDA, so it reports
// ErrNoCUDA.
func Devices() ([]Device, error) {
	return nil, ErrNoCUDA
}

// Open starts a stream on device d; this build has no CUDA, so it reports
// ErrNoCUDA.
func Open(d Device) (Stream, error) {
	return nil, ErrNoCUDA
}
