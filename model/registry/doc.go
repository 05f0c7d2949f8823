// Package registry finds a deployed model by its id: the model file and the
// configuration it was deployed with, as the hosted batch-inference platform
// that dfbatch follows (its Python client is BatchInferenceClient) finds a
// model by id and takes a run's unset options from the model's deployment.
//
// # The store
//
// A store is a folder: DFBATCH_MODEL_STORE, or ./models when it is unset.
// Each model is a folder named by its id; each build (version) of it is a
// subfolder named by its build id that holds deployment.json and the model
// file. A model with a single version may skip the build folder.
//
//	models/
//	  churn/              model id "churn"
//	    LATEST            optional: the build id that "latest" means
//	    9/                build id "9"
//	      deployment.json
//	      model.onnx
//	    10/
//	      deployment.json
//	      model.onnx
//	  fraud/              a model with no builds
//	    deployment.json
//	    model.onnx
//
// Resolve given no model id reads it from DFBATCH_MODEL_ID, as the
// reference client reads QWAK_MODEL_ID.
//
// A build is a subfolder holding deployment.json, so a model folder may
// keep other folders (notebooks, data) beside its builds. Names starting
// with "." are never models or builds.
//
// # The latest build
//
// No build id means the latest build. If the model's folder holds a file
// LATEST, its content (surrounding white space trimmed) is the latest
// build id and must name one of the builds. Otherwise the latest build is
// the greatest build id in natural order, which compares runs of digits as
// numbers and the rest byte by byte: "10" follows "9", "v10" follows "v2",
// "1.10" follows "1.9", "2024-02-01" follows "2024-01-31". Build ids that
// carry no order, such as UUIDs, need a LATEST file. The choice does not
// depend on file times, which copies and checkouts do not keep.
//
// A model folder with deployment.json both at its top and in build folders
// is refused when no build id is given, rather than guessed.
//
// # deployment.json
//
//	{
//	  "model": "model.onnx",
//	  "batch": {
//	    "batch_size": 1000,
//	    "executors": 5,
//	    "cpus": 2,
//	    "memory": 4096,
//	    "gpus": 0,
//	    "gpu_type": "",
//	    "instance": "",
//	    "iam_role_arn": "arn:aws:iam::123456789012:role/scoring",
//	    "parameters": {"attribute": "customer_a"},
//	    "job_timeout": "1h",
//	    "task_timeout": 300,
//	    "retries": 2,
//	    "max_failed_tasks": 0
//	  },
//	  "features": ["age", "tenure", "spend"],
//	  "outputs": {"probabilities": "Churn_Probability"},
//	  "keep_columns": ["customer_id"],
//	  "runtime": "go"
//	}
//
// Only "model" is required. "runtime" is "go" (the default) or
// "onnxruntime" for ONNX Runtime, whose library the machine names in
// $DFBATCH_ORT_LIB (or Deployment.ORTLibrary). Timeouts are Go duration strings ("90s",
// "1h30m") or numbers of seconds, BatchInferenceClient's unit. A field this package does not know is an
// error, so that a misspelt option fails instead of being ignored. Errors
// name the file and the field.
//
// # Running a deployment
//
// The package does not import the engine (models sit below it), so the
// deployed batch options come back as a Batch whose fields have the names
// of engine.Options' fields and the same meaning; engine/deploy turns a
// Deployment into engine.Options:
//
//	d, err := registry.Resolve("", "") // DFBATCH_MODEL_ID, latest build
//	loader, err := d.Loader()
//	client := engine.NewClient(loader, engine.WithDefaults(deploy.Options(d)))
package registry
