package engine_test

import (
	"context"
	"sync"
	"testing"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWarmUpLoadsOnceForManyRunsUntilClose(t *testing.T) {
	l := &countingLoader{}
	client := engine.NewClient(l)
	opts := engine.Options{BatchSize: 10, Executors: 3, CPUs: 1}
	require.NoError(t, client.WarmUp(context.Background(), opts))
	assert.Equal(t, 3, l.loads)
	for range 4 {
		out, err := client.RunFrame(context.Background(), idFrame(t, 100), opts)
		require.NoError(t, err)
		assert.Equal(t, seq(100), outputIDs(t, out))
	}
	assert.Equal(t, 3, l.loads, "runs reuse the warm instances")
	assert.Zero(t, l.closed.Load(), "runs give warm instances back instead of closing them")

	_, err := client.RunFrame(context.Background(), idFrame(t, 100), engine.Options{BatchSize: 10, Executors: 3, CPUs: 2})
	require.NoError(t, err)
	assert.Equal(t, 6, l.loads, "other resources need other instances")
	assert.Equal(t, int64(3), l.closed.Load(), "which that run closes")

	require.NoError(t, client.Close())
	assert.Equal(t, int64(6), l.closed.Load())
	_, err = client.RunFrame(context.Background(), idFrame(t, 10), opts)
	require.NoError(t, err)
	assert.Equal(t, 7, l.loads, "after Close, runs load their own again")
}

func TestWarmInstancesServeOneRunAtATime(t *testing.T) {
	var mu sync.Mutex
	inUse := map[model.Model]bool{}
	var clash bool
	l := model.LoaderFunc(func(ctx context.Context, exec model.Executor) (model.Model, error) {
		var self model.Model
		self = &exclusiveModel{check: func(enter bool) {
			mu.Lock()
			defer mu.Unlock()
			if enter && inUse[self] {
				clash = true
			}
			inUse[self] = enter
		}}
		return self, nil
	})
	client := engine.NewClient(l)
	opts := engine.Options{BatchSize: 5, Executors: 2}
	require.NoError(t, client.WarmUp(context.Background(), opts))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			_, err := client.RunFrame(context.Background(), idFrame(t, 200), opts)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	require.NoError(t, client.Close())
	assert.False(t, clash, "a model instance was used by two runs at once")
}

// exclusiveModel reports entering and leaving Predict, to catch two
// goroutines using one instance.
type exclusiveModel struct {
	check func(enter bool)
}

func (m *exclusiveModel) Predict(ctx context.Context, in *frame.Frame) (*frame.Frame, error) {
	m.check(true)
	defer m.check(false)
	return echoID(ctx, in)
}
