package k8s

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"gocloud.dev/blob"
)

// modelDir is where PutModel keeps model files in the staging bucket,
// beside the executions' folders.
const modelDir = "models/"

// PutModel copies the model file at localPath into the staging bucket that
// bucketURL names (see OpenStage), so that worker pods can fetch it with
// FetchModel, and returns its key. Keys are content-addressed,
// "models/<first 16 hex digits of its SHA-256>/<file name>", so a model
// already uploaded is not uploaded again, and runs with different models
// never see each other's. Model files stay in the bucket after the runs.
func PutModel(ctx context.Context, bucketURL, localPath string) (string, error) {
	data, err := os.ReadFile(localPath)
	if err != nil {
		return "", fmt.Errorf("k8s: reading the model to upload: %w", err)
	}
	bucket, _, prefix, err := openBucket(ctx, bucketURL)
	if err != nil {
		return "", err
	}
	defer bucket.Close()
	sum := sha256.Sum256(data)
	key := modelDir + hex.EncodeToString(sum[:8]) + "/" + filepath.Base(localPath)
	full := path.Join(prefix, key)
	if ok, err := bucket.Exists(ctx, full); err != nil {
		return "", fmt.Errorf("k8s: checking for object %q in %s: %w", full, bucketURL, err)
	} else if ok {
		return key, nil
	}
	if err := bucket.WriteAll(ctx, full, data, &blob.WriterOptions{ContentType: "application/octet-stream"}); err != nil {
		return "", fmt.Errorf("k8s: uploading the model to object %q in %s: %w", full, bucketURL, err)
	}
	return key, nil
}

// FetchModel copies the model object key, as PutModel returned it, from the
// staging bucket into dir and returns the file's path.
func FetchModel(ctx context.Context, bucketURL, key, dir string) (_ string, err error) {
	bucket, _, prefix, err := openBucket(ctx, bucketURL)
	if err != nil {
		return "", err
	}
	defer bucket.Close()
	full := path.Join(prefix, key)
	r, err := bucket.NewReader(ctx, full, nil)
	if err != nil {
		return "", fmt.Errorf("k8s: reading the model, object %q in %s: %w", full, bucketURL, err)
	}
	defer r.Close()
	dst := filepath.Join(dir, path.Base(key))
	f, err := os.Create(dst)
	if err != nil {
		return "", fmt.Errorf("k8s: writing the model: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("k8s: writing the model: %w", cerr)
		}
	}()
	if _, err := io.Copy(f, r); err != nil {
		return "", fmt.Errorf("k8s: reading the model, object %q in %s: %w", full, bucketURL, err)
	}
	return dst, nil
}
