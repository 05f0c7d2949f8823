//go:build kubecluster

package main

// The example on a real control plane (internal/kubecluster) gives what it
// gives on the in-process stand-in: this test binary is the example (for
// the client, and as the image of the Job's pods) when REMOTE_EXAMPLE=1.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/internal/kubecluster"
)

const image = "remote-example:kubecluster"

func TestMain(m *testing.M) {
	if os.Getenv("REMOTE_EXAMPLE") == "1" {
		main()
		os.Exit(0)
	}
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	os.Exit(kubecluster.RunTests(m, kubecluster.Config{
		Images: map[string]kubecluster.Image{image: {Entrypoint: []string{exe}, Env: []string{"REMOTE_EXAMPLE=1"}}},
	}))
}

// example runs the example with args and returns its output, with what
// differs between runs (the execution id, the Job's name and namespace,
// the duration) and the stand-in's opening line taken out.
func example(t *testing.T, args ...string) string {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "REMOTE_EXAMPLE=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s\n%s", out, stderr.String())
	s := regexp.MustCompile(`(?m)^no -image: .*\n`).ReplaceAllString(string(out), "")
	s = regexp.MustCompile(`dfb-[0-9a-f]{12}`).ReplaceAllString(s, "dfb-ID")
	s = regexp.MustCompile(`(?m)^(Job dfbatch-dfb-ID in namespace) \S+$`).ReplaceAllString(s, "$1 NS")
	return regexp.MustCompile(`succeeded in [0-9.]+m?s`).ReplaceAllString(s, "succeeded in D")
}

func TestRemoteExampleOnClusterPrintsWhatItPrintsOnTheStandIn(t *testing.T) {
	c := kubecluster.Need(t)
	standIn := example(t)
	onCluster := example(t, "-image", image, "-bucket", "file://"+filepath.ToSlash(t.TempDir()),
		"-kubeconfig", c.Kubeconfig, "-namespace", c.Namespace(t))
	assert.Equal(t, standIn, onCluster)
	assert.Contains(t, onCluster, "tasks 5/20\ntasks 10/20\ntasks 15/20\ntasks 20/20\n", "each progress line once")
	assert.Contains(t, onCluster, "order matches:    true")
}
