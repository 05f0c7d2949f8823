package k8s

import (
	"fmt"

	batchv1client "k8s.io/client-go/kubernetes/typed/batch/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/clientcmd"
)

// Connect returns a clientset for a real cluster and the namespace to run
// in, the way kubectl finds them: from the kubeconfig file kubeconfig, or
// with "" from $KUBECONFIG or ~/.kube/config, using its context kubeContext
// ("" for the current one) and that context's namespace ("default" when it
// names none). In a pod with no kubeconfig it uses the in-cluster config:
// the pod's service account and namespace.
func Connect(kubeconfig, kubeContext string) (Clientset, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext})
	config, err := loader.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("dfbatch/k8s: finding the cluster (kubeconfig %q, context %q; in a pod, its service account): %w", kubeconfig, kubeContext, err)
	}
	namespace, _, err := loader.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("dfbatch/k8s: the kubeconfig's namespace: %w", err)
	}
	batch, err := batchv1client.NewForConfig(config)
	if err != nil {
		return nil, "", fmt.Errorf("dfbatch/k8s: client for %s: %w", config.Host, err)
	}
	core, err := corev1client.NewForConfig(config)
	if err != nil {
		return nil, "", fmt.Errorf("dfbatch/k8s: client for %s: %w", config.Host, err)
	}
	return clients{batch: batch, core: core}, namespace, nil
}

// clients holds the two API groups' clients that Connect makes.
type clients struct {
	batch batchv1client.BatchV1Interface
	core  corev1client.CoreV1Interface
}

func (c clients) BatchV1() batchv1client.BatchV1Interface { return c.batch }
func (c clients) CoreV1() corev1client.CoreV1Interface    { return c.core }
