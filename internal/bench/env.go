package bench

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/dfbatch/dfbatch/model/onnx"
	"golang.org/x/sys/cpu"
)

// Env is the machine and the versions a Compare run measured on.
type Env struct {
	CPU                string
	Cores, GOMAXPROCS  int
	LoadStart, LoadEnd string
	GoVersion          string
	// Commit is dfbatch's git commit, with a mark when the working tree
	// differs from it.
	Commit string
	// ORTVersion and ORTLibrary are ONNX Runtime's, "" when skipped;
	// ORTGo is the onnxruntime_go module's version.
	ORTVersion, ORTLibrary, ORTGo string
	Python                        *PythonInfo
	// Kernels are the SIMD kernels dfbatch's pure-Go runner uses here.
	Kernels string
	// Sklearn is the version of scikit-learn that trained the zoo.
	Sklearn  string
	Command  string
	Started  time.Time
	Duration time.Duration
	Reps     int
	MinRep   time.Duration
}

func readEnv(cfg Config) Env {
	return Env{
		CPU: cpuModel() + simd(), Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		LoadStart: loadAverage(), GoVersion: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		Kernels: onnx.Kernels(), Commit: gitCommit(), ORTGo: moduleVersion("github.com/yalue/onnxruntime_go"),
		Command: cfg.Command, Started: time.Now(), Reps: cfg.Reps, MinRep: cfg.MinRep,
	}
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// simd lists the vector extensions that decide which GEMM kernel
// dfbatch's dense runner uses (AVX-512F: 32 columns, else AVX2 + FMA: 16)
// and that ONNX Runtime's kernels use too.
func simd() string {
	var have []string
	for _, f := range []struct {
		name string
		ok   bool
	}{{"AVX2", cpu.X86.HasAVX2}, {"FMA", cpu.X86.HasFMA}, {"AVX-512F", cpu.X86.HasAVX512F}} {
		if f.ok {
			have = append(have, f.name)
		}
	}
	if len(have) == 0 {
		return ""
	}
	return " (" + strings.Join(have, ", ") + ")"
}

// loadAverage is /proc/loadavg's 1, 5 and 15-minute load averages.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

// gitCommit is HEAD's commit, marked when tracked files differ from it.
func gitCommit() string {
	commit, clean := Checkout()
	if !clean {
		commit += " with uncommitted changes"
	}
	return commit
}

// Checkout is the working tree's HEAD commit, and whether its tracked
// files are as committed. It only reads: no index refresh, no lock.
func Checkout() (commit string, clean bool) {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown (not a git checkout)", false
	}
	status, err := exec.Command("git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no").Output()
	return strings.TrimSpace(string(out)), err == nil && len(strings.TrimSpace(string(status))) == 0
}

// moduleVersion is the version of module path built into this binary.
func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, d := range info.Deps {
		if d.Path == path {
			return d.Version
		}
	}
	return ""
}
