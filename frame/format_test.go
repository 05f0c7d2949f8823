package frame_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
)

func TestParseFormat(t *testing.T) {
	cases := []struct {
		in   string
		want frame.Format
	}{
		{"csv", frame.CSV},
		{"CSV", frame.CSV},
		{"parquet", frame.Parquet},
		{"PARQUET", frame.Parquet},
		{"pq", frame.Parquet},
		{"arrow", frame.Arrow},
		{"Feather", frame.Arrow},
		{"ipc", frame.Arrow},
		{" csv ", frame.CSV},
		{"jsonl", frame.JSONL},
		{"NDJSON", frame.JSONL},
		{"jsonlines", frame.JSONL},
		{"json-lines", frame.JSONL},
	}
	for _, tc := range cases {
		got, err := frame.ParseFormat(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestParseFormatRefusesUnknownNames(t *testing.T) {
	for _, in := range []string{"", "json", ".csv", "feather1"} {
		_, err := frame.ParseFormat(in)
		assert.ErrorContains(t, err, "unknown format", in)
		assert.ErrorContains(t, err, "accepted: csv, parquet (or pq), arrow (or feather, ipc), jsonl (or ndjson)", in)
	}
	_, err := frame.ParseFormat("JSON")
	assert.ErrorContains(t, err, "JSON Lines (one object per line) is the jsonl format")
}

func TestFormatOf(t *testing.T) {
	cases := []struct {
		path string
		want frame.Format
	}{
		{"in.csv", frame.CSV},
		{"/data/IN.CSV", frame.CSV},
		{"part-0001.parquet", frame.Parquet},
		{"x.pq", frame.Parquet},
		{"x.arrow", frame.Arrow},
		{"x.feather", frame.Arrow},
		{"dir.csv/x.ipc", frame.Arrow},
		{"x.jsonl", frame.JSONL},
		{"x.NDJSON", frame.JSONL},
	}
	for _, tc := range cases {
		got, err := frame.FormatOf(tc.path)
		require.NoError(t, err, tc.path)
		assert.Equal(t, tc.want, got, tc.path)
	}
}

func TestFormatOfRefusesUnknownExtensions(t *testing.T) {
	for _, path := range []string{"data", "data.json", "data.csv.gz", "dir.csv/data", "data."} {
		_, err := frame.FormatOf(path)
		assert.ErrorContains(t, err, `the format of "`+path+`"`)
		assert.ErrorContains(t, err, ".csv, .tsv, .parquet, .pq, .arrow, .arrows, .feather, .ipc, .jsonl, .ndjson")
	}
	_, err := frame.FormatOf("records.json")
	assert.ErrorContains(t, err, "a .json file may instead hold one JSON array, which is not read: rename the file .jsonl, or name its format jsonl")
}

func TestFormatExt(t *testing.T) {
	cases := map[frame.Format]string{frame.CSV: ".csv", frame.Parquet: ".parquet", frame.Arrow: ".arrow", frame.JSONL: ".jsonl", "pq": "", "": ""}
	for f, want := range cases {
		assert.Equal(t, want, f.Ext(), f)
		if want != "" {
			back, err := frame.FormatOf("x" + want)
			require.NoError(t, err)
			assert.Equal(t, f, back)
		}
	}
}

func TestFilesNeedAKnownFormat(t *testing.T) {
	dir := t.TempDir()
	_, err := frame.CreateFile(filepath.Join(dir, "out.txt"), "")
	assert.ErrorContains(t, err, "out.txt")
	assert.NoFileExists(t, filepath.Join(dir, "out.txt"), "nothing is created for an unknown format")

	_, err = frame.CreateFile(filepath.Join(dir, "out.txt"), "xml")
	assert.ErrorContains(t, err, `unknown format "xml"`)

	_, err = frame.OpenFile(filepath.Join(dir, "in.txt"), "")
	assert.ErrorContains(t, err, "in.txt")

	_, err = frame.OpenFile(filepath.Join(dir, "missing.csv"), "")
	assert.ErrorContains(t, err, "missing.csv")
}

func TestFilesAcceptFormatAliases(t *testing.T) {
	// The extension says nothing; the format, given by an alias, decides.
	path := filepath.Join(t.TempDir(), "scores.dat")
	w, err := frame.CreateFile(path, "feather")
	require.NoError(t, err)
	writeFrames(t, w, mixedFrame(t))
	r, err := frame.OpenFile(path, "IPC")
	require.NoError(t, err)
	defer r.Close()
	requireSameValues(t, mixedFrame(t), readAllFrames(t, r)[0])
}
