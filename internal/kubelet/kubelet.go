// Package kubelet holds what the two stand-ins for the kubelet in this
// module's tests share of its behaviour: engine/k8s/k8stest's, over
// client-go's fake clientset, and internal/kubecluster's node agent, on a
// real control plane.
package kubelet

import (
	"bytes"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The kubelet's cut of a failed container's log into its termination
// message (FallbackToLogsOnError).
const (
	messageLines = 80
	messageBytes = 2048
)

// TerminationMessage cuts a FallbackToLogsOnError message from a failed
// container's log as the kubelet does: the last 80 lines, of which it keeps
// the last 2048 bytes.
func TerminationMessage(log []byte) string {
	start := len(bytes.TrimSuffix(log, []byte("\n")))
	for range messageLines {
		if start = bytes.LastIndexByte(log[:start], '\n'); start < 0 {
			break
		}
	}
	log = log[start+1:]
	if len(log) > messageBytes {
		log = log[len(log)-messageBytes:]
	}
	return string(log)
}

// FieldValue resolves a fieldRef's path on pod, as the kubelet's downward
// API does for environment variables; hostIP is the node's address, which
// is also the pod's: the stand-ins run pods as local processes.
func FieldValue(pod *corev1.Pod, path, hostIP string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.podIP", "status.hostIPs", "status.podIPs":
		return hostIP, nil
	}
	for prefix, m := range map[string]map[string]string{"metadata.labels": pod.Labels, "metadata.annotations": pod.Annotations} {
		if key, ok := strings.CutPrefix(path, prefix+"['"); ok {
			if key, ok := strings.CutSuffix(key, "']"); ok {
				return m[key], nil
			}
		}
	}
	return "", fmt.Errorf("unsupported fieldRef %q", path)
}
