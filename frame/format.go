package frame

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Format is a file format that OpenFile and CreateFile read and write. It
// matches the batch platform's serialization_format option.
type Format string

const (
	// CSV is comma-separated text with a header row.
	CSV Format = "csv"
	// Parquet is Apache Parquet.
	Parquet Format = "parquet"
	// Arrow is the Arrow IPC file format, also known as Feather v2.
	Arrow Format = "arrow"
	// JSONL is JSON Lines (also called NDJSON): one JSON object per line,
	// as pandas' to_json(orient="records", lines=True) writes it and
	// SageMaker Batch Transform reads and writes application/jsonlines.
	JSONL Format = "jsonl"
)

// formatNames maps every accepted format name, which are also the accepted
// file extensions, to its format.
var formatNames = map[string]Format{
	"csv":        CSV,
	"parquet":    Parquet,
	"pq":         Parquet,
	"arrow":      Arrow,
	"feather":    Arrow,
	"ipc":        Arrow,
	"arrows":     Arrow, // the IPC stream format's extension: the reader takes both
	"tsv":        CSV,   // the delimiter is sniffed
	"jsonl":      JSONL,
	"ndjson":     JSONL,
	"jsonlines":  JSONL,
	"json-lines": JSONL,
}

// notJSONL explains why "json" is not a format name or extension: a .json
// file is as often one JSON array, or one object, as JSON Lines.
const notJSONL = "JSON Lines (one object per line) is the jsonl format; a .json file may instead hold one JSON array, which is not read"

// ParseFormat returns the format named s, ignoring case: "csv", "parquet" or
// "pq", "arrow", "feather" or "ipc", "jsonl" or "ndjson". "json" is refused
// with a hint: JSON Lines is "jsonl".
func ParseFormat(s string) (Format, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if f, ok := formatNames[name]; ok {
		return f, nil
	}
	hint := ""
	if name == "json" {
		hint = " (" + notJSONL + ")"
	}
	return "", fmt.Errorf("frame: unknown format %q%s; accepted: csv, parquet (or pq), arrow (or feather, ipc), jsonl (or ndjson)", s, hint)
}

// FormatOf returns the format that path's extension names, ignoring case:
// .csv or .tsv, .parquet or .pq, .arrow, .arrows, .feather or .ipc, .jsonl
// or .ndjson. A .json file is refused with a hint, since it may hold a
// JSON array: name its format jsonl if it holds one object per line.
func FormatOf(path string) (Format, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if f, ok := formatNames[strings.TrimPrefix(ext, ".")]; ok {
		return f, nil
	}
	hint := ""
	if ext == ".json" {
		hint = "; " + notJSONL + ": rename the file .jsonl, or name its format jsonl"
	}
	return "", fmt.Errorf("frame: cannot tell the format of %q from its extension%s; accepted extensions: .csv, .tsv, .parquet, .pq, .arrow, .arrows, .feather, .ipc, .jsonl, .ndjson (or name the format)", path, hint)
}

// Ext returns the usual file extension of the format, with its dot, or ""
// for a value that is not one of the Format constants.
func (f Format) Ext() string {
	switch f {
	case CSV, Parquet, Arrow, JSONL:
		return "." + string(f)
	}
	return ""
}

// Linked returns nil when this program reads and writes f, and otherwise
// an error that names the import it lacks: frame links CSV, Arrow and JSON
// Lines in always, Parquet only in programs that import frame/parquet.
// Callers that start work before they open files (the engine's file runs)
// check it first.
func (f Format) Linked() error {
	switch f {
	case CSV, Arrow, JSONL:
		return nil
	case Parquet:
		_, err := registered(f)
		return err
	}
	_, err := ParseFormat(string(f))
	return err
}

// resolveFormat gives OpenFile and CreateFile one rule: an empty format means
// "by extension", and any other value may be any name ParseFormat accepts.
func resolveFormat(path string, f Format) (Format, error) {
	if f == "" {
		return FormatOf(path)
	}
	return ParseFormat(string(f))
}
