// Package deploy runs the deployments of a model store (model/registry)
// on the engine. The registry sits below the engine, so it cannot return
// engine.Options itself; this package is the one place that turns a
// deployment's batch defaults into them.
//
//	d, err := registry.Resolve("", "") // $DFBATCH_MODEL_ID, the latest build
//	loader, err := d.Loader()
//	client := engine.NewClient(loader, engine.WithDefaults(deploy.Options(d)))
package deploy

import (
	"maps"
	"time"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/model/registry"
)

// Options returns d's deployed batch defaults (deployment.json's "batch")
// as engine options, with d's build as BuildID, for engine.WithDefaults:
// a run's own options override them field by field.
func Options(d *registry.Deployment) engine.Options {
	b := d.Config.Batch
	return engine.Options{
		BatchSize: b.BatchSize, Executors: b.Executors, CPUs: b.CPUs, Memory: b.Memory, GPUs: b.GPUs,
		GPUType: b.GPUType, Instance: b.Instance, IAMRoleARN: b.IAMRoleARN, Parameters: maps.Clone(b.Parameters),
		JobTimeout: time.Duration(b.JobTimeout), TaskTimeout: time.Duration(b.TaskTimeout),
		Retries: b.Retries, MaxFailedTasks: b.MaxFailedTasks, BuildID: d.BuildID,
	}
}
