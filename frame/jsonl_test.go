package frame_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dfbatch/dfbatch/frame"
)

func readJSONL(t testing.TB, input string, opts ...frame.ReadOption) *frame.Frame {
	t.Helper()
	r, err := frame.NewJSONLReader(strings.NewReader(input), opts...)
	require.NoError(t, err)
	f, err := frame.ReadAll(r)
	require.NoError(t, err)
	return f
}

// readJSONLError reads input to its end and returns the error that
// stopped it.
func readJSONLError(t testing.TB, input string, opts ...frame.ReadOption) error {
	t.Helper()
	r, err := frame.NewJSONLReader(strings.NewReader(input), opts...)
	if err != nil {
		return err
	}
	_, err = frame.ReadAll(r)
	require.Error(t, err)
	return err
}

// columnStrings is a column's values as Arrow prints them.
func columnStrings(a arrow.Array) []string {
	out := make([]string, a.Len())
	for i := range out {
		out[i] = a.ValueStr(i)
	}
	return out
}

func TestJSONLReaderInfersTypes(t *testing.T) {
	// Keys in first-seen order across lines; a later line may omit keys,
	// reorder them or hold a null.
	input := "\ufeff" + `{"id": 1, "score": 1, "name": "a", "ok": true, "code": "0042", "none": null, "tags": ["x", 1]}` + "\r\n" +
		"\n" +
		`{"score": 2.5, "id": -2, "ok": false, "code": "17", "name": null, "tags": {"k": [true]}, "late": 1}` + "\n" +
		"   \t\n" +
		`{"id": 9223372036854775807, "name": "ünï\"\\\n\u00e9\ud83d\ude00", "score": -1e3, "code": 7, "late": 2.0}`
	f := readJSONL(t, input)
	assert.Equal(t, []string{"id", "score", "name", "ok", "code", "none", "tags", "late"}, f.ColumnNames())
	types := map[string]arrow.DataType{
		"id": arrow.PrimitiveTypes.Int64, "score": arrow.PrimitiveTypes.Float64, "name": arrow.BinaryTypes.String,
		"ok": arrow.FixedWidthTypes.Boolean, "code": arrow.BinaryTypes.String, "none": arrow.BinaryTypes.String,
		"tags": arrow.BinaryTypes.String, "late": arrow.PrimitiveTypes.Float64,
	}
	for name, typ := range types {
		col, err := f.Col(name)
		require.NoError(t, err)
		assert.Equal(t, typ, col.DataType(), name)
	}
	id, _ := f.Int64Col("id")
	assert.Equal(t, []int64{1, -2, math.MaxInt64}, id.Int64Values())
	score, _ := f.Float64Col("score")
	assert.Equal(t, []float64{1, 2.5, -1000}, score.Float64Values())
	name, _ := f.Col("name")
	assert.Equal(t, []string{"a", "(null)", "ünï\"\\\né😀"}, columnStrings(name))
	ok, _ := f.Col("ok")
	assert.Equal(t, []string{"true", "false", "(null)"}, columnStrings(ok))
	// A string keeps its zeros; a number in a string column is its text.
	code, _ := f.Col("code")
	assert.Equal(t, []string{"0042", "17", "7"}, columnStrings(code))
	none, _ := f.Col("none")
	assert.Equal(t, 3, none.NullN())
	// Nested values are their JSON text, as written.
	tags, _ := f.Col("tags")
	assert.Equal(t, []string{`["x", 1]`, `{"k": [true]}`, "(null)"}, columnStrings(tags))
	late, _ := f.Col("late")
	assert.Equal(t, []string{"(null)", "1", "2"}, columnStrings(late))
}

func TestJSONLReaderReadsPythonsNonFiniteNumbers(t *testing.T) {
	// Python's json.dumps writes NaN and infinities as bare words.
	f := readJSONL(t, `{"x": NaN}`+"\n"+`{"x": Infinity}`+"\n"+`{"x": -Infinity}`+"\n"+`{"x": 1}`+"\n"+`{"x": 1e999}`)
	x, err := f.Float64Col("x")
	require.NoError(t, err)
	assert.True(t, math.IsNaN(x.Value(0)))
	assert.Equal(t, []float64{math.Inf(1), math.Inf(-1), 1, math.Inf(1)}, x.Float64Values()[1:])
}

func TestJSONLReaderBatchesAndNumbersRows(t *testing.T) {
	var b strings.Builder
	for i := range 25 {
		fmt.Fprintf(&b, `{"i": %d}`+"\n", i)
		if i%4 == 0 {
			b.WriteString("\n")
		}
	}
	r, err := frame.NewJSONLReader(strings.NewReader(b.String()), frame.WithBatchRows(10))
	require.NoError(t, err)
	frames := readAllFrames(t, r)
	require.Len(t, frames, 3)
	for k, f := range frames {
		assert.Equal(t, 10*k, f.RowOffset())
		i, err := f.Int64Col("i")
		require.NoError(t, err)
		assert.Equal(t, int64(10*k), i.Value(0))
	}
	assert.Equal(t, 5, frames[2].NumRows())
}

func TestJSONLReaderEmptyInputs(t *testing.T) {
	for _, input := range []string{"", "\n\n", "\ufeff", "\r\n  \n"} {
		f := readJSONL(t, input)
		assert.Zero(t, f.NumCols(), "%q", input)
		assert.Zero(t, f.NumRows(), "%q", input)
	}
	f := readJSONL(t, "", frame.WithColumnTypes(map[string]arrow.DataType{"id": arrow.PrimitiveTypes.Int64}))
	assert.Equal(t, []string{"id"}, f.ColumnNames())
	assert.ErrorContains(t, readJSONLError(t, "{}\n{}\n"), "the lines hold no keys, and a frame needs a column")
}

// manyLines is n lines of {"id": i, "x": i + 0.5}, then the line last.
func manyLines(n int, last string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id": %d, "x": %d.5}`+"\n", i, i)
	}
	return b.String() + last + "\n"
}

func TestJSONLReaderErrorsNameColumnRowLineAndFix(t *testing.T) {
	n := 10_000 // the lines types are inferred from
	cases := []struct {
		name  string
		input string
		want  []string
	}{
		{"a string in an int column", manyLines(n, `{"id": "A7", "x": 1}`),
			[]string{`column "id", row 10000: line 10001: cannot read the string "A7" as int64, the column's type inferred from the first 10000 lines`, "set it to string with WithColumnTypes (the CLI's --dtype id=string)"}},
		{"a fraction in an int column", manyLines(n, `{"id": 1.5, "x": 1}`),
			[]string{`column "id", row 10000: line 10001: cannot read the number 1.5 as int64`, "--dtype id=float64"}},
		{"an int beyond int64", manyLines(n, `{"id": 9223372036854775808, "x": 1}`),
			[]string{`column "id", row 10000: line 10001: cannot read the number 9223372036854775808 as int64`, "value out of range", "--dtype id=string"}},
		{"a string in a float column", manyLines(n, `{"id": 1, "x": "n/a"}`),
			[]string{`column "x", row 10000: line 10001: cannot read the string "n/a" as float64`}},
		{"an object in a float column", manyLines(n, `{"id": 1, "x": {"v": 1}}`),
			[]string{`column "x", row 10000: line 10001: cannot read the object {"v": 1} as float64`}},
		{"a key the first lines lack", manyLines(n, `{"id": 1, "extra": 2}`),
			[]string{`column "extra", row 10000: line 10001: the key is not a column; the columns are the keys of the first 10000 lines: declare it with WithColumnTypes (the CLI's --dtype extra=TYPE)`}},
		{"a number in a bool column", `{"b": true}` + "\n" + manyLines(n, `{"b": 1}`),
			[]string{`column "b", row 10001: line 10002: cannot read the number 1 as bool`}},
		{"a repeated key", `{"a": 1, "a": 2}`, []string{`column "a", row 0: line 1: the key appears twice in the line`}},
		{"a JSON array", `[{"a": 1}, {"a": 2}]`, []string{"row 0: line 1: not a JSON object: byte 1: an array; JSON Lines holds one object per line"}},
		{"pretty-printed", "{\n  \"a\": 1\n}\n", []string{"row 0: line 1: not a JSON object: byte 3: the line ends inside the object; JSON Lines holds one object per line"}},
		{"two objects on a line", `{"a": 1} {"a": 2}`, []string{"row 0: line 1: not a JSON object: byte 10: text after the object"}},
		{"a scalar", "{\"a\": 1}\n\n42\n", []string{"row 1: line 3: not a JSON object: byte 1: want '{'"}},
		{"a bad number", `{"a": 01}`, []string{"byte 8: want ',' or '}' after the value of \"a\""}},
		{"a bad literal", `{"a": tru}`, []string{"byte 7: want a value, found \"tru}\""}},
		{"an unquoted key", `{a: 1}`, []string{"byte 2: want a key in double quotes"}},
		{"a trailing comma", `{"a": 1,}`, []string{"byte 9: want a key in double quotes"}},
		{"a raw line break in a string", "{\"a\": \"x\ty\"}", []string{"a control character in a string"}},
		{"a bad escape", `{"a": "\x41"}`, []string{`an unknown escape \x in a string`}},
		{"not UTF-8", "{\"a\": \"\xff\"}", []string{"a string that is not valid UTF-8"}},
		{"too deep", `{"a": ` + strings.Repeat("[", 1001) + strings.Repeat("]", 1001) + `}`, []string{"values nested deeper than 1000 levels"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := readJSONLError(t, tc.input)
			assert.ErrorContains(t, err, "frame: reading JSON Lines input: ")
			for _, want := range tc.want {
				assert.ErrorContains(t, err, want)
			}
		})
	}
}

func TestJSONLReaderErrorsComeAfterTheRowsBeforeThem(t *testing.T) {
	r, err := frame.NewJSONLReader(strings.NewReader("{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3}\n{\"a\":\n"), frame.WithBatchRows(2))
	require.NoError(t, err)
	f, err := r.Next()
	require.NoError(t, err)
	assert.Equal(t, 2, f.NumRows())
	_, err = r.Next()
	assert.ErrorContains(t, err, "row 3: line 4")
	_, again := r.Next()
	assert.Equal(t, err, again, "errors are sticky")
}

func TestJSONLReaderColumnTypes(t *testing.T) {
	input := `{"zip": "0042", "n": "12", "t": "2024-05-01T12:30:00.5", "d": "2024-05-01", "v": [1, 2.5], "f": 1, "s": 10}` + "\n" +
		`{"zip": 42, "n": 13, "t": null, "d": "1999-12-31", "v": [], "f": 0.1, "s": true}` + "\n" +
		`{"late": "x"}`
	f := readJSONL(t, input, frame.WithColumnTypes(map[string]arrow.DataType{
		"zip":  arrow.PrimitiveTypes.Int64,
		"n":    arrow.PrimitiveTypes.Int32,
		"t":    &arrow.TimestampType{Unit: arrow.Millisecond},
		"d":    arrow.FixedWidthTypes.Date32,
		"v":    arrow.ListOf(arrow.PrimitiveTypes.Float64),
		"f":    arrow.PrimitiveTypes.Float32,
		"s":    arrow.BinaryTypes.String,
		"zzz":  arrow.BinaryTypes.String,
		"aaa":  arrow.FixedWidthTypes.Boolean,
		"late": arrow.BinaryTypes.LargeString,
	}))
	// Columns the lines lack come last, by name.
	assert.Equal(t, []string{"zip", "n", "t", "d", "v", "f", "s", "late", "aaa", "zzz"}, f.ColumnNames())
	got := map[string][]string{}
	for j, name := range f.ColumnNames() {
		got[name] = columnStrings(f.Column(j))
	}
	assert.Equal(t, []string{"42", "42", "(null)"}, got["zip"])
	assert.Equal(t, []string{"12", "13", "(null)"}, got["n"])
	assert.Equal(t, []string{"2024-05-01T12:30:00.5", "(null)", "(null)"}, got["t"])
	assert.Equal(t, []string{"2024-05-01", "1999-12-31", "(null)"}, got["d"])
	assert.Equal(t, []string{"[1,2.5]", "[]", "(null)"}, got["v"])
	assert.Equal(t, []string{"1", "0.1", "(null)"}, got["f"])
	assert.Equal(t, []string{"10", "true", "(null)"}, got["s"])
	assert.Equal(t, []string{"(null)", "(null)", "x"}, got["late"])
	assert.Equal(t, []string{"(null)", "(null)", "(null)"}, got["aaa"])

	types := func(col string, typ arrow.DataType) frame.ReadOption {
		return frame.WithColumnTypes(map[string]arrow.DataType{col: typ})
	}
	err := readJSONLError(t, `{"t": 1714566600000}`, types("t", arrow.FixedWidthTypes.Timestamp_ms))
	assert.ErrorContains(t, err, `column "t", row 0: line 1: cannot read the number 1714566600000 as timestamp[ms, tz=UTC], the column's type set by WithColumnTypes; JSON has no time type: write times as ISO-8601 strings (pandas: to_json(date_format="iso"))`)
	err = readJSONLError(t, `{"n": "x"}`, types("n", arrow.PrimitiveTypes.Int64))
	assert.ErrorContains(t, err, `column "n", row 0: line 1: cannot read the string "x" as int64, the column's type set by WithColumnTypes: invalid syntax`)
	err = readJSONLError(t, `{"n": [1]}`, types("n", arrow.PrimitiveTypes.Int32))
	assert.ErrorContains(t, err, `cannot read the array [1] as int32`)
	err = readJSONLError(t, `{"n": 3000000000}`, types("n", arrow.PrimitiveTypes.Int32))
	assert.ErrorContains(t, err, `cannot read the number 3000000000 as int32, the column's type set by WithColumnTypes: value out of range`)
}

func TestJSONLReaderReadsLongLines(t *testing.T) {
	long := strings.Repeat("ab", 400_000) // beyond the read buffer
	input := `{"s": "x", "n": 1}` + "\n" + `{"s": "` + long + `", "n": 2}` + "\n" + `{"s": "y", "n": 3}`
	f := readJSONL(t, input)
	s, err := f.StringCol("s")
	require.NoError(t, err)
	assert.Equal(t, []string{"x", long, "y"}, []string{s.Value(0), s.Value(1), s.Value(2)})
}

// jsonlText writes f as JSON Lines.
func jsonlText(t testing.TB, f *frame.Frame) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := frame.NewJSONLWriter(&buf)
	require.NoError(t, err)
	writeFrames(t, w, f)
	return buf.String()
}

func TestJSONLWriterText(t *testing.T) {
	mem := memory.DefaultAllocator
	f64 := array.NewFloat64Builder(mem)
	f64.AppendValues([]float64{3, 0.1, math.NaN(), math.Inf(-1), 1e21, 0}, []bool{true, true, true, true, true, false})
	f32 := array.NewFloat32Builder(mem)
	f32.AppendValues([]float32{0.1, 2, 1.5, float32(math.Copysign(0, -1)), 3.4e38, 0}, nil)
	i8 := array.NewInt8Builder(mem)
	i8.AppendValues([]int8{-128, 127, 0, 1, 2, 3}, nil)
	u64 := array.NewUint64Builder(mem)
	u64.AppendValues([]uint64{math.MaxUint64, 0, 1, 2, 3, 4}, nil)
	str := array.NewStringBuilder(mem)
	str.AppendValues([]string{`say "hi"`, "back\\slash", "line\nbreak\r\ttab\x01", "ünï 😀", "bad \xff byte", "</script>"}, nil)
	ts := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Microsecond})
	utc := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"})
	paris := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Second, TimeZone: "+02:00"})
	date := array.NewDate32Builder(mem)
	moment := time.Date(2024, 5, 1, 12, 30, 0, 500_000_000, time.UTC)
	for i := range 6 {
		at := moment.Add(time.Duration(i) * 36 * time.Hour)
		ts.Append(arrow.Timestamp(at.UnixMicro()))
		utc.Append(arrow.Timestamp(at.UnixNano()))
		paris.Append(arrow.Timestamp(at.Unix()))
		date.Append(arrow.Date32FromTime(at))
	}
	dict := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
	for _, v := range []string{"gold", "silver", "gold", "", "bronze", "gold"} {
		if v == "" {
			dict.AppendNull()
		} else {
			require.NoError(t, dict.AppendString(v))
		}
	}
	dec := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 10, Scale: 2})
	for _, v := range []int64{12345, -5, 0, 100, 1, 99999} {
		dec.Append(decimal128.FromI64(v))
	}
	list := array.NewListBuilder(mem, arrow.PrimitiveTypes.Int64)
	values := list.ValueBuilder().(*array.Int64Builder)
	for i := range 6 {
		list.Append(true)
		for k := range i % 3 {
			values.Append(int64(k))
		}
	}
	bools := array.NewBooleanBuilder(mem)
	bools.AppendValues([]bool{true, false, true, false, true, false}, []bool{true, true, false, true, true, true})
	f, err := frame.New(
		frame.Column{Name: "f64", Values: f64.NewArray()},
		frame.Column{Name: "f32", Values: f32.NewArray()},
		frame.Column{Name: "i8", Values: i8.NewArray()},
		frame.Column{Name: "u64", Values: u64.NewArray()},
		frame.Column{Name: `s "q"`, Values: str.NewArray()},
		frame.Column{Name: "ts", Values: ts.NewArray()},
		frame.Column{Name: "utc", Values: utc.NewArray()},
		frame.Column{Name: "paris", Values: paris.NewArray()},
		frame.Column{Name: "date", Values: date.NewArray()},
		frame.Column{Name: "segment", Values: dict.NewArray()},
		frame.Column{Name: "amount", Values: dec.NewArray()},
		frame.Column{Name: "list", Values: list.NewArray()},
		frame.Column{Name: "ok", Values: bools.NewArray()},
	)
	require.NoError(t, err)
	want := `{"f64":3.0,"f32":0.1,"i8":-128,"u64":18446744073709551615,"s \"q\"":"say \"hi\"","ts":"2024-05-01 12:30:00.500000","utc":"2024-05-01T12:30:00.500000000Z","paris":"2024-05-01T14:30:00+02:00","date":"2024-05-01","segment":"gold","amount":123.45,"list":[],"ok":true}
{"f64":0.1,"f32":2.0,"i8":127,"u64":0,"s \"q\"":"back\\slash","ts":"2024-05-03 00:30:00.500000","utc":"2024-05-03T00:30:00.500000000Z","paris":"2024-05-03T02:30:00+02:00","date":"2024-05-03","segment":"silver","amount":-0.05,"list":[0],"ok":false}
{"f64":null,"f32":1.5,"i8":0,"u64":1,"s \"q\"":"line\nbreak\r\ttab\u0001","ts":"2024-05-04 12:30:00.500000","utc":"2024-05-04T12:30:00.500000000Z","paris":"2024-05-04T14:30:00+02:00","date":"2024-05-04","segment":"gold","amount":0,"list":[0,1],"ok":null}
{"f64":null,"f32":-0.0,"i8":1,"u64":2,"s \"q\"":"ünï 😀","ts":"2024-05-06 00:30:00.500000","utc":"2024-05-06T00:30:00.500000000Z","paris":"2024-05-06T02:30:00+02:00","date":"2024-05-06","segment":null,"amount":1,"list":[],"ok":false}
{"f64":1e+21,"f32":3.4e+38,"i8":2,"u64":3,"s \"q\"":"bad \ufffd byte","ts":"2024-05-07 12:30:00.500000","utc":"2024-05-07T12:30:00.500000000Z","paris":"2024-05-07T14:30:00+02:00","date":"2024-05-07","segment":"bronze","amount":0.01,"list":[0],"ok":true}
{"f64":null,"f32":0.0,"i8":3,"u64":4,"s \"q\"":"</script>","ts":"2024-05-09 00:30:00.500000","utc":"2024-05-09T00:30:00.500000000Z","paris":"2024-05-09T02:30:00+02:00","date":"2024-05-09","segment":"gold","amount":999.99,"list":[0,1],"ok":false}
`
	assert.Equal(t, want, jsonlText(t, f))
}

func TestJSONLRoundTripKeepsValuesExact(t *testing.T) {
	xs := []float64{0.1 + 0.2, 1e-320, math.MaxFloat64, -math.SmallestNonzeroFloat64, 123456789.125, 5e-324, 1, -0.5}
	ids := []int64{math.MinInt64, math.MaxInt64, 0, -1, 1 << 53, 1<<53 + 1, 42, 7}
	names := []string{"", "\x00\x1f\u2028", `"\/`, "0042", "null", "1.5", "😀", "\t"}
	want := mustFrame(t, frame.Float64s("x", xs), frame.Int64s("id", ids), frame.Strings("name", names))
	got := readJSONL(t, jsonlText(t, want))
	requireSameValues(t, want, got)
	x, _ := got.Float64Col("x")
	for i, v := range xs {
		assert.Equal(t, math.Float64bits(v), math.Float64bits(x.Value(i)), "row %d", i)
	}
}

func TestJSONLWriterWritesOtherTypesAsEncodingJSONDoes(t *testing.T) {
	mem := memory.DefaultAllocator
	t32 := array.NewTime32Builder(mem, &arrow.Time32Type{Unit: arrow.Second})
	t32.Append(arrow.Time32(3723))
	dur := array.NewDurationBuilder(mem, &arrow.DurationType{Unit: arrow.Millisecond})
	dur.Append(1500)
	bin := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
	bin.Append([]byte("hi\x00"))
	large := array.NewLargeStringBuilder(mem)
	large.Append("große \"Zahl\"")
	view := array.NewStringViewBuilder(mem)
	view.Append("a view of a string longer than twelve bytes")
	st := array.NewStructBuilder(mem, arrow.StructOf(arrow.Field{Name: "k", Type: arrow.PrimitiveTypes.Int32, Nullable: true}))
	st.Append(true)
	st.FieldBuilder(0).(*array.Int32Builder).Append(7)
	f, err := frame.New(
		frame.Column{Name: "time", Values: t32.NewArray()},
		frame.Column{Name: "duration", Values: dur.NewArray()},
		frame.Column{Name: "binary", Values: bin.NewArray()},
		frame.Column{Name: "large", Values: large.NewArray()},
		frame.Column{Name: "view", Values: view.NewArray()},
		frame.Column{Name: "struct", Values: st.NewArray()},
	)
	require.NoError(t, err)
	text := jsonlText(t, f)
	assert.Equal(t, `{"time":"01:02:03","duration":"1500ms","binary":"aGkA","large":"große \"Zahl\"","view":"a view of a string longer than twelve bytes","struct":{"k":7}}`+"\n", text)
}

// TestJSONLReaderParsesNumbersAsStrconvDoes checks the reader's own
// number parsing, which skips strconv where one exact multiplication
// gives the value, against strconv on numbers of every shape.
func TestJSONLReaderParsesNumbersAsStrconvDoes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	var texts []string
	for range 20_000 {
		digits := strconv.FormatUint(rng.Uint64()>>rng.IntN(64), 10)
		text := digits
		if point := rng.IntN(len(digits) + 1); point < len(digits) && point > 0 {
			text = digits[:point] + "." + digits[point:]
		}
		if rng.IntN(3) == 0 {
			text += fmt.Sprintf("e%d", rng.IntN(700)-350)
		}
		if rng.IntN(2) == 0 {
			text = "-" + text
		}
		if strings.HasPrefix(strings.TrimPrefix(text, "-"), "0") && len(strings.TrimPrefix(text, "-")) > 1 && strings.TrimPrefix(text, "-")[1] != '.' {
			continue // JSON has no leading zeros
		}
		texts = append(texts, text)
		fmt.Fprintf(&b, `{"x": %s, "s": "%s"}`+"\n", text, text)
	}
	f := readJSONL(t, b.String(), frame.WithColumnTypes(map[string]arrow.DataType{"x": arrow.PrimitiveTypes.Float64}))
	x, err := f.Float64Col("x")
	require.NoError(t, err)
	for i, text := range texts {
		want, err := strconv.ParseFloat(text, 64)
		if err != nil {
			require.ErrorIs(t, err, strconv.ErrRange, text)
		}
		require.Equal(t, math.Float64bits(want), math.Float64bits(x.Value(i)), "%s: want %v, got %v", text, want, x.Value(i))
	}
}
