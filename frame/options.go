package frame

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
)

// DefaultBatchRows is how many rows each frame from a Reader has unless
// WithBatchRows says otherwise: enough that per-frame costs vanish, few
// enough that a batch of 20 float64 columns takes 10 MiB.
const DefaultBatchRows = 64 * 1024

// ReadOption configures a Reader.
type ReadOption func(*readConfig)

type readConfig struct {
	batchRows   int
	columnTypes map[string]arrow.DataType
	// naValues are the CSV cells read as missing; nil for DefaultNAValues.
	naValues []string
	// delimiter separates CSV fields; 0 to sniff it.
	delimiter rune
	// thousands groups the digits of CSV numbers, and decimal separates
	// their fraction; 0 for none and '.'.
	thousands, decimal rune
}

// WithThousands sets the character that groups the digits of numbers in
// CSV inputs, as pandas' thousands option does: with ',', "1,234" reads
// as 1234 (quoted, where the comma also delimits fields). It is dropped
// only between two digits of a number's integer part, so text keeps its
// commas. CSV only.
func WithThousands(sep rune) ReadOption {
	return func(c *readConfig) { c.thousands = sep }
}

// WithDecimal sets the character that separates the fraction of numbers in
// CSV inputs instead of '.', as pandas' decimal option does: with ',', a
// European export's "3,75" reads as 3.75, and "3.75" as text. CSV only.
func WithDecimal(sep rune) ReadOption {
	return func(c *readConfig) { c.decimal = sep }
}

// WithDelimiter sets the CSV field delimiter instead of sniffing it from
// the first lines: ';' for a European Excel export, '\t' for a TSV. It
// must be a single character other than a quote, \r or \n. CSV only.
func WithDelimiter(d rune) ReadOption {
	return func(c *readConfig) { c.delimiter = d }
}

// WithBatchRows sets how many rows each frame a Reader yields has; only the
// last frame of a stream may have fewer. A reader holds about one batch in
// memory, so this bounds its memory too. n must be positive.
func WithBatchRows(n int) ReadOption {
	return func(c *readConfig) { c.batchRows = n }
}

// WithColumnTypes sets the types of the named CSV or JSON Lines columns instead of
// inferring them, for columns whose first rows mislead inference (codes with
// leading zeros, integers that turn into decimals late in the file) or that
// should be parsed as types inference never picks (timestamps, dates,
// decimals, float32...). Cells are parsed as the type's builder parses text.
// Every name must be a column of a CSV file; in JSON Lines, a name the
// first lines lack adds a column (see NewJSONLReader). CSV and JSON Lines
// only: Parquet and Arrow files carry their own types.
func WithColumnTypes(types map[string]arrow.DataType) ReadOption {
	types = maps.Clone(types)
	return func(c *readConfig) { c.columnTypes = types }
}

// defaultNAValues are pandas' read_csv defaults (its STR_NA_VALUES).
var defaultNAValues = []string{
	"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
	"<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
}

// DefaultNAValues returns the cells a CSV reader takes as missing values
// unless WithNAValues says otherwise: the spellings pandas' read_csv takes
// by default, so that a file reads with the same missing values in
// dfbatch as in pandas. Matching is exact: case and spaces count.
func DefaultNAValues() []string { return slices.Clone(defaultNAValues) }

// WithNAValues sets the cells a CSV reader takes as missing values, in
// every column, instead of DefaultNAValues: a column of country codes
// holding Namibia's "NA", for one, needs a list without it. An empty cell
// is missing only if "" is in the list. With no values, no cell is
// missing. CSV only: Parquet and Arrow files carry their own nulls.
func WithNAValues(values ...string) ReadOption {
	values = append([]string{}, values...)
	return func(c *readConfig) { c.naValues = values }
}

func newReadConfig(format Format, opts []ReadOption) (readConfig, error) {
	c := readConfig{batchRows: DefaultBatchRows}
	for _, o := range opts {
		o(&c)
	}
	if c.batchRows <= 0 {
		return c, fmt.Errorf("frame: WithBatchRows(%d): a batch needs at least one row", c.batchRows)
	}
	if len(c.columnTypes) > 0 && format != CSV && format != JSONL {
		return c, fmt.Errorf("frame: WithColumnTypes applies to CSV and JSON Lines only; %s files carry their own column types", format)
	}
	if c.delimiter != 0 && (format != CSV || c.delimiter == '"' || c.delimiter == '\r' || c.delimiter == '\n' || c.delimiter == utf8.RuneError) {
		return c, fmt.Errorf("frame: WithDelimiter(%q): a CSV delimiter is one character other than a quote, \\r or \\n", c.delimiter)
	}
	for _, sep := range []struct {
		option string
		r      rune
	}{{"WithThousands", c.thousands}, {"WithDecimal", c.decimal}} {
		if sep.r != 0 && (format != CSV || !numberSeparator(sep.r)) {
			return c, fmt.Errorf("frame: %s(%q): a CSV number separator is one character other than a digit, a sign, e, E, a quote or a line break", sep.option, sep.r)
		}
	}
	if c.thousands != 0 && c.thousands == cmp.Or(c.decimal, '.') {
		return c, fmt.Errorf("frame: WithThousands(%q) is also the decimal separator; set another with WithDecimal", c.thousands)
	}
	if c.naValues != nil && format != CSV {
		return c, fmt.Errorf("frame: WithNAValues applies to CSV only; %s files carry their own missing values", format)
	}
	for name, t := range c.columnTypes {
		if t == nil {
			return c, fmt.Errorf("frame: WithColumnTypes: column %q has a nil type", name)
		}
	}
	return c, nil
}

// numberSeparator says r can group digits or mark a fraction: nothing a
// number is otherwise written with.
func numberSeparator(r rune) bool {
	return r != utf8.RuneError && !strings.ContainsRune("0123456789+-eE\"\r\n", r)
}

// WriteOption configures a Writer.
type WriteOption func(*writeConfig)

type writeConfig struct {
	schema *arrow.Schema
	// compression names the codec ("": the format's default).
	compression string
	// rowGroupRows caps a Parquet row group (0: frame/parquet's default).
	rowGroupRows int
}

// compressions are the codecs WithCompression takes, by format, besides
// "none".
var compressions = map[Format][]string{
	Parquet: {"snappy", "zstd", "gzip", "lz4", "brotli"},
	Arrow:   {"lz4", "zstd"},
}

// WithCompression sets the output's compression codec, by name: for
// Parquet "snappy" (the default), "zstd", "gzip", "lz4" (Parquet's
// LZ4_RAW), "brotli" or "none"; for Arrow files "lz4" or "zstd" (the
// buffer compression Feather v2 readers take) or "none" (the default).
// CSV is written uncompressed.
func WithCompression(codec string) WriteOption {
	return func(c *writeConfig) { c.compression = strings.ToLower(strings.TrimSpace(codec)) }
}

// WithRowGroupRows caps each Parquet row group at n rows, for readers
// that parallelize or skip by row group; by default a group holds about a
// million rows, or 64 MiB. Parquet only.
func WithRowGroupRows(n int) WriteOption {
	return func(c *writeConfig) { c.rowGroupRows = n }
}

// WithSchema fixes the writer's schema before any frame is written, so that
// an output with no rows still has its columns (a CSV header, a Parquet or
// Arrow schema). Every frame written must then have this schema.
func WithSchema(s *arrow.Schema) WriteOption {
	return func(c *writeConfig) { c.schema = s }
}

func newWriteConfig(format Format, opts []WriteOption) (writeConfig, error) {
	var c writeConfig
	for _, o := range opts {
		o(&c)
	}
	switch {
	case c.rowGroupRows < 0 || (c.rowGroupRows > 0 && format != Parquet):
		return c, fmt.Errorf("frame: WithRowGroupRows(%d): a Parquet row group holds at least one row (%s has no row groups)", c.rowGroupRows, format)
	case c.compression != "" && c.compression != "none" && !slices.Contains(compressions[format], c.compression):
		return c, fmt.Errorf("frame: WithCompression(%q): %s output takes %s", c.compression, format, strings.Join(append(slices.Clone(compressions[format]), "none"), ", "))
	}
	if c.schema != nil {
		// No frame can have two columns of one name, so no frame could be
		// written to such a schema.
		seen := make(map[string]bool, c.schema.NumFields())
		for _, f := range c.schema.Fields() {
			if seen[f.Name] {
				return c, fmt.Errorf("frame: WithSchema: column %q appears twice", f.Name)
			}
			seen[f.Name] = true
		}
	}
	return c, nil
}
