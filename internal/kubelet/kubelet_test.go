package kubelet

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTerminationMessageKeepsTheLast80LinesAndAtMost2048Bytes(t *testing.T) {
	assert.Equal(t, "a\nb\nc\n", TerminationMessage([]byte("a\nb\nc\n")))
	var lines []string
	for i := range 100 {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	got := TerminationMessage([]byte(strings.Join(lines, "\n") + "\n"))
	assert.True(t, strings.HasPrefix(got, "line 20\n"), got[:20])
	long := strings.Repeat("x", 3000) + "\nend\n"
	assert.Len(t, TerminationMessage([]byte(long)), 2048)
	assert.True(t, strings.HasSuffix(TerminationMessage([]byte(long)), "\nend\n"))
}

func TestFieldValueResolvesTheDownwardAPIsPaths(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u",
		Annotations: map[string]string{"batch.kubernetes.io/job-completion-index": "7"}}}
	for path, want := range map[string]string{
		"metadata.name": "p", "metadata.namespace": "ns", "metadata.uid": "u", "status.podIP": "10.0.0.1",
		"metadata.annotations['batch.kubernetes.io/job-completion-index']": "7",
	} {
		got, err := FieldValue(pod, path, "10.0.0.1")
		assert.NoError(t, err, path)
		assert.Equal(t, want, got, path)
	}
	_, err := FieldValue(pod, "spec.bogus", "10.0.0.1")
	assert.ErrorContains(t, err, `unsupported fieldRef "spec.bogus"`)
}
