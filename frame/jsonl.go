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
	"strings"
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
	// Room for a whole batch, or for what is left of a short input, saves
	// growing the builders row by row.
	rows := r.rows
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
		// A time with an offset is that instant; one without is a time in
		// the column's zone, UTC if it has none, as DuckDB casts text. The
		// builder's own parsing refuses a time without an offset in a
		// zoned column, the CLI's --dtype timestamp among them, and so
		// pandas' ISO times.
		typ := b.Type().(*arrow.TimestampType)
		loc, err := typ.GetZone()
		if err != nil || loc == nil {
			loc = time.UTC
		}
		return func(v jsonValue) error {
			switch v.kind {
			case jsonNull:
				b.AppendNull()
			case jsonString:
				ts, _, err := arrow.TimestampFromStringInLocation(string(v.text), typ.Unit, loc)
				if err != nil {
					return err
				}
				b.Append(ts)
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

// jsonKind is the kind of a JSON value.
type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonInt   // a number without fraction or exponent
	jsonFloat // any other number, NaN, Infinity or -Infinity
	jsonString
	jsonNested // an object or an array
)

// jsonValue is a value of a line: a string's text, unescaped, or any other
// value as it is written.
type jsonValue struct {
	kind jsonKind
	text []byte
	num  jsonNumber // of jsonInt and jsonFloat values but NaN and Infinity
}

func (v jsonValue) cellKind() cellKind {
	switch v.kind {
	case jsonNull:
		return kindMissing
	case jsonBool:
		return kindBool
	case jsonInt:
		if _, ok := v.num.int(); !ok {
			return kindFloat
		}
		return kindInt
	case jsonFloat:
		return kindFloat
	}
	return kindString
}

// describe names the value for an error message.
func (v jsonValue) describe() string {
	text := string(v.text)
	if len(text) > 40 {
		text = strings.ToValidUTF8(text[:37], "") + "..."
	}
	switch v.kind {
	case jsonString:
		return "the string " + strconv.Quote(text)
	case jsonNested:
		if v.text[0] == '[' {
			return "the array " + text
		}
		return "the object " + text
	case jsonBool:
		return text
	}
	return "the number " + text
}

// maxJSONDepth bounds the nesting of a value, so that a line of a million
// brackets is an error, not a deep recursion.
const maxJSONDepth = 1000

// jsonScanner parses one line at a time. It checks JSON's grammar as
// strictly as encoding/json does, but takes NaN, Infinity and -Infinity
// for numbers, as Python's json module writes them, and refuses strings
// that are not valid UTF-8.
type jsonScanner struct {
	b   []byte
	pos int
	// key and str hold the unescaped text of a key and of a string value.
	key, str []byte
	// num is the last number's value.
	num jsonNumber
}

type jsonSyntaxError struct {
	pos int
	msg string
}

func (e *jsonSyntaxError) Error() string {
	return fmt.Sprintf("not a JSON object: byte %d: %s", e.pos+1, e.msg)
}

func (s *jsonScanner) errorf(format string, args ...any) error {
	return &jsonSyntaxError{pos: s.pos, msg: fmt.Sprintf(format, args...)}
}

// object parses line, which must hold one JSON object and nothing else,
// calling field with each key and value in turn; both are valid until
// field returns.
func (s *jsonScanner) object(line []byte, field func(key []byte, v jsonValue) error) error {
	s.b, s.pos = line, 0
	s.space()
	if s.pos == len(s.b) || s.b[s.pos] != '{' {
		switch {
		case s.pos < len(s.b) && s.b[s.pos] == '[':
			return s.errorf("an array; JSON Lines holds one object per line (pandas: to_json(orient=\"records\", lines=True))")
		case bytes.HasSuffix(bytes.TrimRight(line, " \t\r\n"), []byte("{")):
			return s.errorf("an object spread over lines; JSON Lines holds one object per line")
		}
		return s.errorf("want '{': each line holds one JSON object")
	}
	s.pos++
	s.space()
	if s.pos < len(s.b) && s.b[s.pos] == '}' {
		s.pos++
	} else {
		for {
			if s.pos == len(s.b) || s.b[s.pos] != '"' {
				if s.pos == len(s.b) {
					return s.errorf("the line ends inside the object; JSON Lines holds one object per line")
				}
				return s.errorf("want a key in double quotes")
			}
			key, err := s.string(&s.key)
			if err != nil {
				return err
			}
			s.space()
			if s.pos == len(s.b) || s.b[s.pos] != ':' {
				return s.errorf("want ':' after the key %q", key)
			}
			s.pos++
			s.space()
			v, err := s.value(0)
			if err != nil {
				return err
			}
			if err := field(key, v); err != nil {
				return err
			}
			s.space()
			if s.pos < len(s.b) && s.b[s.pos] == ',' {
				s.pos++
				s.space()
				continue
			}
			if s.pos < len(s.b) && s.b[s.pos] == '}' {
				s.pos++
				break
			}
			if s.pos == len(s.b) {
				return s.errorf("the line ends inside the object; JSON Lines holds one object per line")
			}
			return s.errorf("want ',' or '}' after the value of %q", key)
		}
	}
	s.space()
	if s.pos != len(s.b) {
		return s.errorf("text after the object; JSON Lines holds one object per line")
	}
	return nil
}

func (s *jsonScanner) space() {
	for s.pos < len(s.b) {
		switch s.b[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// value parses the value at s.pos.
func (s *jsonScanner) value(depth int) (jsonValue, error) {
	if s.pos == len(s.b) {
		return jsonValue{}, s.errorf("want a value")
	}
	start := s.pos
	switch c := s.b[s.pos]; {
	case c == '"':
		str, err := s.string(&s.str)
		return jsonValue{kind: jsonString, text: str}, err
	case c == '-' || c >= '0' && c <= '9':
		kind, err := s.number()
		return jsonValue{kind: kind, text: s.b[start:s.pos], num: s.num}, err
	case c == '{' || c == '[':
		if err := s.skipNested(depth); err != nil {
			return jsonValue{}, err
		}
		return jsonValue{kind: jsonNested, text: s.b[start:s.pos]}, nil
	case c == 't':
		return s.literal("true", jsonBool)
	case c == 'f':
		return s.literal("false", jsonBool)
	case c == 'n':
		return s.literal("null", jsonNull)
	case c == 'N':
		v, err := s.literal("NaN", jsonFloat)
		v.num.big = true // for ParseFloat to read
		return v, err
	case c == 'I':
		v, err := s.literal("Infinity", jsonFloat)
		v.num.big = true
		return v, err
	}
	return jsonValue{}, s.errorf("want a value, found %q", rune(s.b[s.pos]))
}

// literal parses word, a value of kind.
func (s *jsonScanner) literal(word string, kind jsonKind) (jsonValue, error) {
	if !bytes.HasPrefix(s.b[s.pos:], []byte(word)) {
		return jsonValue{}, s.errorf("want a value, found %q", rest(s.b[s.pos:]))
	}
	s.pos += len(word)
	return jsonValue{kind: kind, text: s.b[s.pos-len(word) : s.pos]}, nil
}

// rest is the start of b, for an error message.
func rest(b []byte) string {
	if len(b) > 10 {
		b = b[:10]
	}
	return strings.ToValidUTF8(string(b), "")
}

// number parses a number: JSON's -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?,
// or -Infinity. On the way it gathers the number's digits into
// s.num, for the appenders to skip parsing its text again.
func (s *jsonScanner) number() (jsonKind, error) {
	b := s.b
	s.num = jsonNumber{}
	n := &s.num
	if b[s.pos] == '-' {
		n.neg = true
		s.pos++
		if s.pos < len(b) && b[s.pos] == 'I' {
			_, err := s.literal("Infinity", jsonFloat)
			n.big = true
			return jsonFloat, err
		}
	}
	switch {
	case s.pos == len(b) || b[s.pos] < '0' || b[s.pos] > '9':
		return 0, s.errorf("want a digit in a number")
	case b[s.pos] == '0':
		s.pos++
	default:
		s.digits(false)
	}
	kind := jsonInt
	if s.pos < len(b) && b[s.pos] == '.' {
		s.pos++
		if s.digits(true) == 0 {
			return 0, s.errorf("want a digit after a number's '.'")
		}
		kind = jsonFloat
	}
	if s.pos < len(b) && (b[s.pos] == 'e' || b[s.pos] == 'E') {
		s.pos++
		neg := false
		if s.pos < len(b) && (b[s.pos] == '+' || b[s.pos] == '-') {
			neg = b[s.pos] == '-'
			s.pos++
		}
		start, exp := s.pos, 0
		for s.pos < len(b) && b[s.pos] >= '0' && b[s.pos] <= '9' {
			exp = min(exp*10+int(b[s.pos]-'0'), 1<<20)
			s.pos++
		}
		if s.pos == start {
			return 0, s.errorf("want a digit in a number's exponent")
		}
		if neg {
			exp = -exp
		}
		n.exp += exp
		kind = jsonFloat
	}
	return kind, nil
}

// digits scans digits into s.num's mantissa, those of a fraction
// lowering its exponent; it returns how many there were.
func (s *jsonScanner) digits(fraction bool) int {
	start, n := s.pos, &s.num
	for s.pos < len(s.b) && s.b[s.pos] >= '0' && s.b[s.pos] <= '9' {
		if n.mant > (math.MaxUint64-9)/10 {
			n.big = true
		} else {
			n.mant = n.mant*10 + uint64(s.b[s.pos]-'0')
			if fraction {
				n.exp--
			}
		}
		s.pos++
	}
	return s.pos - start
}

// jsonNumber is a number's value as mant × 10^exp, negative if neg, unless
// big says its digits overflowed mant.
type jsonNumber struct {
	mant uint64
	exp  int
	neg  bool
	big  bool
}

// pow10 are the powers of ten that float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// float returns the number as a float64 if one multiplication or division
// of exact values makes it, correctly rounded (Clinger's fast path, which
// most numbers written with up to 15 digits take).
func (n jsonNumber) float() (float64, bool) {
	if n.big || n.mant > 1<<53 || n.exp < -22 || n.exp > 22 {
		return 0, false
	}
	f := float64(n.mant)
	if n.exp < 0 {
		f /= pow10[-n.exp]
	} else {
		f *= pow10[n.exp]
	}
	if n.neg {
		f = -f
	}
	return f, true
}

// int returns an integer's value if it fits an int64.
func (n jsonNumber) int() (int64, bool) {
	switch {
	case n.big || n.exp != 0:
		return 0, false
	case n.mant <= math.MaxInt64 && n.neg:
		return -int64(n.mant), true
	case n.mant <= math.MaxInt64:
		return int64(n.mant), true
	case n.neg && n.mant == 1<<63:
		return math.MinInt64, true
	}
	return 0, false
}

// string parses the string at s.pos and returns its text: a slice of the
// line, or, when it has escapes, of *buf.
func (s *jsonScanner) string(buf *[]byte) ([]byte, error) {
	s.pos++ // the opening quote
	start, ascii := s.pos, true
	for s.pos < len(s.b) {
		c := s.b[s.pos]
		switch {
		case c == '"':
			text := s.b[start:s.pos]
			s.pos++
			if !ascii && !utf8.Valid(text) {
				return nil, s.errorf("a string that is not valid UTF-8")
			}
			return text, nil
		case c == '\\':
			return s.unescape(buf, start)
		case c < 0x20:
			return nil, s.errorf("a control character in a string: JSON writes it escaped")
		case c >= 0x80:
			ascii = false
		}
		s.pos++
	}
	return nil, s.errorf("the line ends inside a string")
}

// unescape parses the rest of a string that has escapes, from start, its
// first byte, into *buf.
func (s *jsonScanner) unescape(buf *[]byte, start int) ([]byte, error) {
	out := append((*buf)[:0], s.b[start:s.pos]...)
	defer func() { *buf = out[:0] }()
	for s.pos < len(s.b) {
		c := s.b[s.pos]
		switch {
		case c == '"':
			s.pos++
			if !utf8.Valid(out) {
				return nil, s.errorf("a string that is not valid UTF-8")
			}
			return out, nil
		case c < 0x20:
			return nil, s.errorf("a control character in a string: JSON writes it escaped")
		case c != '\\':
			out = append(out, c)
			s.pos++
			continue
		}
		if s.pos+1 == len(s.b) {
			break
		}
		s.pos++
		switch e := s.b[s.pos]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4(s.pos + 1)
			if !ok {
				return nil, s.errorf(`want 4 hex digits after \u`)
			}
			s.pos += 4
			if utf16IsSurrogate(r) {
				// A pair makes one rune; a lone surrogate is U+FFFD, as
				// encoding/json reads it.
				r2, ok := rune(0), false
				if s.pos+2 < len(s.b) && s.b[s.pos+1] == '\\' && s.b[s.pos+2] == 'u' {
					r2, ok = s.hex4(s.pos + 3)
				}
				if ok && r < 0xdc00 && r2 >= 0xdc00 && r2 < 0xe000 {
					r = (r-0xd800)<<10 + (r2 - 0xdc00) + 0x10000
					s.pos += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, s.errorf(`an unknown escape \%s in a string`, rest(s.b[s.pos:s.pos+1]))
		}
		s.pos++
	}
	return nil, s.errorf("the line ends inside a string")
}

func utf16IsSurrogate(r rune) bool { return r >= 0xd800 && r < 0xe000 }

// hex4 reads 4 hex digits at i.
func (s *jsonScanner) hex4(i int) (rune, bool) {
	if i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skipNested parses the object or array at s.pos, checking its grammar.
func (s *jsonScanner) skipNested(depth int) error {
	if depth >= maxJSONDepth {
		return s.errorf("values nested deeper than %d levels", maxJSONDepth)
	}
	open := s.b[s.pos]
	closing := byte('}')
	if open == '[' {
		closing = ']'
	}
	s.pos++
	s.space()
	if s.pos < len(s.b) && s.b[s.pos] == closing {
		s.pos++
		return nil
	}
	for {
		if open == '{' {
			if s.pos == len(s.b) || s.b[s.pos] != '"' {
				return s.errorf("want a key in double quotes")
			}
			if _, err := s.string(&s.str); err != nil {
				return err
			}
			s.space()
			if s.pos == len(s.b) || s.b[s.pos] != ':' {
				return s.errorf("want ':' after a key")
			}
			s.pos++
			s.space()
		}
		if _, err := s.value(depth + 1); err != nil {
			return err
		}
		s.space()
		if s.pos == len(s.b) {
			return s.errorf("the line ends inside a nested value")
		}
		switch s.b[s.pos] {
		case ',':
			s.pos++
			s.space()
		case closing:
			s.pos++
			return nil
		default:
			return s.errorf("want ',' or %q in a nested value", closing)
		}
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
