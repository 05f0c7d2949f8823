package frame_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
)

// FuzzJSONLReader reads arbitrary bytes as JSON Lines and, for those that
// read, checks the batching, that encoding/json reads every line as an
// object with the same values (but for the NaN and Infinity the reader
// also takes), and that the frame survives a trip through the JSON Lines
// writer and reader.
func FuzzJSONLReader(f *testing.F) {
	for _, seed := range []string{
		`{"a": 1, "b": 1.5, "c": "x", "d": true, "e": null}` + "\n" + `{"b": 2, "a": -3, "c": "y\n\u00e9", "d": false}`,
		"\ufeff{\"x\":NaN}\r\n\r\n{\"x\":-Infinity}\n{\"x\":1e400}\n",
		`{"n": [1, {"k": [true, null]}], "m": {}}` + "\n" + `{"n": "text", "m": 7}`,
		`{"s": "\ud83d\ude00 \ud800 \\ \/ \b\f\t"}`,
		`{"i": 9223372036854775807}` + "\n" + `{"i": -9223372036854775808}` + "\n" + `{"i": 9223372036854775808}`,
		`{"a": 1}` + "\n" + `{"a": "x"}`,
		`{"": 0, " ": -0.0, "\u0000": 0e-1}`,
		"{}\n{\"a\":1}\n",
		`[1, 2]`,
		`{"a": 1, "a": 2}`,
		`{"a": 01}`,
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const batch = 3
		r, err := frame.NewJSONLReader(bytes.NewReader(data), frame.WithBatchRows(batch))
		require.NoError(t, err, "only Next reports what the lines hold")
		var frames []*frame.Frame
		rows := 0
		for {
			fr, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				requireRefusable(t, data, err)
				return
			}
			require.Same(t, r.Schema(), fr.Schema())
			require.Equal(t, rows, fr.RowOffset())
			require.Positive(t, fr.NumRows())
			require.LessOrEqual(t, fr.NumRows(), batch)
			if len(frames) > 0 {
				require.Equal(t, batch, frames[len(frames)-1].NumRows(), "only the last frame may be short")
			}
			rows += fr.NumRows()
			frames = append(frames, fr)
		}
		orig := frame.Empty(r.Schema())
		if len(frames) > 0 {
			orig, err = frame.Concat(frames...)
			require.NoError(t, err)
		}

		lines := objectLines(data)
		require.Len(t, lines, orig.NumRows())
		for i, line := range lines {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(line, &obj); err != nil {
				require.True(t, bytes.Contains(line, []byte("NaN")) || bytes.Contains(line, []byte("Infinity")),
					"the reader took line %q, which encoding/json refuses: %v", line, err)
				continue
			}
			for j, field := range orig.Schema().Fields() {
				raw, ok := obj[field.Name]
				requireSameJSONValue(t, raw, ok, orig.Column(j), i)
			}
			require.LessOrEqual(t, len(obj), orig.NumCols())
		}

		var buf bytes.Buffer
		w, err := frame.NewJSONLWriter(&buf)
		require.NoError(t, err)
		require.NoError(t, w.Write(orig))
		require.NoError(t, w.Close())
		if orig.NumRows() == 0 {
			require.Zero(t, buf.Len())
			return
		}
		again, err := frame.NewJSONLReader(bytes.NewReader(buf.Bytes()))
		require.NoError(t, err)
		back, err := frame.ReadAll(again)
		require.NoError(t, err, "reading back %q", buf.String())
		require.Equal(t, orig.ColumnNames(), back.ColumnNames())
		require.Equal(t, orig.NumRows(), back.NumRows())
		for j := range orig.NumCols() {
			for i := range orig.NumRows() {
				want, wok := finiteCell(orig.Column(j), i)
				got, gok := finiteCell(back.Column(j), i)
				require.Equal(t, wok, gok, "column %d, row %d: %v, %v", j, i, want, got)
				require.Equal(t, want, got, "column %d, row %d", j, i)
			}
		}
	})
}

// requireRefusable checks that the reader had reason to refuse data: a
// line encoding/json does not read as one object, a string that is not
// UTF-8 (which encoding/json replaces), a key twice in a line, or no key
// in any line.
func requireRefusable(t *testing.T, data []byte, err error) {
	t.Helper()
	keys := 0
	for _, line := range objectLines(data) {
		dec := json.NewDecoder(bytes.NewReader(line))
		if tok, terr := dec.Token(); terr != nil || tok != json.Delim('{') || !utf8.Valid(line) {
			return
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, terr := dec.Token()
			var value json.RawMessage
			if terr != nil || dec.Decode(&value) != nil || seen[tok.(string)] {
				return
			}
			seen[tok.(string)] = true
			keys++
		}
		if _, terr := dec.Token(); terr != nil {
			return
		}
		if _, terr := dec.Token(); terr != io.EOF {
			return // text after the object
		}
	}
	require.Zero(t, keys, "the reader refused lines encoding/json reads: %v", err)
}

// objectLines are data's lines that are not blank, as the reader sees
// them.
func objectLines(data []byte) [][]byte {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var lines [][]byte
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.Trim(line, " \t\r")) > 0 {
			lines = append(lines, line)
		}
	}
	return lines
}

// requireSameJSONValue checks that row i of col holds raw, as encoding/json
// reads it, or null if the key is missing (present is false).
func requireSameJSONValue(t *testing.T, raw json.RawMessage, present bool, col arrow.Array, i int) {
	t.Helper()
	var v any
	if present {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&v))
	}
	if v == nil {
		require.True(t, col.IsNull(i), "row %d: %s for null", i, col.ValueStr(i))
		return
	}
	require.False(t, col.IsNull(i), "row %d: null for %s", i, raw)
	switch c := col.(type) {
	case *array.Int64:
		want, err := strconv.ParseInt(string(v.(json.Number)), 10, 64)
		require.NoError(t, err)
		require.Equal(t, want, c.Value(i))
	case *array.Float64:
		want, err := strconv.ParseFloat(string(v.(json.Number)), 64)
		if err != nil {
			require.ErrorIs(t, err, strconv.ErrRange)
		}
		require.Equal(t, math.Float64bits(want), math.Float64bits(c.Value(i)))
	case *array.Boolean:
		require.Equal(t, v, c.Value(i))
	case *array.String:
		switch v := v.(type) {
		case string:
			require.Equal(t, v, c.Value(i))
		case json.Number:
			require.Equal(t, string(v), c.Value(i))
		case bool:
			require.Equal(t, strconv.FormatBool(v), c.Value(i))
		default: // nested: its text, as written
			var text any
			dec := json.NewDecoder(bytes.NewReader([]byte(c.Value(i))))
			dec.UseNumber()
			require.NoError(t, dec.Decode(&text))
			require.Equal(t, v, text)
		}
	default:
		t.Fatalf("inference made a %s column", col.DataType())
	}
}

// finiteCell is row i of a, with NaN and ±Inf as null, as JSON Lines
// writes them; floats as their bits.
func finiteCell(a arrow.Array, i int) (any, bool) {
	if a.IsNull(i) {
		return nil, false
	}
	switch c := a.(type) {
	case *array.Float64:
		if math.IsNaN(c.Value(i)) || math.IsInf(c.Value(i), 0) {
			return nil, false
		}
		return math.Float64bits(c.Value(i)), true
	case *array.Int64:
		return c.Value(i), true
	case *array.String:
		return c.Value(i), true
	case *array.Boolean:
		return c.Value(i), true
	}
	return a.ValueStr(i), true
}
