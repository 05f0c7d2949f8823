package k8s

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
)

func TestBackendOnFakeClientsetRefusesAJobBeyondTheAPILimitsBeforeStaging(t *testing.T) {
	ids := make([]int64, 100_001)
	for i := range ids {
		ids[i] = int64(i)
	}
	in, err := frame.New(frame.Int64s("id", ids))
	require.NoError(t, err)
	cluster := newFakeCluster(t, echoAttempt, nil)
	// 100,001 tasks: above 100,000 completions the API server takes at
	// most 10,000 pods at once.
	_, err = cluster.client(t, echoAttempt, nil).Start(context.Background(), in,
		engine.Options{BatchSize: 1, Executors: 10_001, Cloud: true})
	require.Error(t, err)
	assert.ErrorContains(t, err, "Options.Executors 10001 is above the 10000 pods")
	assert.Empty(t, cluster.staged(t), "nothing is staged")
	for _, a := range cluster.clientset.Actions() {
		assert.Contains(t, []string{"list", "watch"}, a.GetVerb(), "only the Kubelet's watch: no object was created")
	}
}
