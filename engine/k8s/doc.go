// Package k8s holds the parts of the Kubernetes backend behind
// engine.Options.Cloud that exist so far: Stage keeps a run's tasks and
// outputs in object storage under a per-execution prefix (gocloud.dev/blob
// URLs), and Manifests builds the batch/v1 Job in Indexed completion mode
// whose pods each run one task, with the ServiceAccount an IAM role needs.
// Submitting and watching the Job, and the worker, are not here yet.
package k8s
