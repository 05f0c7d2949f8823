package main

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/dfbatch/dfbatch/frame"
)

// bindColumns reads the inputs' schemas before any task starts: it
// resolves spec's feature globs and --features-except against the first
// input's columns, and checks in every input that each feature and kept
// column is there and each feature is numeric. A misspelt name is then a
// usage error naming the closest column, not a failed task. An input that
// cannot be opened is left for the run to report.
func bindColumns(spec *modelSpec, job engine.FileJob, except []string) error {
	if len(spec.features) == 0 && len(except) == 0 && len(spec.keep) == 0 {
		return nil
	}
	inputs, err := job.Inputs()
	if err != nil {
		return err
	}
	source := "--features"
	if spec.config != "" && len(spec.features) > 0 && len(except) == 0 {
		source = spec.config + " features"
	}
	for i, in := range inputs {
		r, err := frame.OpenFile(in.Input, in.Format, in.ReadOptions...)
		if err != nil {
			return nil
		}
		schema := r.Schema()
		if i == 0 && (len(except) > 0 || slices.ContainsFunc(spec.features, isGlob)) {
			if spec.features, err = resolveFeatures(spec.features, except, schema); err != nil {
				r.Close()
				return err
			}
		}
		err = checkColumns(r, in.Input, source, spec.features, spec.keep)
		r.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func isGlob(name string) bool { return strings.ContainsAny(name, `*?[\`) }

// resolveFeatures expands patterns, names and globs, into columns of
// schema: a name as it is, a glob as the columns it matches in the
// schema's order. With except, the features are every numeric column (or
// those patterns name) but the ones except matches. A glob that matches
// nothing is an error.
func resolveFeatures(patterns, except []string, schema *arrow.Schema) ([]string, error) {
	var columns []string
	for _, f := range schema.Fields() {
		columns = append(columns, f.Name)
	}
	match := func(flag, pattern string) ([]string, error) {
		if !isGlob(pattern) {
			return []string{pattern}, nil
		}
		var matched []string
		for _, c := range columns {
			ok, err := path.Match(pattern, c)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w", flag, pattern, err)
			}
			if ok {
				matched = append(matched, c)
			}
		}
		if len(matched) == 0 {
			return nil, fmt.Errorf("%s: %q matches no column of the input; its columns: %s", flag, pattern, columnList(columns))
		}
		return matched, nil
	}
	var features []string
	for _, p := range patterns {
		m, err := match("--features", p)
		if err != nil {
			return nil, err
		}
		for _, c := range m {
			if !slices.Contains(features, c) {
				features = append(features, c)
			}
		}
	}
	if len(except) == 0 {
		return features, nil
	}
	if len(patterns) == 0 {
		for _, f := range schema.Fields() {
			if numeric(f.Type) {
				features = append(features, f.Name)
			}
		}
	}
	for _, p := range except {
		m, err := match("--features-except", p)
		if err != nil {
			return nil, err
		}
		if !isGlob(p) && !slices.Contains(columns, p) {
			return nil, missingColumn("--features-except", p, "the input", columns)
		}
		features = slices.DeleteFunc(features, func(c string) bool { return slices.Contains(m, c) })
	}
	if len(features) == 0 {
		return nil, errors.New("--features-except leaves no numeric column to score")
	}
	return features, nil
}

// checkColumns checks that input, read by r, has the features and kept
// columns, and that its features are numeric: a text column is named with
// the first row that holds no number.
func checkColumns(r frame.Reader, input, source string, features, keep []string) error {
	schema := r.Schema()
	var columns []string
	for _, f := range schema.Fields() {
		columns = append(columns, f.Name)
	}
	for _, k := range keep {
		if !slices.Contains(columns, k) {
			return missingColumn("--keep-columns", k, input, columns)
		}
	}
	var text []string
	for _, name := range features {
		i := schema.FieldIndices(name)
		if len(i) == 0 {
			return missingColumn(source, name, input, columns)
		}
		switch t := schema.Field(i[0]).Type; {
		case numeric(t):
		case t.ID() == arrow.STRING || t.ID() == arrow.LARGE_STRING:
			text = append(text, name)
		default:
			return fmt.Errorf("%s: column %q of %s is %s, not numeric", source, name, input, t)
		}
	}
	if len(text) == 0 {
		return nil
	}
	// A text column of numbers only (set with --dtype, or zero-padded) is
	// left to the model, whose error says how to read it as numbers.
	f, err := r.Next()
	if err != nil {
		return nil // no rows, or unreadable ones, which the run reports with their place
	}
	for _, name := range text {
		col, err := f.StringCol(name)
		if err != nil {
			continue
		}
		for row := range col.Len() {
			if col.IsNull(row) {
				continue
			}
			if _, perr := strconv.ParseFloat(strings.TrimSpace(col.Value(row)), 64); perr != nil {
				return fmt.Errorf("%s: column %q of %s is text, not numeric: row %d holds %q", source, name, input, row, col.Value(row))
			}
		}
	}
	return nil
}

// missingColumn is the error for a column input lacks, with the closest
// of its columns when one is near.
func missingColumn(flag, name, input string, columns []string) error {
	msg := fmt.Sprintf("%s: %s has no column %q", flag, input, name)
	if near := closestName(name, columns); near != "" {
		return fmt.Errorf("%s; did you mean %q?", msg, near)
	}
	return fmt.Errorf("%s; its columns: %s", msg, columnList(columns))
}

// columnList lists columns for an error, the first 20 of a wide file.
func columnList(columns []string) string {
	const most = 20
	quoted := make([]string, 0, min(len(columns), most))
	for _, c := range columns[:min(len(columns), most)] {
		quoted = append(quoted, strconv.Quote(c))
	}
	if len(columns) > most {
		return strings.Join(quoted, ", ") + fmt.Sprintf(" and %d more", len(columns)-most)
	}
	return strings.Join(quoted, ", ")
}

// numeric says whether frames' feature matrices read columns of type t.
func numeric(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64, arrow.BOOL, arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		return true
	}
	return false
}
