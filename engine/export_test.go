package engine

import "github.com/dfbatch/dfbatch/engine/internal/checkpoint"

// WithFileCreator makes the client create the files of file runs (partial
// outputs, checkpoint) with create, so that tests can inject write errors.
func WithFileCreator(create checkpoint.Files) ClientOption {
	return func(c *Client) { c.createFile = create }
}

// Backoff exposes the retry backoff for its test.
var Backoff = backoff
