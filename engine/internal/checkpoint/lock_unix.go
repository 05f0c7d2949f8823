//go:build unix

package checkpoint

import (
	"os"
	"syscall"
)

// lockFileHandle takes an exclusive, non-blocking lock on f, held until f
// is closed or its process ends.
func lockFileHandle(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
