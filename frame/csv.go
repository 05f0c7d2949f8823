package frame

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// inferRows is how many leading rows decide an inferred column's type:
// enough to see past missing values and integers at the top of a column of
// decimals, few enough that holding them while the schema is unknown costs
// little. arrow-go's inferring reader looks at the first row only, so a
// single missing value there makes a numeric column a string column.
const inferRows = 10_000

// naSet is a set of CSV cells read as missing values, in columns of every
// type, strings included. Most cells are not in it, and are told so by
// their length or first byte before any lookup.
type naSet struct {
	cells  map[string]bool
	maxLen int
	first  [256]bool
	empty  bool
}

func newNASet(values []string) *naSet {
	s := &naSet{cells: make(map[string]bool, len(values))}
	for _, v := range values {
		s.cells[v] = true
		s.maxLen = max(s.maxLen, len(v))
		if v == "" {
			s.empty = true
		} else {
			s.first[v[0]] = true
		}
	}
	return s
}

// has reports whether cell is missing.
func (s *naSet) has(cell string) bool {
	switch {
	case cell == "":
		return s.empty
	case len(cell) > s.maxLen || !s.first[cell[0]]:
		return false
	}
	return s.cells[cell]
}

// NewCSVReader reads delimited text with a header row from r, a batch of
// rows at a time. The delimiter is sniffed from the first lines (a comma,
// semicolon, tab or pipe found as often on each line, outside quotes; a
// comma when none is), or set by WithDelimiter. Header names are trimmed
// of spaces, so "id, f1" names f1.
//
// Column types are inferred from the first 10,000 rows, ignoring missing
// cells: int64 if every cell is a base-10 integer that fits, else float64 if
// every cell is a number (strconv.ParseFloat's syntax, "Inf" and "nan"
// included), bool if every cell is true, false, t or f in any case, and
// string otherwise or when every cell is missing. Numbers may group their
// digits and mark their fraction as WithThousands and WithDecimal say
// ("1,234.5", or "1.234,5" for a European export). A number written with
// leading zeros ("0042", an id or a postal code) makes its column string,
// as DuckDB's sniffer does, so that it keeps its zeros. WithColumnTypes overrides
// this for the columns it names. A later cell that does not parse as its
// column's type is an error naming the column, the row (numbered as
// RowOffset numbers it) and the line. The cells of DefaultNAValues (pandas'
// spellings: "", "NA", "NaN", "nan", "null", "None", "#N/A", ...) are
// missing values in every column, or those WithNAValues lists. A UTF-8 byte
// order mark before the header is
// skipped. NewCSVReader reads the header and the rows it infers types from
// before it returns; it holds those rows until Next yields them.
func NewCSVReader(r io.Reader, opts ...ReadOption) (Reader, error) {
	cfg, err := newReadConfig(CSV, opts)
	if err != nil {
		return nil, err
	}
	return newCSVReader(r, "CSV input", cfg)
}

type csvReader struct {
	name    string
	na      *naSet
	numbers numberSyntax
	src     *csv.Reader
	schema  *arrow.Schema
	columns []csvColumn
	rows    int
	// held are the rows read to infer the schema, to be yielded first, and
	// heldErr is the error that ended that read early, due after them.
	held    []csvRow
	heldErr error
	// row is the data row number of the next row to parse.
	row int
	err error
}

type csvRow struct {
	cells []string
	line  int
}

type csvColumn struct {
	name     string
	typ      arrow.DataType
	inferred bool
}

func newCSVReader(r io.Reader, name string, cfg readConfig) (*csvReader, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\ufeff" {
		if _, err := br.Discard(3); err != nil {
			return nil, fmt.Errorf("frame: reading %s: %w", name, err)
		}
	}
	src := csv.NewReader(br)
	src.ReuseRecord = true
	src.Comma = cfg.delimiter
	if src.Comma == 0 {
		src.Comma = sniffDelimiter(br)
	}
	header, err := src.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("frame: reading %s: the input is empty; a CSV input needs a header row", name)
	}
	if err != nil {
		return nil, fmt.Errorf("frame: reading %s: header: %w", name, err)
	}
	na := cfg.naValues
	if na == nil {
		na = defaultNAValues
	}
	cr := &csvReader{name: name, na: newNASet(na), numbers: numberSyntax{cfg.thousands, cfg.decimal}, src: src, rows: cfg.batchRows, columns: make([]csvColumn, len(header))}
	seen := make(map[string]bool, len(header))
	for j, h := range header {
		// "id, f1" names f1, as pandas' skipinitialspace and DuckDB read it.
		h = strings.TrimSpace(h)
		if seen[h] {
			return nil, fmt.Errorf("frame: reading %s: the header names column %q twice", name, h)
		}
		seen[h] = true
		cr.columns[j] = csvColumn{name: h}
	}
	for col := range cfg.columnTypes {
		if !seen[col] {
			return nil, fmt.Errorf("frame: reading %s: WithColumnTypes names column %q, which the header lacks", name, col)
		}
	}

	for len(cr.held) < inferRows {
		cells, err := src.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			cr.heldErr = err
			break
		}
		line, _ := src.FieldPos(0)
		cr.held = append(cr.held, csvRow{cells: slices.Clone(cells), line: line})
	}

	fields := make([]arrow.Field, len(cr.columns))
	for j := range cr.columns {
		c := &cr.columns[j]
		if t, ok := cfg.columnTypes[c.name]; ok {
			c.typ = t
		} else {
			c.typ = cr.inferType(j)
			c.inferred = true
		}
		fields[j] = arrow.Field{Name: c.name, Type: c.typ, Nullable: true}
	}
	cr.schema = arrow.NewSchema(fields, nil)
	return cr, nil
}

// delimiters are the separators sniffDelimiter chooses from, the first
// winning ties.
var delimiters = []rune{',', ';', '\t', '|'}

// sniffDelimiter picks the separator of the lines at the start of br (up
// to 64 KiB, without consuming them) as DuckDB's and Python's sniffers
// do: the candidate found the same number of times, outside quotes, on
// every complete line, the most often; a comma when none is.
func sniffDelimiter(br *bufio.Reader) rune {
	sample, _ := br.Peek(64 << 10)
	lines := bytes.Split(sample, []byte("\n"))
	if len(lines) > 1 && len(sample) == 64<<10 {
		lines = lines[:len(lines)-1] // cut short by the sample's end
	}
	best, bestCount := ',', 0
	for _, d := range delimiters {
		count := -1
		for _, line := range lines[:min(len(lines), 20)] {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			n := countOutsideQuotes(line, byte(d))
			if count >= 0 && n != count {
				count = 0
				break
			}
			count = n
		}
		if count > bestCount {
			best, bestCount = d, count
		}
	}
	return best
}

// countOutsideQuotes counts d in line outside double-quoted fields.
func countOutsideQuotes(line []byte, d byte) int {
	n, quoted := 0, false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case c == d && !quoted:
			n++
		}
	}
	return n
}

// cellKind orders the inferred types so that joining two is their maximum,
// except that bool joins only with bool.
type cellKind int

const (
	kindMissing cellKind = iota
	kindInt
	kindFloat
	kindBool
	kindString
)

func (s numberSyntax) kindOf(cell string) cellKind {
	if number, ok := s.plain(cell); ok && !zeroPadded(number) {
		if _, err := strconv.ParseInt(number, 10, 64); err == nil {
			return kindInt
		}
		if _, err := strconv.ParseFloat(number, 64); err == nil {
			return kindFloat
		}
	}
	if _, err := strconv.ParseBool(cell); err == nil {
		return kindBool
	}
	return kindString
}

// numberSyntax is how an input writes numbers beyond Go's syntax: digits
// grouped by a thousands separator, a decimal separator other than '.'.
type numberSyntax struct {
	thousands, decimal rune
}

// plain rewrites cell in Go's syntax, without thousands separators and
// with a '.' before the fraction, or says it is not a number written in s.
// A thousands separator counts only between two digits of the integer
// part, and with a decimal separator other than '.', a '.' is no number's.
// Cells without either separator are returned as they are.
func (s numberSyntax) plain(cell string) (string, bool) {
	if s == (numberSyntax{}) {
		return cell, true
	}
	decimal := cmp.Or(s.decimal, '.')
	if !strings.ContainsRune(cell, s.thousands) && !strings.ContainsRune(cell, decimal) && !strings.ContainsRune(cell, '.') {
		return cell, true
	}
	digit := func(i int) bool { return i >= 0 && i < len(cell) && cell[i] >= '0' && cell[i] <= '9' }
	b := make([]byte, 0, len(cell))
	integer := true
	for i, r := range cell {
		switch {
		case r == s.thousands:
			if !integer || !digit(i-1) || !digit(i+utf8.RuneLen(r)) {
				return "", false
			}
			continue
		case r == decimal:
			integer = false
			r = '.'
		case r == '.':
			return "", false
		case r == 'e' || r == 'E':
			integer = false
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b), true
}

// zeroPadded says cell is an integer part written with leading zeros
// ("0042", "-007", "00.5"): a code or an id, which DuckDB's sniffer keeps
// as text too, since a number would lose its zeros.
func zeroPadded(cell string) bool {
	digits := strings.TrimLeft(cell, "+-")
	return len(digits) > 1 && digits[0] == '0' && digits[1] >= '0' && digits[1] <= '9'
}

func joinKinds(a, b cellKind) cellKind {
	switch {
	case a == kindMissing || a == b:
		return b
	case b == kindMissing:
		return a
	case a == kindBool || b == kindBool:
		return kindString
	}
	return max(a, b)
}

func (r *csvReader) inferType(j int) arrow.DataType {
	kind := kindMissing
	for _, row := range r.held {
		if cell := row.cells[j]; !r.na.has(cell) {
			if kind = joinKinds(kind, r.numbers.kindOf(cell)); kind == kindString {
				break
			}
		}
	}
	switch kind {
	case kindInt:
		return arrow.PrimitiveTypes.Int64
	case kindFloat:
		return arrow.PrimitiveTypes.Float64
	case kindBool:
		return arrow.FixedWidthTypes.Boolean
	}
	return arrow.BinaryTypes.String
}

// Schema implements Reader.
func (r *csvReader) Schema() *arrow.Schema { return r.schema }

// Next implements Reader.
func (r *csvReader) Next() (*Frame, error) {
	if r.err != nil {
		return nil, r.err
	}
	builders := make([]array.Builder, len(r.columns))
	appenders := make([]func(string) error, len(r.columns))
	for j, c := range r.columns {
		builders[j] = array.NewBuilder(allocator, c.typ)
		appenders[j] = r.numbers.cellAppender(builders[j])
	}
	n := 0
	for n < r.rows {
		row, err := r.nextRow()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, r.fail(fmt.Errorf("row %d: %w", r.row, err))
		}
		for j, cell := range row.cells {
			if r.na.has(cell) {
				builders[j].AppendNull()
			} else if err := appenders[j](cell); err != nil {
				return nil, r.fail(&ColumnError{Column: r.columns[j].name, Row: r.row, Err: r.columns[j].parseError(row.line, cell, err)})
			}
		}
		r.row++
		n++
	}
	if n == 0 {
		r.err = io.EOF
		return nil, io.EOF
	}
	arrays := make([]arrow.Array, len(builders))
	for j, b := range builders {
		arrays[j] = b.NewArray()
	}
	f, err := FromArrays(r.schema, arrays)
	if err != nil {
		return nil, r.fail(err)
	}
	return f.WithRowOffset(r.row - n), nil
}

func (r *csvReader) nextRow() (csvRow, error) {
	if len(r.held) > 0 {
		row := r.held[0]
		r.held[0] = csvRow{} // so that the rows yielded can be collected
		r.held = r.held[1:]
		if len(r.held) == 0 {
			r.held = nil
		}
		return row, nil
	}
	if r.heldErr != nil {
		return csvRow{}, r.heldErr
	}
	cells, err := r.src.Read()
	if err != nil {
		return csvRow{}, err
	}
	line, _ := r.src.FieldPos(0)
	return csvRow{cells: cells, line: line}, nil
}

func (r *csvReader) fail(err error) error {
	r.err = fmt.Errorf("frame: reading %s: %w", r.name, err)
	return r.err
}

// Close implements Reader. It does not close the io.Reader.
func (r *csvReader) Close() error {
	r.err = fmt.Errorf("frame: reading %s: Next after Close", r.name)
	r.held = nil
	return nil
}

func (c *csvColumn) parseError(line int, cell string, err error) error {
	var numErr *strconv.NumError
	if errors.As(err, &numErr) {
		// The NumError repeats the cell, which this message already quotes.
		err = numErr.Err
	}
	origin := "set by WithColumnTypes"
	if c.inferred {
		origin = fmt.Sprintf("inferred from the first %d rows; WithColumnTypes (the CLI's --dtype) can set another", inferRows)
	}
	return fmt.Errorf("line %d: cannot parse %q as %s, the column's type (%s): %w", line, cell, c.typ, origin, err)
}

// errNotNumber is why a cell with misplaced separators failed to parse.
var errNotNumber = errors.New("not a number with the thousands and decimal separators set")

// cellAppender returns a function that parses a present cell onto b. The
// types inference picks get direct strconv parsing; others use the
// builder's own text parsing. Numbers are read in the syntax s.
func (s numberSyntax) cellAppender(b array.Builder) func(string) error {
	switch b := b.(type) {
	case *array.Int64Builder:
		return s.numberAppender(func(cell string) error {
			v, err := strconv.ParseInt(cell, 10, 64)
			if err == nil {
				b.Append(v)
			}
			return err
		})
	case *array.Float64Builder:
		return s.numberAppender(func(cell string) error {
			v, err := strconv.ParseFloat(cell, 64)
			if err == nil {
				b.Append(v)
			}
			return err
		})
	case *array.BooleanBuilder:
		return func(cell string) error {
			v, err := strconv.ParseBool(cell)
			if err == nil {
				b.Append(v)
			}
			return err
		}
	case *array.StringBuilder:
		return func(cell string) error {
			b.Append(cell)
			return nil
		}
	case *array.TimestampBuilder:
		return timestampAppender(b)
	}
	if t := b.Type(); arrow.IsInteger(t.ID()) || arrow.IsFloating(t.ID()) || arrow.IsDecimal(t.ID()) {
		return s.numberAppender(b.AppendValueFromString)
	}
	return b.AppendValueFromString
}

// numberAppender has parse read cells written in the syntax s.
func (s numberSyntax) numberAppender(parse func(string) error) func(string) error {
	if s == (numberSyntax{}) {
		return parse
	}
	return func(cell string) error {
		number, ok := s.plain(cell)
		if !ok {
			return errNotNumber
		}
		return parse(number)
	}
}

// NewCSVWriter returns a Writer of comma-separated text to w: a header row,
// then one line per row. Missing values are empty cells, floats are written
// in the shortest form that parses back to the same value, with ".0" added
// to integral ones so they read back as floats, and other types as Arrow
// formats their values. What CSV cannot tell apart reads back as missing
// with DefaultNAValues: an empty string, a string spelled like a
// missing value ("NA", "null"...) and NaN, which is written as "NaN".
func NewCSVWriter(w io.Writer, opts ...WriteOption) (Writer, error) {
	cfg, err := newWriteConfig(CSV, opts)
	if err != nil {
		return nil, err
	}
	return newTableWriter("CSV output", &csvEncoder{w: bufio.NewWriter(w)}, cfg), nil
}

type csvEncoder struct {
	w     *bufio.Writer
	width int
	// line and cell are scratch space reused across rows.
	line, cell []byte
}

func (e *csvEncoder) begin(schema *arrow.Schema) error {
	e.width = schema.NumFields()
	if e.width == 0 {
		// Not even an empty header line: a CSV without columns is empty.
		return nil
	}
	line := e.line[:0]
	for j, f := range schema.Fields() {
		if j > 0 {
			line = append(line, ',')
		}
		line = e.appendCell(line, append(e.cell[:0], f.Name...))
	}
	e.line = append(line, '\n')
	_, err := e.w.Write(e.line)
	return err
}

func (e *csvEncoder) write(rec arrow.RecordBatch) error {
	cols := rec.Columns()
	formats := make([]func([]byte, int) []byte, len(cols))
	for j, c := range cols {
		formats[j] = cellFormatter(c)
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		line := e.line[:0]
		for j, c := range cols {
			if j > 0 {
				line = append(line, ',')
			}
			cell := e.cell[:0]
			if c.IsValid(i) {
				cell = formats[j](cell, i)
			}
			e.cell = cell
			line = e.appendCell(line, cell)
		}
		e.line = append(line, '\n')
		if _, err := e.w.Write(e.line); err != nil {
			return err
		}
	}
	return nil
}

func (e *csvEncoder) end() error { return e.w.Flush() }

// appendCell appends cell to line, quoted where a reader needs the quotes.
func (e *csvEncoder) appendCell(line, cell []byte) []byte {
	if !e.needsQuotes(cell) {
		return append(line, cell...)
	}
	line = append(line, '"')
	for _, c := range cell {
		if c == '"' {
			line = append(line, '"')
		}
		line = append(line, c)
	}
	return append(line, '"')
}

func (e *csvEncoder) needsQuotes(cell []byte) bool {
	if len(cell) == 0 {
		// The only cell of a row would make an empty line, which CSV
		// readers skip, losing the row.
		return e.width == 1
	}
	if bytes.ContainsAny(cell, ",\"\r\n") {
		return true
	}
	// Many readers trim unquoted leading space, and a leading byte order
	// mark at the start of the file would be taken for the file's.
	r, _ := utf8.DecodeRune(cell)
	return unicode.IsSpace(r) || r == '\ufeff'
}

func cellFormatter(a arrow.Array) func([]byte, int) []byte {
	switch c := a.(type) {
	case *array.Float64:
		return func(dst []byte, i int) []byte { return appendFloat(dst, c.Value(i), 64) }
	case *array.Float32:
		return func(dst []byte, i int) []byte { return appendFloat(dst, float64(c.Value(i)), 32) }
	case *array.Int64:
		return func(dst []byte, i int) []byte { return strconv.AppendInt(dst, c.Value(i), 10) }
	case *array.String:
		return func(dst []byte, i int) []byte { return append(dst, c.Value(i)...) }
	}
	return func(dst []byte, i int) []byte { return append(dst, a.ValueStr(i)...) }
}

// appendFloat writes v in the shortest form that parses back to v. An
// integral value also gets ".0": written as "3", a column of them would
// read back as int64.
func appendFloat(dst []byte, v float64, bits int) []byte {
	start := len(dst)
	dst = strconv.AppendFloat(dst, v, 'g', -1, bits)
	if !bytes.ContainsAny(dst[start:], ".eNn") {
		dst = append(dst, ".0"...)
	}
	return dst
}
