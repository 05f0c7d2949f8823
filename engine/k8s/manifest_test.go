package k8s

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/dfbatch/dfbatch/engine"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml from the generated manifests")

func baseConfig() JobConfig {
	return JobConfig{
		Namespace:   "scoring",
		Image:       "registry.example.com/dfbatch:1.0.0",
		WorkerArgs:  []string{"worker"},
		ExecutionID: "dfb-0123456789ab",
		StageBucket: "s3://dfbatch-stage/runs",
	}
}

func TestManifestsGolden(t *testing.T) {
	cases := []struct {
		name  string
		cfg   func(*JobConfig)
		tasks int
		opts  engine.Options
	}{
		{
			name:  "cpu",
			tasks: 10,
			opts: engine.Options{
				BatchSize: 100, Executors: 3, CPUs: 0.5, Memory: 512, Retries: 2,
				Parameters:  map[string]string{"attribute": "customer_segment", "MODE": "fast"},
				JobTimeout:  time.Hour,
				TaskTimeout: 5 * time.Minute,
			},
		},
		{
			name: "gpu",
			cfg: func(c *JobConfig) {
				c.ImagePullPolicy = "IfNotPresent"
				c.ServiceAccount = "dfbatch-worker"
				c.Labels = map[string]string{"team": "ml"}
			},
			tasks: 4,
			opts: engine.Options{
				BatchSize: 1000, Executors: 8, CPUs: 4, Memory: 16384, GPUs: 1, GPUType: "a10g",
				MaxFailedTasks: 1, BuildID: "v7",
			},
		},
		{
			name: "iam",
			cfg: func(c *JobConfig) {
				c.ServiceAccount = "ignored-when-a-role-is-set"
			},
			tasks: 2,
			opts: engine.Options{
				BatchSize: 50, Executors: 1, CPUs: 1, Memory: 2048,
				IAMRoleARN: "arn:aws:iam::123456789012:role/dfbatch-scoring",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			job, sa, err := Manifests(cfg, tc.tasks, tc.opts)
			require.NoError(t, err)
			docs := []any{job}
			if sa != nil {
				docs = append(docs, sa)
			}
			var parts []string
			for _, d := range docs {
				b, err := yaml.Marshal(d)
				require.NoError(t, err)
				parts = append(parts, string(b))
			}
			got := strings.Join(parts, "---\n")

			path := filepath.Join("testdata", tc.name+".golden.yaml")
			if *update {
				require.NoError(t, os.MkdirAll("testdata", 0o755))
				require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./engine/k8s -update to create it")
			assert.Equal(t, string(want), got)

			// The golden Job reads back strictly into the same object: no
			// unknown fields, nothing lost in marshaling.
			var back batchv1.Job
			require.NoError(t, yaml.UnmarshalStrict([]byte(parts[0]), &back))
			assert.True(t, equality.Semantic.DeepEqual(job, &back), "the golden Job reads back as a different object")
		})
	}
}

func TestManifestsSemantics(t *testing.T) {
	cfg := baseConfig()
	job, sa, err := Manifests(cfg, 2, engine.Options{BatchSize: 10, Executors: 5, CPUs: 0.25, Retries: 1})
	require.NoError(t, err)
	assert.Nil(t, sa)
	spec := job.Spec
	assert.Equal(t, int32(2), *spec.Parallelism, "parallelism is capped at the task count")
	assert.Nil(t, spec.BackoffLimit, "backoffLimit stays unset with backoffLimitPerIndex")
	assert.Nil(t, spec.PodFailurePolicy)
	assert.Nil(t, spec.ActiveDeadlineSeconds)
	assert.Equal(t, int32(0), *spec.MaxFailedIndexes, "MaxFailedTasks 0: any failed index fails the Job")
	c := spec.Template.Spec.Containers[0]
	assert.Equal(t, "250m", c.Resources.Limits.Cpu().String())
	assert.Empty(t, spec.Template.Spec.ServiceAccountName)
	for _, e := range c.Env {
		assert.NotEqual(t, "JOB_COMPLETION_INDEX", e.Name, "Kubernetes sets it")
		assert.NotEqual(t, EnvTaskTimeout, e.Name, "no task timeout set")
	}

	// A deadline that is not whole seconds rounds up; MaxFailedTasks is
	// capped at the completions.
	job, _, err = Manifests(cfg, 3, engine.Options{BatchSize: 1, JobTimeout: 1500 * time.Millisecond, MaxFailedTasks: 9})
	require.NoError(t, err)
	assert.Equal(t, int64(2), *job.Spec.ActiveDeadlineSeconds)
	assert.Equal(t, int32(3), *job.Spec.MaxFailedIndexes)
	assert.Equal(t, int32(1), *job.Spec.Parallelism, "executors default to 1")

	// Configurable keys.
	cfg.GPUTypeLabel = "cloud.google.com/gke-accelerator"
	cfg.RoleAnnotation = "iam.gke.io/gcp-service-account"
	job, sa, err = Manifests(cfg, 1, engine.Options{BatchSize: 1, GPUs: 2, GPUType: "nvidia-l4", IAMRoleARN: "sa@p.iam.gserviceaccount.com"})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"cloud.google.com/gke-accelerator": "nvidia-l4"}, job.Spec.Template.Spec.NodeSelector)
	require.NotNil(t, sa)
	assert.Equal(t, map[string]string{"iam.gke.io/gcp-service-account": "sa@p.iam.gserviceaccount.com"}, sa.Annotations)
	assert.Equal(t, sa.Name, job.Spec.Template.Spec.ServiceAccountName)
	assert.Equal(t, "2", job.Spec.Template.Spec.Containers[0].Resources.Limits.Name(GPUResource, "").String())
}

func TestManifestsErrors(t *testing.T) {
	cases := []struct {
		name  string
		cfg   func(*JobConfig)
		tasks int
		opts  engine.Options
		want  []string
	}{
		{name: "no tasks", tasks: 0, want: []string{"tasks must be >= 1"}},
		{name: "no image", cfg: func(c *JobConfig) { c.Image = "" }, tasks: 1, want: []string{"JobConfig.Image"}},
		{name: "no id", cfg: func(c *JobConfig) { c.ExecutionID = "" }, tasks: 1, want: []string{"JobConfig.ExecutionID"}},
		{name: "id without letters", cfg: func(c *JobConfig) { c.ExecutionID = "__--__" }, tasks: 1, want: []string{"JobConfig.ExecutionID", "no letters or digits"}},
		{name: "pull policy", cfg: func(c *JobConfig) { c.ImagePullPolicy = "Sometimes" }, tasks: 1, want: []string{"JobConfig.ImagePullPolicy"}},
		{name: "gpu label", cfg: func(c *JobConfig) { c.GPUTypeLabel = "not a key" }, tasks: 1, want: []string{"JobConfig.GPUTypeLabel"}},
		{name: "role annotation", cfg: func(c *JobConfig) { c.RoleAnnotation = "a/b/c" }, tasks: 1, want: []string{"JobConfig.RoleAnnotation"}},
		{name: "parameter name", tasks: 1, opts: engine.Options{Parameters: map[string]string{"1bad": "x", "has space": "y"}}, want: []string{`"1bad"`, `"has space"`, "environment variable name"}},
		{name: "reserved parameter", tasks: 1, opts: engine.Options{Parameters: map[string]string{"DFBATCH_STAGE": "x"}}, want: []string{`"DFBATCH_STAGE"`, "reserved"}},
		{name: "completion index parameter", tasks: 1, opts: engine.Options{Parameters: map[string]string{"JOB_COMPLETION_INDEX": "3"}}, want: []string{"reserved"}},
		{name: "negative", tasks: 1, opts: engine.Options{Retries: -1, CPUs: -1}, want: []string{"Options.Retries", "Options.CPUs"}},
		{name: "tiny cpus", tasks: 1, opts: engine.Options{CPUs: 0.0001}, want: []string{"Options.CPUs", "1m"}},
		{name: "gpu type", tasks: 1, opts: engine.Options{GPUs: 1, GPUType: "a100 80gb"}, want: []string{"Options.GPUType"}},
		// The API server's limits on an Indexed Job, refused before
		// anything is staged.
		{name: "parallelism above 100000", tasks: 150_000, opts: engine.Options{Executors: 100_001}, want: []string{"Options.Executors 100001", "100000 pods"}},
		{name: "parallelism above 10000 past 100000 tasks", tasks: 100_001, opts: engine.Options{Executors: 10_001},
			want: []string{"Options.Executors 10001", "10000 pods an Indexed Job of more than 100000 tasks", "100001 tasks", "BatchSize"}},
		{name: "failed indexes above 100000", tasks: 200_000, opts: engine.Options{MaxFailedTasks: 150_000}, want: []string{"Options.MaxFailedTasks 150000", "100000 failed indexes"}},
		{name: "failed indexes above 10000 past 100000 tasks", tasks: 200_000, opts: engine.Options{MaxFailedTasks: 10_001},
			want: []string{"Options.MaxFailedTasks 10001", "10000 failed indexes an Indexed Job of more than 100000 tasks"}},
		{name: "several at once", cfg: func(c *JobConfig) { c.Image, c.ExecutionID = "", "" }, tasks: -1, want: []string{"tasks", "JobConfig.Image", "JobConfig.ExecutionID"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			job, sa, err := Manifests(cfg, tc.tasks, tc.opts)
			require.Error(t, err)
			assert.Nil(t, job)
			assert.Nil(t, sa)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestManifestsWithinTheAPILimits(t *testing.T) {
	for _, tc := range []struct {
		tasks int
		opts  engine.Options
	}{
		{100_000, engine.Options{Executors: 100_000, MaxFailedTasks: 100_000}},
		{100_001, engine.Options{Executors: 10_000, MaxFailedTasks: 10_000}},
		{5, engine.Options{Executors: 1_000_000, MaxFailedTasks: 1_000_000}}, // both capped at the tasks
	} {
		job, _, err := Manifests(baseConfig(), tc.tasks, tc.opts)
		require.NoError(t, err, "%d tasks, %+v", tc.tasks, tc.opts)
		assert.LessOrEqual(t, *job.Spec.Parallelism, int32(tc.tasks))
	}
}

func TestJobName(t *testing.T) {
	long := "run-" + strings.Repeat("abcdefghij", 8)
	cases := []struct {
		id, want string
	}{
		{"dfb-0123456789ab", "dfbatch-dfb-0123456789ab"},
		{"Nightly-RUN", "dfbatch-nightly-run"},
		{"my_run__2026.11.26", "dfbatch-my-run-2026-11-26"},
		{"--Trim me!--", "dfbatch-trim-me"},
		{long, "dfbatch-run-abcdefghijabcdefghijabcdefghija-" + hash8(long)},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			got, err := JobName(tc.id)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			// The API server refuses an Indexed Job whose last pod's
			// hostname, "<name>-<completions-1>", is no DNS-1123 label.
			assert.Empty(t, validation.IsDNS1123Label(got+"-2147483646"))
		})
	}

	// Long ids that share their first 35 characters still get distinct names.
	a, err := JobName(long + "-a")
	require.NoError(t, err)
	b, err := JobName(long + "-b")
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
	assert.Len(t, a, 52)

	// A cut that ends on '-' does not leave "--" before the hash.
	dashy := strings.Repeat("a", 45) + "-" + strings.Repeat("b", 20)
	got, err := JobName(dashy)
	require.NoError(t, err)
	assert.NotContains(t, got, "--")

	_, err = JobName("___")
	assert.Error(t, err)
}

// hash8 is the suffix a cut id ends with: 8 hex digits of its SHA-256.
func hash8(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:4])
}
