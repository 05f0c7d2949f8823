// Package kubecluster runs a real Kubernetes control plane on loopback for
// tests: etcd, kube-apiserver, kube-controller-manager (the Job controller,
// the garbage collector and what namespaces need) and kube-scheduler, the
// versions that tools/kube/build.sh builds into a cache outside the tree
// ($DFBATCH_KUBE_BIN), with TLS, a service-account signing key, RBAC and an
// admin kubeconfig. Only the kubelet is played: NodeAgent registers one
// node, runs the pods bound to it as local processes (an image stands for a
// local program, Config.Images), serves their logs to the API server and
// writes their status, so that a Job runs as it would on a cluster: the
// real Job controller creates its pods, injects JOB_COMPLETION_INDEX,
// backs failed indexes off (10 s, doubling, with no flag to change it) and
// decides the Job's end.
//
// Tests that use it carry the kubecluster build tag; RunTests in TestMain
// starts one cluster for the whole test binary and Need hands it to each
// test, skipping when the binaries are missing, unless CI=true, where that
// fails.
package kubecluster
