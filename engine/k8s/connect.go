package k8s

import (
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Connect returns a clientset for a real cluster and the namespace to run
// in, the way kubectl finds them: from the kubeconfig file kubeconfig, or
// with "" from $KUBECONFIG or ~/.kube/config, using its context kubeContext
// ("" for the current one) and that context's namespace ("default" when it
// names none). In a pod with no kubeconfig it uses the in-cluster config:
// the pod's service account and namespace.
func Connect(kubeconfig, kubeContext string) (kubernetes.Interface, string, error) {
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
	cs, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, "", fmt.Errorf("dfbatch/k8s: client for %s: %w", config.Host, err)
	}
	return cs, namespace, nil
}
