// Package k8s is the Kubernetes backend behind engine.Options.Cloud.
//
// A Backend (engine.WithBackend) runs each remote run as one batch/v1 Job
// in Indexed completion mode: the run's tasks are staged in object storage
// (Stage, gocloud.dev/blob URLs), completion index i is task i, parallelism
// is Options.Executors, backoffLimitPerIndex is Options.Retries, and the
// pods' resources, node selector, service account and environment come from
// the run's options (Manifests). The client follows the Job and its pods
// through informers, reports each task's progress to the execution, deletes
// the Job with foreground propagation when the run is cancelled, and reads
// the outputs back in task order.
//
// Each pod runs a Worker: a program of the user's that calls RunWorker with
// its Go model when InWorkerPod reports true, or `dfbatch worker` for ONNX
// models. Connect finds a real cluster the way kubectl does; package
// k8stest plays the Job controller and the kubelet for tests.
package k8s
