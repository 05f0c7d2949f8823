package registry_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/model"
	"github.com/dfbatch/dfbatch/model/registry"
)

// exampleStore builds a store in a temporary folder from deployment.json
// contents by folder; each deployment gets the MLP as model.onnx.
func exampleStore(deployments map[string]string) (registry.Store, func(), error) {
	root, err := os.MkdirTemp("", "models")
	if err != nil {
		return registry.Store{}, nil, err
	}
	cleanup := func() { os.RemoveAll(root) }
	if err := writeDeployments(root, deployments); err != nil {
		cleanup()
		return registry.Store{}, nil, err
	}
	return registry.Store{Root: root}, cleanup, nil
}

func writeDeployments(root string, deployments map[string]string) error {
	mlp, err := os.ReadFile(mlpModel)
	if err != nil {
		return err
	}
	for dir, config := range deployments {
		dir = filepath.Join(root, dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, registry.DeploymentFile), []byte(config), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "model.onnx"), mlp, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func ExampleStore_Resolve() {
	// Two builds of the model "churn": models/churn/9 and models/churn/10.
	store, cleanup, err := exampleStore(map[string]string{
		"churn/9":  `{"model": "model.onnx", "batch": {"batch_size": 50, "executors": 2}}`,
		"churn/10": `{"model": "model.onnx", "batch": {"batch_size": 50, "executors": 5, "task_timeout": "30s"}}`,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()

	builds, _ := store.Builds("churn")
	fmt.Println("builds:", builds)

	// No build id: the latest, "10" in natural order.
	d, err := store.Resolve("churn", "")
	if err != nil {
		fmt.Println(err)
		return
	}
	b := d.Config.Batch
	fmt.Println("build:", d.BuildID, "batch size:", b.BatchSize, "executors:", b.Executors, "task timeout:", time.Duration(b.TaskTimeout))

	// A build that is not there: the error lists those that are.
	_, err = store.Resolve("churn", "11")
	fmt.Println(strings.Replace(err.Error(), store.Root, "models", 1))
	// Output:
	// builds: [9 10]
	// build: 10 batch size: 50 executors: 5 task timeout: 30s
	// registry: build "11" of model "churn" not found in models/churn; its builds: 9, 10
}

func ExampleDeployment_Loader() {
	features := make([]string, 16)
	for j := range features {
		features[j] = fmt.Sprintf(`"x%d"`, j)
	}
	store, cleanup, err := exampleStore(map[string]string{
		"churn": `{
			"model": "model.onnx",
			"features": [` + strings.Join(features, ", ") + `],
			"outputs": {"output": "Churn_Probability"},
			"keep_columns": ["customer_id"]
		}`,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()

	d, err := store.Resolve("churn", "")
	if err != nil {
		fmt.Println(err)
		return
	}
	loader, err := d.Loader()
	if err != nil {
		fmt.Println(err)
		return
	}

	// Two customers with their 16 features.
	cols := []frame.Column{frame.Strings("customer_id", []string{"c-17", "c-42"})}
	for j := range 16 {
		cols = append(cols, frame.Float32s(fmt.Sprintf("x%d", j), []float32{0.1, float32(j) / 16}))
	}
	in, _ := frame.New(cols...)

	// An engine does this once per executor, then Predict per task.
	m, err := loader.Load(context.Background(), model.Executor{CPUs: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := m.Predict(context.Background(), in)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.ColumnNames(), out.NumRows(), "rows")
	// Output: [customer_id Churn_Probability] 2 rows
}
