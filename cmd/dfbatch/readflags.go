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

// separator is a flag naming one character of CSV syntax: --delimiter,
// --thousands or --decimal. "tab" and "space" name those characters.
type separator struct {
	r rune
	// refused are the characters it cannot be.
	refused string
}

// delimiterRefuses and numberRefuses are what a field delimiter and a
// number's separators cannot be, as frame.WithDelimiter, WithThousands
// and WithDecimal check.
const (
	delimiterRefuses = "\"\r\n"
	numberRefuses    = "0123456789+-eE\"\r\n"
)

// refusedNames says what the characters of delimiterRefuses and
// numberRefuses are, for errors.
var refusedNames = map[string]string{
	delimiterRefuses: "a quote or a line break",
	numberRefuses:    "a digit, a sign, e, E, a quote or a line break",
}

func (s *separator) String() string {
	if s == nil || s.r == 0 {
		return ""
	}
	return string(s.r)
}

func (s *separator) Set(v string) error {
	switch {
	case strings.EqualFold(v, "tab") || v == `\t`:
		s.r = '\t'
	case strings.EqualFold(v, "space"):
		s.r = ' '
	case utf8.RuneCountInString(v) == 1 && !strings.Contains(s.refused, v):
		s.r, _ = utf8.DecodeRuneInString(v)
	default:
		return fmt.Errorf("want one character, tab or space, and not %s", refusedNames[s.refused])
	}
	return nil
}
