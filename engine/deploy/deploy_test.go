package deploy_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/engine/deploy"
	"github.com/dfbatch/dfbatch/model/registry"
)

func TestOptionsCarriesEveryBatchDefault(t *testing.T) {
	d := &registry.Deployment{BuildID: "7", Config: registry.Config{Batch: registry.Batch{
		BatchSize: 50, Executors: 5, CPUs: 2, Memory: 512, GPUs: 1, GPUType: "t4", Instance: "small", IAMRoleARN: "arn:role",
		Parameters: map[string]string{"k": "v"}, JobTimeout: registry.Duration(time.Hour), TaskTimeout: registry.Duration(30 * time.Second),
		Retries: 2, MaxFailedTasks: 3,
	}}}
	assert.Equal(t, engine.Options{
		BatchSize: 50, Executors: 5, CPUs: 2, Memory: 512, GPUs: 1, GPUType: "t4", Instance: "small", IAMRoleARN: "arn:role",
		Parameters: map[string]string{"k": "v"}, JobTimeout: time.Hour, TaskTimeout: 30 * time.Second,
		Retries: 2, MaxFailedTasks: 3, BuildID: "7",
	}, deploy.Options(d))

	// A field added to Batch must reach the options too.
	opts := reflect.ValueOf(deploy.Options(d))
	for f := range reflect.TypeFor[registry.Batch]().Fields() {
		v := opts.FieldByName(f.Name)
		if assert.True(t, v.IsValid(), "engine.Options has no %s", f.Name) {
			assert.False(t, v.IsZero(), "%s is not copied (or unset in this test)", f.Name)
		}
	}
}
