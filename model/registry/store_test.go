package registry_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dfbatch/dfbatch/model/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mlpModel is an MLP with input "input" [N,16] float and output "output"
// [N,1]; every deployment in these tests copies it as model.onnx.
const mlpModel = "../../testdata/onnx/mlp.onnx"

// minimal is the smallest valid deployment.json.
const minimal = `{"model": "model.onnx"}`

// deploy writes deployment.json holding config, and the model, into folder
// dir of the store at root.
func deploy(t *testing.T, root, dir, config string) {
	t.Helper()
	write(t, filepath.Join(root, dir, registry.DeploymentFile), config)
	model, err := os.ReadFile(mlpModel)
	require.NoError(t, err)
	write(t, filepath.Join(root, dir, "model.onnx"), string(model))
}

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// newStore returns a store with a minimal deployment in each of
// deployments and the given other files.
func newStore(t *testing.T, deployments []string, files map[string]string) registry.Store {
	t.Helper()
	root := t.TempDir()
	for _, dir := range deployments {
		deploy(t, root, dir, minimal)
	}
	for path, content := range files {
		write(t, filepath.Join(root, path), content)
	}
	return registry.Store{Root: root}
}

func TestResolveWithoutBuildIDPicksTheLatestBuild(t *testing.T) {
	tests := []struct {
		name        string
		deployments []string
		files       map[string]string
		want        string
	}{
		{name: "numbers compare as numbers", deployments: []string{"churn/9", "churn/10", "churn/2"}, want: "10"},
		{name: "prefixed versions", deployments: []string{"churn/v2", "churn/v10", "churn/v9"}, want: "v10"},
		{name: "dotted versions", deployments: []string{"churn/1.9", "churn/1.10", "churn/1.2"}, want: "1.10"},
		{name: "dates", deployments: []string{"churn/2024-01-31", "churn/2024-02-01", "churn/2023-12-31"}, want: "2024-02-01"},
		{
			name:        "LATEST wins over the order",
			deployments: []string{"churn/9", "churn/10"},
			files:       map[string]string{"churn/LATEST": "9\n"},
			want:        "9",
		},
		{
			name:        "LATEST names builds with no order",
			deployments: []string{"churn/3f2a9c1e", "churn/b71c04d2"},
			files:       map[string]string{"churn/LATEST": "  3f2a9c1e "},
			want:        "3f2a9c1e",
		},
		{
			name:        "a folder without deployment.json is no build",
			deployments: []string{"churn/9"},
			files:       map[string]string{"churn/99/notes.txt": "not deployed yet"},
			want:        "9",
		},
		{name: "a hidden folder is no build", deployments: []string{"churn/9", "churn/.99"}, want: "9"},
		{
			name:        "a model with no builds is its own deployment",
			deployments: []string{"churn"},
			files:       map[string]string{"churn/assets/readme.txt": "a folder beside the deployment"},
			want:        "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newStore(t, tt.deployments, tt.files)
			d, err := store.Resolve("churn", "")
			require.NoError(t, err)
			assert.Equal(t, "churn", d.ModelID)
			assert.Equal(t, tt.want, d.BuildID)
			assert.Equal(t, filepath.Join(store.Root, "churn", tt.want), d.Dir)
			assert.Equal(t, filepath.Join(d.Dir, "model.onnx"), d.ModelPath)
		})
	}
}

func TestResolveWithBuildIDReadsThatBuild(t *testing.T) {
	root := t.TempDir()
	deploy(t, root, "churn/9", `{"model": "model.onnx", "batch": {"executors": 2}}`)
	deploy(t, root, "churn/10", `{"model": "model.onnx", "batch": {"executors": 5}}`)
	write(t, filepath.Join(root, "churn", registry.LatestFile), "10")
	store := registry.Store{Root: root}

	for build, executors := range map[string]int{"9": 2, "10": 5} {
		d, err := store.Resolve("churn", build)
		require.NoError(t, err)
		assert.Equal(t, build, d.BuildID)
		assert.Equal(t, filepath.Join(root, "churn", build), d.Dir)
		assert.Equal(t, executors, d.Config.Batch.Executors, "build %s", build)
	}
}

func TestModelsAndBuildsAreListedInNaturalOrder(t *testing.T) {
	store := newStore(t,
		[]string{"model10/1", "model9", "churn/10", "churn/9", "churn/v2", "churn/2", "fraud"},
		map[string]string{
			"drafts/notes.txt":      "a folder with no deployment is no model",
			"README.md":             "a file is no model",
			".git/deployment.json":  "a hidden folder is no model",
			"churn/9/extra/x.txt":   "a folder inside a build is nothing",
			"churn/old/readme.txt":  "a folder without deployment.json is no build",
			"fraud/assets/data.csv": "a model without builds may hold folders",
		})

	models, err := store.Models()
	require.NoError(t, err)
	assert.Equal(t, []string{"churn", "fraud", "model9", "model10"}, models)

	builds, err := store.Builds("churn")
	require.NoError(t, err)
	assert.Equal(t, []string{"2", "9", "10", "v2"}, builds)

	builds, err = store.Builds("fraud")
	require.NoError(t, err)
	assert.Empty(t, builds, "a model with no builds")
}

func TestResolveErrorsSayWhatThereIs(t *testing.T) {
	tests := []struct {
		name        string
		deployments []string
		files       map[string]string
		root        string // relative to the temporary folder; "" for the folder itself
		id, build   string
		notFound    bool
		want        []string
	}{
		{
			name:        "unknown model",
			deployments: []string{"churn/1", "fraud"},
			id:          "chrun",
			notFound:    true,
			want:        []string{`model "chrun" not found`, "holds: churn, fraud"},
		},
		{
			name:        "an id that leaves the store",
			deployments: []string{"churn/1"},
			files:       map[string]string{"../outside/deployment.json": minimal},
			id:          "../outside",
			notFound:    true,
			want:        []string{`model "../outside" not found`, "holds: churn"},
		},
		{
			name:     "empty store",
			files:    map[string]string{"README.md": "no models yet"},
			id:       "churn",
			notFound: true,
			want:     []string{`model "churn" not found`, "holds no models"},
		},
		{
			name:     "missing store",
			root:     "nowhere",
			id:       "churn",
			notFound: true,
			want:     []string{"model store", "nowhere", "not found", "set DFBATCH_MODEL_STORE"},
		},
		{
			name:        "unknown build",
			deployments: []string{"churn/9", "churn/10"},
			id:          "churn",
			build:       "11",
			notFound:    true,
			want:        []string{`build "11" of model "churn" not found`, "its builds: 9, 10"},
		},
		{
			name:        "a build id that leaves the model's folder",
			deployments: []string{"churn/9", "fraud"},
			id:          "churn",
			build:       "../fraud",
			notFound:    true,
			want:        []string{`build "../fraud" of model "churn" not found`, "its builds: 9"},
		},
		{
			name:        "a build of a model with no builds",
			deployments: []string{"churn"},
			id:          "churn",
			build:       "1",
			notFound:    true,
			want:        []string{`build "1" of model "churn" not found`, "the model has no builds", "give no build id"},
		},
		{
			name:  "a model folder with no deployment",
			files: map[string]string{"churn/notes.txt": "to do"},
			id:    "churn",
			want:  []string{"holds no deployment.json, directly or in a build folder"},
		},
		{
			name:        "a deployment both at the top and in builds",
			deployments: []string{"churn", "churn/1", "churn/2"},
			id:          "churn",
			want:        []string{"both directly and in build folders (1, 2)", "give a build id"},
		},
		{
			name:        "LATEST naming no build",
			deployments: []string{"churn/9", "churn/10"},
			files:       map[string]string{"churn/LATEST": "11"},
			id:          "churn",
			want:        []string{"LATEST names build \"11\"", "not one of the builds: 9, 10"},
		},
		{
			name:        "empty LATEST",
			deployments: []string{"churn/9"},
			files:       map[string]string{"churn/LATEST": "\n"},
			id:          "churn",
			want:        []string{"LATEST names build \"\"", "builds: 9"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The store is a subfolder, so that a file can lie outside it.
			root := filepath.Join(t.TempDir(), "store")
			require.NoError(t, os.Mkdir(root, 0o755))
			for _, dir := range tt.deployments {
				deploy(t, root, dir, minimal)
			}
			for path, content := range tt.files {
				write(t, filepath.Join(root, path), content)
			}
			store := registry.Store{Root: filepath.Join(root, tt.root)}

			_, err := store.Resolve(tt.id, tt.build)
			require.Error(t, err)
			for _, want := range tt.want {
				assert.ErrorContains(t, err, want)
			}
			assert.Equal(t, tt.notFound, errors.Is(err, registry.ErrNotFound), "errors.Is(err, ErrNotFound) for %v", err)
		})
	}
}

func TestBuildsOfAnUnknownModelListsTheModels(t *testing.T) {
	store := newStore(t, []string{"churn/1"}, nil)
	_, err := store.Builds("fraud")
	assert.ErrorIs(t, err, registry.ErrNotFound)
	assert.ErrorContains(t, err, "holds: churn")
}

func TestResolveTakesAMissingModelIDFromTheEnvironment(t *testing.T) {
	store := newStore(t, []string{"churn/1", "fraud"}, nil)
	t.Setenv(registry.EnvModelID, "fraud")

	d, err := store.Resolve("", "")
	require.NoError(t, err)
	assert.Equal(t, "fraud", d.ModelID)

	d, err = store.Resolve("churn", "")
	require.NoError(t, err)
	assert.Equal(t, "churn", d.ModelID, "an id given wins over the environment")
}

func TestResolveWithNoModelIDSaysHowToGiveOne(t *testing.T) {
	store := newStore(t, []string{"churn/1", "fraud"}, nil)
	t.Setenv(registry.EnvModelID, "")

	_, err := store.Resolve("", "")
	require.Error(t, err)
	assert.ErrorContains(t, err, "no model id")
	assert.ErrorContains(t, err, "--model-id")
	assert.ErrorContains(t, err, "set DFBATCH_MODEL_ID")
	assert.ErrorContains(t, err, "holds: churn, fraud")
}

func TestDefaultStoreIsTheEnvironmentsOrModels(t *testing.T) {
	store := newStore(t, []string{"churn/1"}, nil)
	t.Setenv(registry.EnvModelStore, store.Root)
	t.Setenv(registry.EnvModelID, "churn")
	assert.Equal(t, store, registry.DefaultStore())
	d, err := registry.Resolve("", "")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(store.Root, "churn", "1"), d.Dir)

	t.Setenv(registry.EnvModelStore, "")
	work := t.TempDir()
	deploy(t, work, "models/fraud", minimal)
	t.Chdir(work)
	assert.Equal(t, registry.Store{Root: "models"}, registry.DefaultStore())
	d, err = registry.Resolve("fraud", "")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("models", "fraud"), d.Dir)
}
