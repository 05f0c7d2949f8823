package kubecluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/dfbatch/dfbatch/internal/kubelet"
)

// containerEnv resolves a container's environment as the kubelet does:
// envFrom first (config maps and secrets, with their prefix), then env in
// order, each value with $(VAR) references to the variables before it
// expanded, and valueFrom resolved (fieldRef on the pod's metadata and
// spec, which is how the Job controller hands a pod its
// JOB_COMPLETION_INDEX; resourceFieldRef on the container's resources;
// configMapKeyRef and secretKeyRef read from the API). An error is what
// the kubelet reports as CreateContainerConfigError.
func containerEnv(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, c *corev1.Container) ([]string, error) {
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, from := range c.EnvFrom {
		var (
			data     map[string]string
			optional bool
			err      error
		)
		switch {
		case from.ConfigMapRef != nil:
			optional = ptrOr(from.ConfigMapRef.Optional, false)
			data, err = configMapData(ctx, cs, pod.Namespace, from.ConfigMapRef.Name)
		case from.SecretRef != nil:
			optional = ptrOr(from.SecretRef.Optional, false)
			data, err = secretData(ctx, cs, pod.Namespace, from.SecretRef.Name)
		}
		if err != nil {
			if optional && apierrors.IsNotFound(err) {
				continue
			}
			return nil, err
		}
		for _, k := range slices.Sorted(maps.Keys(data)) {
			set(from.Prefix+k, data[k])
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expand(e.Value, vars))
			continue
		}
		v, err := valueFrom(ctx, cs, pod, c, e.ValueFrom)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		set(e.Name, v)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vars[k])
	}
	return out, nil
}

// expand replaces $(NAME) with the variable's value when it is defined,
// leaves it as it is otherwise, and turns $$ into $, as Kubernetes does.
func expand(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+end+1])
			}
			i += end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

func valueFrom(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, c *corev1.Container, from *corev1.EnvVarSource) (string, error) {
	switch {
	case from.FieldRef != nil:
		return kubelet.FieldValue(pod, from.FieldRef.FieldPath, loopback)
	case from.ResourceFieldRef != nil:
		return resourceValue(c, from.ResourceFieldRef)
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		data, err := configMapData(ctx, cs, pod.Namespace, ref.Name)
		return keyValue(data, err, "config map", ref.Name, ref.Key, ptrOr(ref.Optional, false))
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		data, err := secretData(ctx, cs, pod.Namespace, ref.Name)
		return keyValue(data, err, "secret", ref.Name, ref.Key, ptrOr(ref.Optional, false))
	}
	return "", fmt.Errorf("valueFrom names no source")
}

func keyValue(data map[string]string, err error, kind, name, key string, optional bool) (string, error) {
	if err != nil {
		if optional && apierrors.IsNotFound(err) {
			return "", nil
		}
		return "", err
	}
	v, ok := data[key]
	if !ok && !optional {
		return "", fmt.Errorf("couldn't find key %s in %s %s", key, kind, name)
	}
	return v, nil
}

func configMapData(ctx context.Context, cs kubernetes.Interface, ns, name string) (map[string]string, error) {
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("config map %s/%s: %w", ns, name, err)
	}
	return cm.Data, nil
}

func secretData(ctx context.Context, cs kubernetes.Interface, ns, name string) (map[string]string, error) {
	s, err := cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s: %w", ns, name, err)
	}
	data := make(map[string]string, len(s.Data)+len(s.StringData))
	for k, v := range s.Data {
		data[k] = string(v)
	}
	return data, nil
}

// resourceValue resolves a resourceFieldRef on the container's requests
// and limits, in the divisor's units, rounded up as the kubelet does.
func resourceValue(c *corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok {
		return "", fmt.Errorf("unsupported resourceFieldRef %q", ref.Resource)
	}
	list := c.Resources.Limits
	if kind == "requests" {
		list = c.Resources.Requests
	}
	q, ok := list[corev1.ResourceName(name)]
	if !ok {
		// The kubelet gives the node's allocatable when no limit is set.
		return "", fmt.Errorf("resourceFieldRef %q: the container sets no %s", ref.Resource, ref.Resource)
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		return q.String(), nil
	}
	v := (q.MilliValue() + divisor.MilliValue() - 1) / divisor.MilliValue()
	return fmt.Sprint(v), nil
}

func ptrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
