package k8s

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://prod.example.com:6443"}
- name: staging
  cluster: {server: "https://staging.example.com:6443"}
users:
- name: me
  user: {token: not-a-real-token}
contexts:
- name: prod
  context: {cluster: prod, user: me, namespace: scoring}
- name: staging
  context: {cluster: staging, user: me}
current-context: prod
`

func TestConnectTakesTheKubeconfigContextAndItsNamespace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	require.NoError(t, os.WriteFile(path, []byte(kubeconfig), 0o600))
	for _, tc := range []struct{ context, namespace string }{{"", "scoring"}, {"staging", "default"}} {
		cs, ns, err := Connect(path, tc.context)
		require.NoError(t, err)
		assert.NotNil(t, cs)
		assert.Equal(t, tc.namespace, ns, "context %q", tc.context)
	}
	_, _, err := Connect(path, "dev")
	assert.ErrorContains(t, err, `context "dev"`)
}
