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
)

// formatNames maps every accepted format name, which are also the accepted
// file extensions, to its format.
var formatNames = map[string]Format{
	"csv":     CSV,
	"parquet": Parquet,
	"pq":      Parquet,
	"arrow":   Arrow,
	"feather": Arrow,
	"ipc":     Arrow,
	"arrows":  Arrow, // the IPC stream format's extension: the reader takes both
	"tsv":     CSV,   // the delimiter is sniffed
}

// ParseFormat returns the format named s, ignoring case: "csv", "parquet" or
// "pq", "arrow", "feather" or "ipc".
func ParseFormat(s string) (Format, error) {
	if f, ok := formatNames[strings.ToLower(strings.TrimSpace(s))]; ok {
		return f, nil
	}
	return "", fmt.Errorf("frame: unknown format %q; accepted: csv, parquet (or pq), arrow (or feather, ipc)", s)
}

// FormatOf returns the format that path's extension names, ignoring case:
// .csv or .tsv, .parquet or .pq, .arrow, .arrows, .feather or .ipc.
func FormatOf(path string) (Format, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if f, ok := formatNames[strings.TrimPrefix(ext, ".")]; ok {
		return f, nil
	}
	return "", fmt.Errorf("frame: cannot tell the format of %q from its extension; accepted extensions: .csv, .tsv, .parquet, .pq, .arrow, .arrows, .feather, .ipc (or name the format)", path)
}

// Ext returns the usual file extension of the format, with its dot, or ""
// for a value that is not one of the Format constants.
func (f Format) Ext() string {
	switch f {
	case CSV, Parquet, Arrow:
		return "." + string(f)
	}
	return ""
}

// resolveFormat gives OpenFile and CreateFile one rule: an empty format means
// "by extension", and any other value may be any name ParseFormat accepts.
func resolveFormat(path string, f Format) (Format, error) {
	if f == "" {
		return FormatOf(path)
	}
	return ParseFormat(string(f))
}
