package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
)

// version numbers the checkpoint's layout; a checkpoint of another version
// is not resumed.
const version = 1

// Job identifies a file run by what its outputs depend on: a checkpoint
// resumes only the same job.
type Job struct {
	Version    int               `json:"version"`
	Inputs     []Input           `json:"inputs"`
	BatchSize  int               `json:"batch_size"`
	Parameters map[string]string `json:"parameters,omitempty"`
	BuildID    string            `json:"build_id,omitempty"`
	// Fingerprint holds what else the outputs depend on, such as the
	// model, under names the caller chooses.
	Fingerprint map[string]string `json:"fingerprint,omitempty"`
}

// Input identifies one input file and its output.
type Input struct {
	Path         string    `json:"path"`
	Format       string    `json:"format"`
	Output       string    `json:"output"`
	OutputFormat string    `json:"output_format"`
	Size         int64     `json:"size"`
	ModTime      time.Time `json:"mod_time"`
	// Head and Tail are SHA-256 digests of the file's first and last MiB.
	Head string `json:"head"`
	Tail string `json:"tail"`
}

// sampled is how much of each end of a file its identity digests.
const sampled = 1 << 20

// NewJob returns a job of the current layout version.
func NewJob(inputs []Input, batchSize int, parameters map[string]string, buildID string, fingerprint map[string]string) Job {
	return Job{Version: version, Inputs: inputs, BatchSize: batchSize, Parameters: maps.Clone(parameters), BuildID: buildID, Fingerprint: maps.Clone(fingerprint)}
}

// Identify reads the identity of the file at path: its size, modification
// time, and digests of its first and last MiB.
func Identify(path string) (Input, error) {
	f, err := os.Open(path)
	if err != nil {
		return Input{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Input{}, err
	}
	in := Input{Path: path, Size: info.Size(), ModTime: info.ModTime().UTC()}
	digest := func(offset int64) (string, error) {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, offset, sampled)); err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	if in.Head, err = digest(0); err != nil {
		return Input{}, err
	}
	if in.Tail, err = digest(max(in.Size-sampled, 0)); err != nil {
		return Input{}, err
	}
	return in, nil
}

// Diff returns nil if now is the job j was made for, else an error listing
// every difference.
func (j Job) Diff(now Job) error {
	var diffs []string
	if j.Version != now.Version {
		diffs = append(diffs, fmt.Sprintf("it has layout version %d, this dfbatch writes version %d", j.Version, now.Version))
	}
	diffs = append(diffs, diffInputs(j.Inputs, now.Inputs)...)
	if j.BatchSize != now.BatchSize {
		diffs = append(diffs, fmt.Sprintf("the batch size was %d, now %d", j.BatchSize, now.BatchSize))
	}
	if j.BuildID != now.BuildID {
		diffs = append(diffs, fmt.Sprintf("the model build was %q, now %q", j.BuildID, now.BuildID))
	}
	diffs = append(diffs, diffMaps("parameter", j.Parameters, now.Parameters)...)
	diffs = append(diffs, diffMaps("model setting", j.Fingerprint, now.Fingerprint)...)
	if len(diffs) == 0 {
		return nil
	}
	return &MismatchError{Differences: diffs}
}

// MismatchError is a checkpoint made for another job than the one
// resuming it.
type MismatchError struct {
	Differences []string
}

func (e *MismatchError) Error() string {
	return "the checkpoint was made for another job: " + strings.Join(e.Differences, "; ")
}

// ErrMismatch matches every *MismatchError with errors.Is.
var ErrMismatch = errors.New("the checkpoint was made for another job")

// Is reports whether target is ErrMismatch.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }

func diffInputs(was, now []Input) []string {
	var diffs []string
	byPath := map[string]Input{}
	for _, in := range was {
		byPath[in.Path] = in
	}
	seen := map[string]bool{}
	for _, in := range now {
		seen[in.Path] = true
		old, ok := byPath[in.Path]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("input %s is new", in.Path))
			continue
		}
		diffs = append(diffs, diffInput(old, in)...)
	}
	for _, in := range was {
		if !seen[in.Path] {
			diffs = append(diffs, fmt.Sprintf("input %s is gone", in.Path))
		}
	}
	if len(diffs) == 0 && !slices.EqualFunc(was, now, func(a, b Input) bool { return a.Path == b.Path }) {
		diffs = append(diffs, "the inputs are in another order")
	}
	return diffs
}

func diffInput(was, now Input) []string {
	var diffs []string
	switch {
	case was.Size != now.Size:
		diffs = append(diffs, fmt.Sprintf("input %s changed: it had %d bytes, now %d", now.Path, was.Size, now.Size))
	case was.Head != now.Head || was.Tail != now.Tail:
		diffs = append(diffs, fmt.Sprintf("input %s changed: its content differs", now.Path))
	case !was.ModTime.Equal(now.ModTime):
		diffs = append(diffs, fmt.Sprintf("input %s changed: it was modified at %s, now at %s", now.Path,
			was.ModTime.Format(time.RFC3339Nano), now.ModTime.Format(time.RFC3339Nano)))
	}
	if was.Format != now.Format {
		diffs = append(diffs, fmt.Sprintf("input %s was read as %s, now as %s", now.Path, was.Format, now.Format))
	}
	if was.Output != now.Output || was.OutputFormat != now.OutputFormat {
		diffs = append(diffs, fmt.Sprintf("the output of %s was %s (%s), now %s (%s)", now.Path, was.Output, was.OutputFormat, now.Output, now.OutputFormat))
	}
	return diffs
}

func diffMaps(what string, was, now map[string]string) []string {
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(was)) {
		v, ok := now[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s %s was %q, now unset", what, k, was[k]))
		case v != was[k]:
			diffs = append(diffs, fmt.Sprintf("%s %s was %q, now %q", what, k, was[k], v))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(now)) {
		if _, ok := was[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s %s was unset, now %q", what, k, now[k]))
		}
	}
	return diffs
}
