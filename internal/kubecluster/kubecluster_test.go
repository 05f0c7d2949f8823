//go:build kubecluster

package kubecluster_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/dfbatch/dfbatch/internal/kubecluster"
)

func TestMain(m *testing.M) {
	os.Exit(kubecluster.RunTests(m, kubecluster.Config{
		Images: map[string]kubecluster.Image{"shell:1": {Entrypoint: []string{"/bin/sh", "-c"}}},
	}))
}

func ptr[T any](v T) *T { return &v }

func shellJob(name, script string, completions int32) *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: batchv1.JobSpec{
			CompletionMode: ptr(batchv1.IndexedCompletion), Completions: ptr(completions), Parallelism: ptr(completions),
			BackoffLimitPerIndex: ptr(int32(0)),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy:                 corev1.RestartPolicyNever,
				TerminationGracePeriodSeconds: ptr(int64(5)),
				Containers: []corev1.Container{{
					Name: "main", Image: "shell:1", Args: []string{script},
					TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
					Env: []corev1.EnvVar{
						{Name: "GREETING", Value: "hello"},
						{Name: "PHRASE", Value: "$(GREETING) world"},
						{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
						{Name: "FROM_CM", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
							LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "colour"}}},
						{Name: "FROM_SECRET", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
							LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "token"}}},
					},
				}},
			}},
		},
	}
}

func waitJob(t *testing.T, c *kubecluster.Cluster, ns, name string, cond batchv1.JobConditionType, timeout time.Duration) *batchv1.Job {
	t.Helper()
	var job *batchv1.Job
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		var err error
		if job, err = c.Clientset.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			return false, err
		}
		for _, jc := range job.Status.Conditions {
			if jc.Type == cond && jc.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		pods, _ := c.Clientset.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
		for _, p := range pods.Items {
			t.Logf("pod %s: node %q phase %s conditions %+v containers %+v", p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.Conditions, p.Status.ContainerStatuses)
		}
	}
	require.NoError(t, err, "Job %s/%s never %s: %+v", ns, name, cond, job.Status)
	return job
}

func TestIndexedJobOnClusterRunsEachIndexWithItsEnvironmentAndServesItsLogs(t *testing.T) {
	c := kubecluster.Need(t)
	ns := c.Namespace(t)
	ctx := context.Background()
	_, err := c.Clientset.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"colour": "teal"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = c.Clientset.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds"}, StringData: map[string]string{"token": "s3cret"}}, metav1.CreateOptions{})
	require.NoError(t, err)

	script := `echo "index=$JOB_COMPLETION_INDEX pod=$POD host=$HOSTNAME phrase=$PHRASE cm=$FROM_CM secret=$FROM_SECRET"; test "$JOB_COMPLETION_INDEX" != 2 || { echo "index 2 fails"; exit 3; }`
	_, err = c.Clientset.BatchV1().Jobs(ns).Create(ctx, shellJob("greet", script, 3), metav1.CreateOptions{})
	require.NoError(t, err)
	job := waitJob(t, c, ns, "greet", batchv1.JobFailed, time.Minute)
	assert.Equal(t, "0,1", job.Status.CompletedIndexes)
	assert.Equal(t, "2", *job.Status.FailedIndexes)

	pods, err := c.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=greet"})
	require.NoError(t, err)
	require.Len(t, pods.Items, 3)
	for _, p := range pods.Items {
		index := p.Labels[batchv1.JobCompletionIndexAnnotation]
		assert.Equal(t, kubecluster.NodeName, p.Spec.NodeName, "bound by the scheduler")
		logs, err := c.Clientset.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{Container: "main"}).DoRaw(ctx)
		require.NoError(t, err, "pods/log through the API server")
		assert.Equal(t, "index="+index+" pod="+p.Name+" host=greet-"+index+" phrase=hello world cm=teal secret=s3cret\n",
			strings.SplitAfter(string(logs), "\n")[0])
		term := p.Status.ContainerStatuses[0].State.Terminated
		require.NotNil(t, term)
		if index == "2" {
			assert.Equal(t, corev1.PodFailed, p.Status.Phase)
			assert.Equal(t, int32(3), term.ExitCode)
			assert.Contains(t, term.Message, "index 2 fails", "FallbackToLogsOnError")
			tail, err := c.Clientset.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{Container: "main", TailLines: ptr(int64(1))}).DoRaw(ctx)
			require.NoError(t, err)
			assert.Equal(t, "index 2 fails\n", string(tail))
		} else {
			assert.Equal(t, corev1.PodSucceeded, p.Status.Phase)
			assert.Equal(t, int32(0), term.ExitCode)
		}
	}
}

func TestForegroundDeletionOnClusterStopsAJobsRunningPods(t *testing.T) {
	c := kubecluster.Need(t)
	ns := c.Namespace(t)
	ctx := context.Background()
	job := shellJob("sleepy", "echo started; exec sleep 600", 2)
	job.Spec.Template.Spec.Containers[0].Env = nil
	_, err := c.Clientset.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		j, err := c.Clientset.BatchV1().Jobs(ns).Get(ctx, "sleepy", metav1.GetOptions{})
		return err == nil && j.Status.Ready != nil && *j.Status.Ready == 2, err
	}))

	begin := time.Now()
	require.NoError(t, c.Clientset.BatchV1().Jobs(ns).Delete(ctx, "sleepy", metav1.DeleteOptions{PropagationPolicy: ptr(metav1.DeletePropagationForeground)}))
	require.NoError(t, wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := c.Clientset.BatchV1().Jobs(ns).Get(ctx, "sleepy", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}), "the Job is gone once its pods are")
	pods, err := c.Clientset.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Empty(t, pods.Items)
	assert.Less(t, time.Since(begin), 20*time.Second, "SIGTERM stops sleep at once; no wait for the grace period")
}
