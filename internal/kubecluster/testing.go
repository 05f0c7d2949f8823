package kubecluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
)

// The cluster of this test binary, started by RunTests.
var (
	shared    *Cluster
	errShared error = errors.New("kubecluster: RunTests did not run: call it from TestMain")
	namespace atomic.Int64
)

// DirEnv names a folder in which RunTests' cluster keeps its state and
// logs (in a folder of its own), after the tests too; by default they go
// to a temporary folder that is removed.
const DirEnv = "DFBATCH_KUBE_DIR"

// RunTests is the body of the TestMain of a package whose tests need a
// cluster: it starts one with cfg for the whole test binary (about 10 s),
// runs the tests and stops it, and returns m.Run's exit code. When the
// cluster cannot start, the tests run anyway and Need reports why in each.
// Progress and the cluster's start time go to standard error.
func RunTests(m *testing.M, cfg Config) int {
	if cfg.Log == nil {
		cfg.Log = os.Stderr
	}
	if dir := os.Getenv(DirEnv); cfg.Dir == "" && dir != "" {
		// To look at the logs and state after the tests: a folder of
		// this test binary's own, as several may run at once.
		if d, err := os.MkdirTemp(dir, "kubecluster-"); err == nil {
			cfg.Dir = d
		}
	}
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	shared, errShared = Start(ctx, cfg)
	cancel()
	if errShared != nil {
		fmt.Fprintf(os.Stderr, "kubecluster: no cluster after %s: %v\n", time.Since(begin).Round(time.Millisecond), errShared)
	}
	code := m.Run()
	if shared != nil {
		if code != 0 {
			fmt.Fprintf(os.Stderr, "kubecluster: the end of each component's log:\n%s", shared.ComponentLogs(40))
		}
		shared.Stop()
	}
	return code
}

// InCI reports whether CI=true, where a test that cannot have what it needs
// fails rather than skips.
func InCI() bool { return os.Getenv("CI") == "true" }

// Need returns the test binary's cluster. Without one it skips the test
// when the binaries are missing and CI is not true, and fails it
// otherwise.
func Need(t testing.TB) *Cluster {
	t.Helper()
	if shared != nil {
		return shared
	}
	if errors.Is(errShared, ErrNoBinaries) && !InCI() {
		t.Skip(errShared)
	}
	t.Fatal(errShared)
	return nil
}

// Namespace creates a namespace of its own for the test, named after it,
// with its default service account, and deletes it when the test ends.
func (c *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	name := strings.ToLower(t.Name())
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, name)
	if len(name) > 40 {
		name = name[:40]
	}
	name = strings.Trim(name, "-") + fmt.Sprintf("-%d%s", namespace.Add(1), rand.String(3))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.CreateNamespace(ctx, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Clientset.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	})
	return name
}
