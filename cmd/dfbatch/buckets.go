package main

// The object storage drivers a cloud run's --bucket URL may name: s3://,
// gs:// and azblob:// (file:// comes with engine/k8s). A library user links
// only the ones their program needs.
import (
	_ "gocloud.dev/blob/azureblob"
	_ "gocloud.dev/blob/gcsblob"
	_ "gocloud.dev/blob/s3blob"
)
