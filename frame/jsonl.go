package frame

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// NewJSONLReader reads JSON Lines from r, a batch of rows at a time: one
// JSON object per line, its keys the columns and its values the row's
// cells. Blank lines are skipped; lines may end in \r\n, and a UTF-8 byte
// order mark may start the input.
//
// The columns are the keys of the first 10,000 lines, in the order they
// first appear, and their types are inferred from the values there, nulls
// ignored: int64 if every value is an integer that fits, float64 if every
// value is a number (NaN, Infinity and -Infinity, as Python's json module
// writes them, included), bool if every value is true or false, and string
// otherwise or when every value is null. Strings stay strings, however
// they look: "0042" keeps its zeros and an ISO-8601 timestamp is text,
// unless WithColumnTypes sets the column's type. A string column takes
// numbers and booleans as they are written, and nested objects and arrays
// as their JSON text (WithColumnTypes may set a list or struct type
// instead). A key missing from a line, and null, are missing values.
//
// WithColumnTypes sets the types of the columns it names, which then also
// take strings, parsed as CSV cells are ("42" in an int64 column), and
// adds the columns that the first lines lack, after the others, in name
// order: how to read a key that first appears later. A timestamp column
// takes ISO-8601 strings ("2024-05-01T12:30:00.5", a space for the T, an
// offset or Z): one with an offset is that instant, one without is a time
// in the column's time zone, or UTC. JSON has no time type, so numbers
// (pandas' default epoch milliseconds) are refused: write ISO strings
// (to_json(date_format="iso")). Otherwise a later
// line with a key that is not a column, or a value that its column's type
// cannot hold (a string, a fraction or a number beyond int64's range in
// an int64 column, a number in a bool column), is an error naming the
// column, the row (as RowOffset numbers it), the line and the type to set:
// a column cannot change its type midway through a stream. So is a line
// that is not one JSON object, or holds a key twice.
//
// NewJSONLReader reads the lines it infers types from before it returns,
// and holds them until Next yields them.
func NewJSONLReader(r io.Reader, opts ...ReadOption) (Reader, error) {
	cfg, err := newReadConfig(JSONL, opts)
	if err != nil {
		return nil, err
	}
	return newJSONLReader(r, "JSON Lines input", cfg)
}

// jsonlReadBuffer is the line reader's buffer: lines longer than it are
// read in pieces and joined.
const jsonlReadBuffer = 256 << 10

type jsonlReader struct {
	name    string
	src     *bufio.Reader
	schema  *arrow.Schema
	columns []jsonlColumn
	index   map[string]int
	rows    int
	scan    jsonScanner
	// stamps[j] is 1 + the row whose line last set column j, to tell
	// missing and repeated keys.
	stamps []int
	// held are the lines read to infer the schema, in heldData, to be
	// parsed first; heldErr is the error that ended that read, due after
	// them.
	held     []heldLine
	heldData []byte
	heldErr  error
	// line is the number of the last line read; eof says the source is
	// exhausted.
	line int
	eof  bool
	long []byte // a line longer than the read buffer
	// row is the data row number of the next row to parse.
	row int
	err error
	// builders and appenders are the current batch's.
	builders  []array.Builder
	appenders []jsonAppender
}

type heldLine struct {
	start, end int
	line       int
}

type jsonlColumn struct {
	name     string
	key      []byte
	typ      arrow.DataType
	inferred bool
}

func newJSONLReader(r io.Reader, name string, cfg readConfig) (*jsonlReader, error) {
	jr := &jsonlReader{name: name, src: bufio.NewReaderSize(r, jsonlReadBuffer), rows: cfg.batchRows, index: map[string]int{}}
	if bom, err := jr.src.Peek(3); err == nil && string(bom) == "\ufeff" {
		if _, err := jr.src.Discard(3); err != nil {
			return nil, fmt.Errorf("frame: reading %s: %w", name, err)
		}
	}
	for len(jr.held) < inferRows {
		line, n, err := jr.readLine()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				jr.heldErr = err
			}
			break
		}
		start := len(jr.heldData)
		jr.heldData = append(jr.heldData, line...)
		jr.held = append(jr.held, heldLine{start: start, end: len(jr.heldData), line: n})
	}

	kinds := jr.inferKinds()
	for j := range jr.columns {
		c := &jr.columns[j]
		if t, ok := cfg.columnTypes[c.name]; ok {
			c.typ = t
			continue
		}
		c.inferred = true
		switch kinds[j] {
		case kindInt:
			c.typ = arrow.PrimitiveTypes.Int64
		case kindFloat:
			c.typ = arrow.PrimitiveTypes.Float64
		case kindBool:
			c.typ = arrow.FixedWidthTypes.Boolean
		default:
			c.typ = arrow.BinaryTypes.String
		}
	}
	// Columns set by type that the first lines lack come after the others,
	// in an order that does not depend on the map's.
	var extra []string
	for name := range cfg.columnTypes {
		if _, ok := jr.index[name]; !ok {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	for _, name := range extra {
		jr.addColumn([]byte(name))
		jr.columns[len(jr.columns)-1].typ = cfg.columnTypes[name]
	}
	fields := make([]arrow.Field, len(jr.columns))
	for j, c := range jr.columns {
		fields[j] = arrow.Field{Name: c.name, Type: c.typ, Nullable: true}
	}
	jr.schema = arrow.NewSchema(fields, nil)
	return jr, nil
}

func (r *jsonlReader) addColumn(key []byte) int {
	j := len(r.columns)
	name := string(key)
	r.columns = append(r.columns, jsonlColumn{name: name, key: []byte(name)})
	r.index[name] = j
	r.stamps = append(r.stamps, 0)
	return j
}

// inferKinds makes the columns of the held lines' keys and returns the
// kind of each one's values. A line that does not parse ends inference:
// Next reports its error when it gets there.
func (r *jsonlReader) inferKinds() []cellKind {
	var kinds []cellKind
	for i, h := range r.held {
		stamp := i + 1
		err := r.scan.object(r.heldData[h.start:h.end], func(key []byte, v jsonValue) error {
			j, ok := r.index[string(key)]
			if !ok {
				j = r.addColumn(key)
				kinds = append(kinds, kindMissing)
			}
			if r.stamps[j] == stamp {
				return errRepeatedKey
			}
			r.stamps[j] = stamp
			kinds[j] = joinKinds(kinds[j], v.cellKind())
			return nil
		})
		if err != nil {
			break
		}
	}
	clear(r.stamps)
	return kinds
}

var errRepeatedKey = errors.New("the key appears twice in the line")

// readLine returns the next line that is not blank, without its line
// break, and its number; it is valid until the next read.
func (r *jsonlReader) readLine() ([]byte, int, error) {
	for {
		if r.eof {
			return nil, r.line, io.EOF
		}
		line, err := r.src.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			r.long = append(r.long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.src.ReadSlice('\n')
				r.long = append(r.long, line...)
			}
			line = r.long
		}
		switch {
		case errors.Is(err, io.EOF):
			r.eof = true
			if len(line) == 0 {
				return nil, r.line, io.EOF
			}
		case err != nil:
			return nil, r.line, err
		}
		r.line++
		if !blank(line) {
			return line, r.line, nil
		}
	}
}

// blank says a line holds nothing but JSON whitespace.
func blank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}

// nextLine returns the next line to parse: a held one, then from the
// source.
func (r *jsonlReader) nextLine() ([]byte, int, error) {
	if len(r.held) > 0 {
		h := r.held[0]
		r.held = r.held[1:]
		line := r.heldData[h.start:h.end]
		if len(r.held) == 0 {
			r.held, r.heldData = nil, nil // the slice of it is used once more
		}
		return line, h.line, nil
	}
	if r.heldErr != nil {
		return nil, 0, r.heldErr
	}
	return r.readLine()
}

// Schema implements Reader.
func (r *jsonlReader) Schema() *arrow.Schema { return r.schema }

// Next implements Reader.
func (r *jsonlReader) Next() (*Frame, error) {
	if r.err != nil {
		return nil, r.err
	}
	// Room for a batch, or for what is left of a short input, saves
	// growing the builders row by row; a huge batch grows as it fills.
	rows := min(r.rows, DefaultBatchRows)
	if r.eof {
		rows = min(rows, len(r.held))
	}
	r.builders = make([]array.Builder, len(r.columns))
	r.appenders = make([]jsonAppender, len(r.columns))
	for j, c := range r.columns {
		r.builders[j] = array.NewBuilder(allocator, c.typ)
		r.builders[j].Reserve(rows)
		r.appenders[j] = newJSONAppender(r.builders[j], c.inferred)
	}
	n := 0
	for n < r.rows {
		line, lineNo, err := r.nextLine()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, r.fail(fmt.Errorf("row %d: %w", r.row, err))
		}
		if err := r.parseRow(line, lineNo); err != nil {
			return nil, r.fail(err)
		}
		r.row++
		n++
	}
	if n == 0 {
		r.err = io.EOF
		return nil, io.EOF
	}
	if len(r.columns) == 0 {
		return nil, r.fail(fmt.Errorf("row %d: the lines hold no keys, and a frame needs a column", r.row-n))
	}
	arrays := make([]arrow.Array, len(r.builders))
	for j, b := range r.builders {
		arrays[j] = b.NewArray()
	}
	r.builders, r.appenders = nil, nil
	f, err := FromArrays(r.schema, arrays)
	if err != nil {
		return nil, r.fail(err)
	}
	return f.WithRowOffset(r.row - n), nil
}

// parseRow appends the object on line to the batch's builders.
func (r *jsonlReader) parseRow(line []byte, lineNo int) error {
	stamp := r.row + 1
	next := 0 // the column expected next: lines usually repeat the order
	err := r.scan.object(line, func(key []byte, v jsonValue) error {
		j := -1
		if next < len(r.columns) && bytes.Equal(key, r.columns[next].key) {
			j = next
		} else if k, ok := r.index[string(key)]; ok {
			j = k
		}
		if j < 0 {
			return &ColumnError{Column: string(key), Row: r.row, Err: fmt.Errorf("line %d: the key is not a column; the columns are the keys of the first %d lines: declare it with WithColumnTypes (the CLI's --dtype %s=TYPE)", lineNo, inferRows, string(key))}
		}
		if r.stamps[j] == stamp {
			return &ColumnError{Column: r.columns[j].name, Row: r.row, Err: fmt.Errorf("line %d: %w", lineNo, errRepeatedKey)}
		}
		r.stamps[j] = stamp
		next = j + 1
		if err := r.appenders[j](v); err != nil {
			return &ColumnError{Column: r.columns[j].name, Row: r.row, Err: r.columns[j].valueError(lineNo, v, err)}
		}
		return nil
	})
	if err != nil {
		var colErr *ColumnError
		if errors.As(err, &colErr) {
			return err
		}
		return fmt.Errorf("row %d: line %d: %w", r.row, lineNo, err)
	}
	for j, s := range r.stamps {
		if s != stamp {
			r.builders[j].AppendNull()
		}
	}
	return nil
}

func (r *jsonlReader) fail(err error) error {
	r.err = fmt.Errorf("frame: reading %s: %w", r.name, err)
	return r.err
}

// Close implements Reader. It does not close the io.Reader.
func (r *jsonlReader) Close() error {
	r.err = fmt.Errorf("frame: reading %s: Next after Close", r.name)
	r.held, r.heldData, r.builders, r.appenders = nil, nil, nil, nil
	return nil
}

// errWrongKind is an appender's answer to a value its column's type does
// not take at all; valueError says why.
var errWrongKind = errors.New("wrong kind of value")

// valueError explains why column c cannot take v, and how to read it.
func (c *jsonlColumn) valueError(line int, v jsonValue, err error) error {
	var numErr *strconv.NumError
	if errors.As(err, &numErr) {
		// The NumError repeats the value, which this message already quotes.
		err = numErr.Err
	}
	cause := ""
	if !errors.Is(err, errWrongKind) {
		cause = ": " + err.Error()
	}
	if !c.inferred {
		hint := ""
		if (v.kind == jsonInt || v.kind == jsonFloat) && isTemporal(c.typ) {
			hint = `; JSON has no time type: write times as ISO-8601 strings (pandas: to_json(date_format="iso"))`
		}
		return fmt.Errorf("line %d: cannot read %s as %s, the column's type set by WithColumnTypes%s%s", line, v.describe(), c.typ, cause, hint)
	}
	fix := "string"
	if c.typ.ID() == arrow.INT64 && v.kind == jsonFloat {
		fix = "float64"
	}
	return fmt.Errorf("line %d: cannot read %s as %s, the column's type inferred from the first %d lines%s; a column's type cannot change midway through the file: set it to %s with WithColumnTypes (the CLI's --dtype %s=%s)",
		line, v.describe(), c.typ, inferRows, cause, fix, c.name, fix)
}

func isTemporal(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.TIMESTAMP, arrow.DATE32, arrow.DATE64, arrow.TIME32, arrow.TIME64, arrow.DURATION:
		return true
	}
	return false
}

// jsonAppender appends a value to a column's builder, or says why it
// cannot.
type jsonAppender func(v jsonValue) error

// newJSONAppender returns the appender of b's column. An inferred column
// takes the JSON values its type holds; one whose type WithColumnTypes set
// also takes strings, parsed as the builder parses text.
func newJSONAppender(b array.Builder, inferred bool) jsonAppender {
	switch b := b.(type) {
	case *array.Int64Builder:
		return func(v jsonValue) error {
			switch {
			case v.kind == jsonNull:
				b.AppendNull()
			case v.kind == jsonInt:
				n, ok := v.num.int()
				if !ok {
					// Beyond int64's range: strconv says so.
					_, err := strconv.ParseInt(string(v.text), 10, 64)
					return err
				}
				b.Append(n)
			case v.kind == jsonString && !inferred:
				n, err := strconv.ParseInt(string(v.text), 10, 64)
				if err != nil {
					return err
				}
				b.Append(n)
			default:
				return errWrongKind
			}
			return nil
		}
	case *array.Float64Builder:
		return func(v jsonValue) error {
			switch {
			case v.kind == jsonNull:
				b.AppendNull()
			case v.kind == jsonInt || v.kind == jsonFloat || v.kind == jsonString && !inferred:
				if x, ok := v.num.float(); ok && v.kind != jsonString {
					b.Append(x)
					return nil
				}
				x, err := strconv.ParseFloat(string(v.text), 64)
				if err != nil && !(v.kind != jsonString && errors.Is(err, strconv.ErrRange)) {
					return err
				}
				// A number beyond float64's range is ±Inf, as
				// JavaScript and pandas read it.
				b.Append(x)
			default:
				return errWrongKind
			}
			return nil
		}
	case *array.BooleanBuilder:
		return func(v jsonValue) error {
			switch {
			case v.kind == jsonNull:
				b.AppendNull()
			case v.kind == jsonBool:
				b.Append(v.text[0] == 't')
			case v.kind == jsonString && !inferred:
				x, err := strconv.ParseBool(string(v.text))
				if err != nil {
					return err
				}
				b.Append(x)
			default:
				return errWrongKind
			}
			return nil
		}
	case *array.TimestampBuilder:
		appendTime := timestampAppender(b)
		return func(v jsonValue) error {
			switch v.kind {
			case jsonNull:
				b.AppendNull()
			case jsonString:
				return appendTime(string(v.text))
			default:
				return errWrongKind
			}
			return nil
		}
	case *array.StringBuilder:
		return func(v jsonValue) error {
			if v.kind == jsonNull {
				b.AppendNull()
			} else {
				// Strings their text; other values as they are written.
				b.BinaryBuilder.Append(v.text)
			}
			return nil
		}
	}
	nested := false
	switch b.Type().ID() {
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.LIST_VIEW, arrow.LARGE_LIST_VIEW, arrow.STRUCT, arrow.MAP,
		arrow.LARGE_STRING, arrow.STRING_VIEW:
		nested = true
	}
	temporal := isTemporal(b.Type())
	return func(v jsonValue) (err error) {
		switch {
		case v.kind == jsonNull:
			b.AppendNull()
			return nil
		case v.kind == jsonNested && !nested, (v.kind == jsonInt || v.kind == jsonFloat) && temporal:
			return errWrongKind
		}
		// Builders parse text of any shape: a panic is a value they cannot.
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%v", p)
			}
		}()
		return b.AppendValueFromString(string(v.text))
	}
}

// NewJSONLWriter returns a Writer of JSON Lines to w: one object per row,
// its keys the columns in order, every key on every line. Missing values
// are null, and so are NaN and ±Inf, which JSON cannot hold. Integers are
// exact; floats are written in the shortest form that reads back to the
// same value at the column's width (a float32 as a float32), with ".0" on
// integral ones so that readers keep them floats; decimals are numbers.
// Timestamps are ISO-8601 strings with the fraction digits of their unit:
// "2024-05-01 12:30:00.500" without a time zone, and
// "2024-05-01T14:30:00.500+02:00" with one ("Z" for UTC); dates are
// "2024-05-01", and a dictionary's values are written as they are. Strings are
// escaped as JSON needs, with bytes that are not UTF-8 as U+FFFD; other
// types are written as encoding/json writes the values Arrow gives it
// (lists as arrays, structs as objects, binary as base64). An output
// without rows is empty: JSON Lines has no header to keep the columns in.
func NewJSONLWriter(w io.Writer, opts ...WriteOption) (Writer, error) {
	cfg, err := newWriteConfig(JSONL, opts)
	if err != nil {
		return nil, err
	}
	return newTableWriter("JSON Lines output", &jsonlEncoder{w: bufio.NewWriter(w)}, cfg), nil
}

type jsonlEncoder struct {
	w *bufio.Writer
	// keys[j] is what comes before column j's value: `{"name":` for the
	// first, `,"name":` for the others.
	keys [][]byte
	line []byte
}

func (e *jsonlEncoder) begin(schema *arrow.Schema) error {
	e.keys = make([][]byte, schema.NumFields())
	for j, f := range schema.Fields() {
		sep := byte(',')
		if j == 0 {
			sep = '{'
		}
		key := appendJSONString([]byte{sep}, f.Name)
		e.keys[j] = append(key, ':')
	}
	return nil
}

func (e *jsonlEncoder) write(rec arrow.RecordBatch) error {
	cols := rec.Columns()
	formats := make([]jsonFormatter, len(cols))
	for j, c := range cols {
		formats[j] = newJSONFormatter(c)
	}
	for i := range int(rec.NumRows()) {
		line := e.line[:0]
		if len(cols) == 0 {
			line = append(line, '{')
		}
		for j, c := range cols {
			line = append(line, e.keys[j]...)
			if c.IsNull(i) {
				line = append(line, "null"...)
				continue
			}
			var err error
			if line, err = formats[j](line, i); err != nil {
				return &ColumnError{Column: rec.ColumnName(j), Row: noRow, Err: err}
			}
		}
		e.line = append(line, '}', '\n')
		if _, err := e.w.Write(e.line); err != nil {
			return err
		}
	}
	return nil
}

func (e *jsonlEncoder) end() error { return e.w.Flush() }

// jsonFormatter appends the JSON of a column's present value i.
type jsonFormatter func(dst []byte, i int) ([]byte, error)

func newJSONFormatter(a arrow.Array) jsonFormatter {
	switch c := a.(type) {
	case *array.Float64:
		return func(dst []byte, i int) ([]byte, error) { return appendJSONFloat(dst, c.Value(i), 64), nil }
	case *array.Float32:
		return func(dst []byte, i int) ([]byte, error) { return appendJSONFloat(dst, float64(c.Value(i)), 32), nil }
	case *array.Int64:
		return intFormatter(c.Int64Values())
	case *array.Int32:
		return intFormatter(c.Int32Values())
	case *array.Int16:
		return intFormatter(c.Int16Values())
	case *array.Int8:
		return intFormatter(c.Int8Values())
	case *array.Uint64:
		return uintFormatter(c.Uint64Values())
	case *array.Uint32:
		return uintFormatter(c.Uint32Values())
	case *array.Uint16:
		return uintFormatter(c.Uint16Values())
	case *array.Uint8:
		return uintFormatter(c.Uint8Values())
	case *array.Boolean:
		return func(dst []byte, i int) ([]byte, error) { return strconv.AppendBool(dst, c.Value(i)), nil }
	case *array.String:
		return func(dst []byte, i int) ([]byte, error) { return appendJSONString(dst, c.Value(i)), nil }
	case *array.LargeString:
		return func(dst []byte, i int) ([]byte, error) { return appendJSONString(dst, c.Value(i)), nil }
	case *array.StringView:
		return func(dst []byte, i int) ([]byte, error) { return appendJSONString(dst, c.Value(i)), nil }
	case *array.Timestamp:
		return timestampFormatter(c)
	case *array.Date32:
		return func(dst []byte, i int) ([]byte, error) {
			return appendQuoted(dst, func(dst []byte) []byte { return c.Value(i).ToTime().AppendFormat(dst, time.DateOnly) }), nil
		}
	case *array.Date64:
		return func(dst []byte, i int) ([]byte, error) {
			return appendQuoted(dst, func(dst []byte) []byte { return c.Value(i).ToTime().AppendFormat(dst, time.DateOnly) }), nil
		}
	case *array.Decimal32, *array.Decimal64, *array.Decimal128, *array.Decimal256:
		// Their text is a JSON number: digits, a sign, a point, an exponent.
		return func(dst []byte, i int) ([]byte, error) { return append(dst, a.ValueStr(i)...), nil }
	case *array.Dictionary:
		values := newJSONFormatter(c.Dictionary())
		dict := c.Dictionary()
		return func(dst []byte, i int) ([]byte, error) {
			k := c.GetValueIndex(i)
			if dict.IsNull(k) {
				return append(dst, "null"...), nil
			}
			return values(dst, k)
		}
	}
	return func(dst []byte, i int) ([]byte, error) {
		b, err := json.Marshal(a.GetOneForMarshal(i))
		if err != nil {
			return dst, fmt.Errorf("row %d: %w", i, err)
		}
		return append(dst, b...), nil
	}
}

func intFormatter[T int8 | int16 | int32 | int64](values []T) jsonFormatter {
	return func(dst []byte, i int) ([]byte, error) { return strconv.AppendInt(dst, int64(values[i]), 10), nil }
}

func uintFormatter[T uint8 | uint16 | uint32 | uint64](values []T) jsonFormatter {
	return func(dst []byte, i int) ([]byte, error) { return strconv.AppendUint(dst, uint64(values[i]), 10), nil }
}

// appendJSONFloat writes v as appendFloat does, and NaN and ±Inf, which
// JSON lacks, as null.
func appendJSONFloat(dst []byte, v float64, bits int) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "null"...)
	}
	return appendFloat(dst, v, bits)
}

// timestampFormatter writes ISO-8601 strings with as many fraction digits
// as the column's unit has, on every row, so that each column has one
// shape, which is what DuckDB's read_json_auto needs to type it: a zoned
// column in its zone with the offset, "2024-05-01T14:30:00.500+02:00" ("Z"
// for UTC; UTC too when the zone is unknown here), and one without a zone
// as SQL and pandas print such times, with a space:
// "2024-05-01 12:30:00.500". pandas and Python's fromisoformat read both.
func timestampFormatter(c *array.Timestamp) jsonFormatter {
	typ := c.DataType().(*arrow.TimestampType)
	fraction := map[arrow.TimeUnit]string{arrow.Second: "", arrow.Millisecond: ".000", arrow.Microsecond: ".000000", arrow.Nanosecond: ".000000000"}[typ.Unit]
	layout := "2006-01-02 15:04:05" + fraction
	var loc *time.Location
	if typ.TimeZone != "" {
		layout = "2006-01-02T15:04:05" + fraction + "Z07:00"
		loc = time.UTC
		if l, err := typ.GetZone(); err == nil && l != nil {
			loc = l
		}
	}
	toTime, err := typ.GetToTimeFunc()
	if err != nil {
		toTime = func(t arrow.Timestamp) time.Time { return t.ToTime(typ.Unit) }
	}
	return func(dst []byte, i int) ([]byte, error) {
		t := toTime(c.Value(i))
		if loc != nil {
			t = t.In(loc)
		}
		return appendQuoted(dst, func(dst []byte) []byte { return t.AppendFormat(dst, layout) }), nil
	}
}

// appendQuoted appends what text appends, which needs no escaping, in
// double quotes.
func appendQuoted(dst []byte, text func([]byte) []byte) []byte {
	return append(text(append(dst, '"')), '"')
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, bytes that are not UTF-8 as U+FFFD, other
// text as it is.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"
