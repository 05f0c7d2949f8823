package main

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
)

// The flags that say how CSV inputs are read.

// naValues is --na-values: cells, comma-separated and kept as written
// (spaces count), with set telling "--na-values=" (only empty cells are
// missing) from no flag (pandas' defaults).
type naValues struct {
	values []string
	set    bool
}

func (n *naValues) String() string { return strings.Join(n.values, ",") }

func (n *naValues) Set(s string) error {
	n.values, n.set = append(n.values, strings.Split(s, ",")...), true
	return nil
}

// list returns the values, nil when the flag was not given.
func (n *naValues) list() []string {
	if !n.set {
		return nil
	}
	return n.values
}

// columnTypes is --dtype: name=type pairs, comma-separated, setting CSV
// and JSON Lines columns' types instead of inferring them.
type columnTypes map[string]arrow.DataType

func (c columnTypes) String() string {
	pairs := make([]string, 0, len(c))
	for name, t := range c {
		pairs = append(pairs, name+"="+t.String())
	}
	slices.Sort(pairs)
	return strings.Join(pairs, ",")
}

func (c columnTypes) Set(s string) error {
	for _, pair := range strings.Split(s, ",") {
		name, typ, ok := strings.Cut(pair, "=")
		if !ok || name == "" {
			return fmt.Errorf("want column=type, got %q", pair)
		}
		t, ok := typeNames[strings.ToLower(strings.TrimSpace(typ))]
		if !ok {
			return fmt.Errorf("column %s: unknown type %q; use one of %s", name, typ, strings.Join(typeNameList(), ", "))
		}
		c[name] = t
	}
	return nil
}

// typeNames are the types --dtype takes, by the names pandas, DuckDB and
// Arrow give them.
var typeNames = map[string]arrow.DataType{
	"string": arrow.BinaryTypes.String, "str": arrow.BinaryTypes.String, "utf8": arrow.BinaryTypes.String, "varchar": arrow.BinaryTypes.String,
	"int64": arrow.PrimitiveTypes.Int64, "int": arrow.PrimitiveTypes.Int64, "bigint": arrow.PrimitiveTypes.Int64,
	"int32": arrow.PrimitiveTypes.Int32, "integer": arrow.PrimitiveTypes.Int32,
	"float64": arrow.PrimitiveTypes.Float64, "float": arrow.PrimitiveTypes.Float64, "double": arrow.PrimitiveTypes.Float64,
	"float32": arrow.PrimitiveTypes.Float32, "real": arrow.PrimitiveTypes.Float32,
	"bool": arrow.FixedWidthTypes.Boolean, "boolean": arrow.FixedWidthTypes.Boolean,
	"date":      arrow.FixedWidthTypes.Date32,
	"timestamp": arrow.FixedWidthTypes.Timestamp_us,
}

// typeNameList lists typeNames' keys, sorted.
func typeNameList() []string {
	names := make([]string, 0, len(typeNames))
	for name := range typeNames {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// parseDelimiter reads --delimiter: "" (sniff), one character, or "tab".
func parseDelimiter(s string) (rune, error) {
	switch {
	case s == "":
		return 0, nil
	case strings.EqualFold(s, "tab") || s == `\t`:
		return '\t', nil
	case utf8.RuneCountInString(s) == 1 && s != `"`:
		r, _ := utf8.DecodeRuneInString(s)
		return r, nil
	}
	return 0, fmt.Errorf("--delimiter %q: want one character other than a quote, or tab", s)
}
