package kubecluster

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestContainerEnvResolvesAsTheKubeletDoes(t *testing.T) {
	cs := fake.NewClientset(
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns"}, Data: map[string]string{"a": "1", "b": "2"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "ns"}, Data: map[string][]byte{"token": []byte("t0k")}},
	)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "job-3-abcde", Namespace: "ns", UID: "u1",
		Annotations: map[string]string{"batch.kubernetes.io/job-completion-index": "3"}, Labels: map[string]string{"app": "x"}},
		Spec: corev1.PodSpec{NodeName: NodeName, ServiceAccountName: "default"}}
	c := &corev1.Container{
		EnvFrom: []corev1.EnvFromSource{{Prefix: "CM_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}}}},
		Env: []corev1.EnvVar{
			{Name: "JOB_COMPLETION_INDEX", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}},
			{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
			{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
			{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "token"}}},
			{Name: "MISSING", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}, Key: "k", Optional: ptr(true)}}},
			{Name: "MEM", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
			{Name: "MSG", Value: "index $(JOB_COMPLETION_INDEX) of $(APP), $(UNSET) and $$(APP)"},
			{Name: "CM_a", Value: "overridden"},
		},
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")}},
	}
	env, err := containerEnv(context.Background(), cs, pod, c)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"CM_a=overridden", "CM_b=2", "JOB_COMPLETION_INDEX=3", "APP=x", "NODE=" + NodeName, "TOKEN=t0k", "MISSING=", "MEM=512",
		"MSG=index 3 of x, $(UNSET) and $(APP)",
	}, env)

	c.Env = []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "absent"}, Key: "k"}}}}
	_, err = containerEnv(context.Background(), cs, pod, c)
	assert.ErrorContains(t, err, "env X: secret ns/absent")
}

func TestLastLines(t *testing.T) {
	log := []byte("a\nb\nc\n")
	assert.Equal(t, "c\n", string(lastLines(log, 1)))
	assert.Equal(t, "b\nc\n", string(lastLines(log, 2)))
	assert.Equal(t, "a\nb\nc\n", string(lastLines(log, 5)))
	assert.Empty(t, lastLines(log, 0))
}
