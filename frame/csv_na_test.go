package frame_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/dfbatch/dfbatch/internal/interop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultNAValuesArePandas asks pandas for the spellings its read_csv
// takes as missing by default: each must be in DefaultNAValues, which adds
// only "None" (pandas 2's default, after the 1.5 that Debian ships).
func TestDefaultNAValuesArePandas(t *testing.T) {
	out, err := exec.Command(interop.Pandas(t), "-c",
		"import json; from pandas._libs.parsers import STR_NA_VALUES; print(json.dumps(sorted(STR_NA_VALUES)))").Output()
	require.NoError(t, err)
	var pandas []string
	require.NoError(t, json.Unmarshal(out, &pandas))
	ours := frame.DefaultNAValues()
	for _, v := range pandas {
		assert.Contains(t, ours, v)
	}
	for _, v := range ours {
		if !slices.Contains(pandas, v) {
			assert.Equal(t, "None", v, "DefaultNAValues has %q, which pandas does not take as missing", v)
		}
	}
}

// TestCSVReadsPandasMissingValuesAsPandasDoes has pandas write a float, a
// nullable-int and a string column with missing values, once per
// spelling of a missing value (to_csv's na_rep), and reads each file: the
// missing cells are nulls, as pandas' own read_csv finds them (for "None",
// pandas 2's), and the column types stay numeric, whatever the spelling.
func TestCSVReadsPandasMissingValuesAsPandasDoes(t *testing.T) {
	python := interop.Pandas(t)
	dir := t.TempDir()
	script := `
import json, sys
import pandas as pd
out = sys.argv[1]
df = pd.DataFrame({
    "f": [1.5, None, -2.25, None],
    "i": pd.array([1, None, 3, 4], dtype="Int64"),
    "s": ["a", "b", None, "d"],
})
for k, rep in enumerate(json.loads(sys.argv[2])):
    path = f"{out}/na{k}.csv"
    df.to_csv(path, index=False, na_rep=rep)
    back = pd.read_csv(path)
    print(json.dumps({"path": path, "rep": rep, "written": {c: df[c].isna().tolist() for c in df},
                      "pandas": {c: back[c].isna().tolist() for c in back}}))
`
	reps := []string{"", "NA", "NaN", "nan", "null", "NULL", "None", "<NA>", "#N/A", "N/A", "n/a", "-nan"}
	arg, _ := json.Marshal(reps)
	out, err := exec.Command(python, "-c", script, dir, string(arg)).CombinedOutput()
	require.NoError(t, err, string(out))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, len(reps))
	for _, line := range lines {
		var file struct {
			Path    string
			Rep     string
			Written map[string][]bool // what pandas wrote as missing
			Pandas  map[string][]bool // what pandas reads back as missing
		}
		require.NoError(t, json.Unmarshal([]byte(line), &file))
		r, err := frame.OpenFile(file.Path, frame.CSV)
		require.NoError(t, err)
		f, err := r.Next()
		require.NoError(t, err)
		require.NoError(t, r.Close())
		for _, col := range []string{"f", "i", "s"} {
			if file.Rep != "None" { // missing from pandas 2 on; Debian ships 1.5
				require.Equal(t, file.Written[col], file.Pandas[col], "pandas reads na_rep %q back", file.Rep)
			}
			a, err := f.Col(col)
			require.NoError(t, err)
			for row, missing := range file.Written[col] {
				assert.Equal(t, missing, a.IsNull(row), "na_rep %q: column %s, row %d", file.Rep, col, row)
			}
		}
		fc, err := f.Col("f")
		require.NoError(t, err)
		require.IsType(t, &array.Float64{}, fc, "na_rep %q", file.Rep)
		assert.Equal(t, -2.25, fc.(*array.Float64).Value(2))
		ic, err := f.Col("i")
		require.NoError(t, err)
		require.IsType(t, &array.Int64{}, ic, "na_rep %q", file.Rep)
	}
}

// TestWithNAValuesReplacesTheDefaults reads Namibia's country code "NA"
// as a value when the list leaves it out, and the cells of a custom list
// as missing.
func TestWithNAValuesReplacesTheDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "countries.csv")
	require.NoError(t, os.WriteFile(path, []byte("country,gdp\nNA,12.5\nFR,-\nDE,\n"), 0o644))

	read := func(opts ...frame.ReadOption) (countries []string, gdpNull []bool) {
		r, err := frame.OpenFile(path, frame.CSV, opts...)
		require.NoError(t, err)
		defer r.Close()
		f, err := r.Next()
		require.NoError(t, err)
		c, err := f.Col("country")
		require.NoError(t, err)
		g, err := f.Col("gdp")
		require.NoError(t, err)
		for row := range f.NumRows() {
			if c.IsNull(row) {
				countries = append(countries, "<null>")
			} else {
				countries = append(countries, c.ValueStr(row))
			}
			gdpNull = append(gdpNull, g.IsNull(row))
		}
		return countries, gdpNull
	}

	countries, _ := read()
	assert.Equal(t, []string{"<null>", "FR", "DE"}, countries, "by default NA is missing, as in pandas")

	countries, gdpNull := read(frame.WithNAValues("", "-"))
	assert.Equal(t, []string{"NA", "FR", "DE"}, countries)
	assert.Equal(t, []bool{false, true, true}, gdpNull, "\"-\" and the empty cell are missing")

	_, err := frame.OpenFile(path, frame.Parquet, frame.WithNAValues("-"))
	require.ErrorContains(t, err, "WithNAValues applies to CSV only")
}

// TestCSVKeepsZeroPaddedCodesAsText has pandas write ids, postal codes and
// amounts, the codes as text with leading zeros: they read back as
// strings with their zeros, as DuckDB's sniffer reads them, while plain
// numbers stay numbers; WithColumnTypes makes them numbers when asked.
func TestCSVKeepsZeroPaddedCodesAsText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "codes.csv")
	script := `
import sys
import pandas as pd
pd.DataFrame({"id": ["0000042", "0000043", "0001000"], "zip": ["01234", "90210", "00501"],
              "n": [42, 7, 0], "x": [0.5, -0.25, 10.0]}).to_csv(sys.argv[1], index=False)
`
	out, err := exec.Command(interop.Pandas(t), "-c", script, path).CombinedOutput()
	require.NoError(t, err, string(out))

	read := func(opts ...frame.ReadOption) *frame.Frame {
		r, err := frame.OpenFile(path, frame.CSV, opts...)
		require.NoError(t, err)
		defer r.Close()
		f, err := r.Next()
		require.NoError(t, err)
		return f
	}
	f := read()
	ids, err := f.StringCol("id")
	require.NoError(t, err)
	assert.Equal(t, "0000042", ids.Value(0))
	zips, err := f.StringCol("zip")
	require.NoError(t, err)
	assert.Equal(t, "00501", zips.Value(2))
	_, err = f.Int64Col("n")
	require.NoError(t, err, "plain integers stay int64")
	_, err = f.Float64Col("x")
	require.NoError(t, err, "0.5 is a number, not a padded code")

	f = read(frame.WithColumnTypes(map[string]arrow.DataType{"id": arrow.PrimitiveTypes.Int64}))
	n, err := f.Int64Col("id")
	require.NoError(t, err)
	assert.Equal(t, int64(1000), n.Value(2))
}

// TestCSVSniffsPandasDialects has pandas write one frame with ';', tab
// and '|' separators (a .tsv for the tab), text holding the other
// separators in quotes, and a header written "id, amount" as
// hand-made files have it: each reads back with the same columns and
// values, the header names trimmed.
func TestCSVSniffsPandasDialects(t *testing.T) {
	dir := t.TempDir()
	script := `
import sys
import pandas as pd
df = pd.DataFrame({"id": [1, 2, 3], "amount": [1.5, -2.25, 1e6], "note": ["a, b; c", "tab\there", "pipe | too"]})
for name, sep in [("semi.csv", ";"), ("tabs.tsv", "\t"), ("pipes.csv", "|")]:
    df.to_csv(sys.argv[1] + "/" + name, sep=sep, index=False)
with open(sys.argv[1] + "/spaced.csv", "w") as f:
    f.write("id, amount, note\n1, 1.5,x\n2, -2.25,y\n3, 1e6,z\n")
`
	out, err := exec.Command(interop.Pandas(t), "-c", script, dir).CombinedOutput()
	require.NoError(t, err, string(out))
	for _, name := range []string{"semi.csv", "tabs.tsv", "pipes.csv", "spaced.csv"} {
		r, err := frame.OpenFile(filepath.Join(dir, name), "")
		require.NoError(t, err, name)
		f, err := frame.ReadAll(r)
		require.NoError(t, err, name)
		require.NoError(t, r.Close())
		assert.Equal(t, []string{"id", "amount", "note"}, f.ColumnNames(), name)
		ids, err := f.Int64Col("id")
		require.NoError(t, err, name)
		assert.Equal(t, []int64{1, 2, 3}, ids.Int64Values(), name)
		if name == "spaced.csv" {
			continue // " 1.5" is text: the cells keep their spaces
		}
		amounts, err := f.Float64Col("amount")
		require.NoError(t, err, name)
		assert.Equal(t, []float64{1.5, -2.25, 1e6}, amounts.Float64Values(), name)
		notes, err := f.StringCol("note")
		require.NoError(t, err, name)
		assert.Equal(t, "a, b; c", notes.Value(0), name)
		assert.Equal(t, "pipe | too", notes.Value(2), name)
	}

	// A file of one column sniffs no separator, and WithDelimiter sets one.
	path := filepath.Join(dir, "one.csv")
	require.NoError(t, os.WriteFile(path, []byte("a;b\n1;2\n"), 0o644))
	r, err := frame.OpenFile(path, frame.CSV, frame.WithDelimiter(','))
	require.NoError(t, err)
	f, err := frame.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, []string{"a;b"}, f.ColumnNames())
	_, err = frame.OpenFile(path, frame.CSV, frame.WithDelimiter('"'))
	require.ErrorContains(t, err, "WithDelimiter")
}

// TestFeatureColumnOfZeroPaddedNumbersSaysHowToReadIt reads a CSV whose
// feature column is written zero-padded: it is text, and asking for it as
// a feature says why and which option reads it as numbers.
func TestFeatureColumnOfZeroPaddedNumbersSaysHowToReadIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "padded.csv")
	require.NoError(t, os.WriteFile(path, []byte("x,code\n1.5,007\n2.5,010\n3.5,012\n"), 0o644))
	r, err := frame.OpenFile(path, frame.CSV)
	require.NoError(t, err)
	f, err := frame.ReadAll(r)
	require.NoError(t, err)
	_, err = f.Slice(1, 3).Float64Matrix(nil, "x", "code")
	require.ErrorContains(t, err, `column "code": is utf8, not numeric: it holds numbers as text ("010" in row 1)`)
	require.ErrorContains(t, err, "--dtype column=float64")
	f, err = frame.New(frame.Strings("name", []string{"ann", "7"}))
	require.NoError(t, err)
	_, err = f.Float64Matrix(nil, "name")
	require.ErrorContains(t, err, "is utf8, not numeric")
	require.NotContains(t, err.Error(), "numbers as text", "a column of words")
}

// TestCSVReadsThousandsAndDecimalSeparatorsAsPandasDoes has pandas write
// a European export (";" between fields, "," before fractions) and a
// report whose numbers group thousands ("1,234,567", quoted), then read
// both back with its thousands and decimal options: WithThousands and
// WithDecimal read the same numbers, and text keeps its separators.
func TestCSVReadsThousandsAndDecimalSeparatorsAsPandasDoes(t *testing.T) {
	dir := t.TempDir()
	script := `
import json, sys
import pandas as pd
out = sys.argv[1]
df = pd.DataFrame({"id": [1, 2, 3, 4], "amount": [1234567.25, -0.5, 1e3, 12.0], "count": [1000, 25, 1234567, -4000],
                   "note": ["1,5 kg", "a.b", "x", "1.000"]})
df.to_csv(out + "/euro.csv", sep=";", decimal=",", index=False)
grouped = df.assign(amount=df["amount"].map("{:,}".format), count=df["count"].map("{:,}".format))
grouped.to_csv(out + "/grouped.csv", index=False)
euro = pd.read_csv(out + "/euro.csv", sep=";", decimal=",")
back = pd.read_csv(out + "/grouped.csv", thousands=",")
print(json.dumps({"euro": euro[["amount", "count"]].to_dict("list"), "grouped": back[["amount", "count"]].to_dict("list"),
                  "dtypes": [str(euro["count"].dtype), str(back["count"].dtype)]}))
`
	out, err := exec.Command(interop.Pandas(t), "-c", script, dir).CombinedOutput()
	require.NoError(t, err, string(out))
	var pandas struct {
		Euro, Grouped struct {
			Amount []float64
			Count  []int64
		}
		Dtypes []string
	}
	require.NoError(t, json.Unmarshal(out, &pandas), string(out))
	require.Equal(t, []string{"int64", "int64"}, pandas.Dtypes)

	read := func(name string, opts ...frame.ReadOption) *frame.Frame {
		r, err := frame.OpenFile(filepath.Join(dir, name), "", opts...)
		require.NoError(t, err, name)
		f, err := frame.ReadAll(r)
		require.NoError(t, err, name)
		require.NoError(t, r.Close())
		return f
	}
	for name, want := range map[string]struct {
		amounts []float64
		counts  []int64
		opts    []frame.ReadOption
	}{
		"euro.csv":    {pandas.Euro.Amount, pandas.Euro.Count, []frame.ReadOption{frame.WithDecimal(',')}},
		"grouped.csv": {pandas.Grouped.Amount, pandas.Grouped.Count, []frame.ReadOption{frame.WithThousands(',')}},
	} {
		f := read(name, want.opts...)
		amounts, err := f.Float64Col("amount")
		require.NoError(t, err, "%s: %v", name, f.Schema())
		assert.Equal(t, want.amounts, amounts.Float64Values(), name)
		counts, err := f.Int64Col("count")
		require.NoError(t, err, "%s: %v", name, f.Schema())
		assert.Equal(t, want.counts, counts.Int64Values(), name)
		notes, err := f.StringCol("note")
		require.NoError(t, err, name)
		assert.Equal(t, []string{"1,5 kg", "a.b", "x", "1.000"}, []string{notes.Value(0), notes.Value(1), notes.Value(2), notes.Value(3)}, name)
	}

	// Without the options the grouped numbers are text, as in pandas.
	f := read("grouped.csv")
	_, err = f.StringCol("count")
	require.NoError(t, err)

	// A column typed float32 reads its cells in the same syntax, and a
	// cell whose separators are misplaced is an error naming it. Like
	// pandas, the reader does not check that groups have three digits.
	f = read("euro.csv", frame.WithDecimal(','), frame.WithColumnTypes(map[string]arrow.DataType{"amount": arrow.PrimitiveTypes.Float32}))
	a, err := f.Col("amount")
	require.NoError(t, err)
	assert.Equal(t, float32(-0.5), a.(*array.Float32).Value(1))
	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("n\n\"1,234\"\n\"1,234.5,6\"\n"), 0o644))
	r, err := frame.OpenFile(bad, "", frame.WithThousands(','), frame.WithColumnTypes(map[string]arrow.DataType{"n": arrow.PrimitiveTypes.Float64}))
	require.NoError(t, err)
	_, err = frame.ReadAll(r)
	require.ErrorContains(t, err, `cannot parse "1,234.5,6" as float64`)
	require.ErrorContains(t, err, "thousands")

	for _, opts := range [][]frame.ReadOption{{frame.WithThousands('.')}, {frame.WithDecimal('7')}, {frame.WithThousands(','), frame.WithDecimal(',')}} {
		_, err := frame.OpenFile(bad, "", opts...)
		require.Error(t, err)
	}
}

// TestCSVTimestampColumnTakesTimesWithAndWithoutOffsets reads a column
// typed timestamp[us, UTC] (the CLI's --dtype timestamp) whose cells are
// pandas' naive ISO times and times with an offset: a time without an
// offset is a wall time in the column's zone, as DuckDB casts text.
func TestCSVTimestampColumnTakesTimesWithAndWithoutOffsets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "times.csv")
	require.NoError(t, os.WriteFile(path, []byte("t\n2024-01-01 08:30:00\n2024-01-01T08:30:00+02:00\n2024-01-01T08:30:00.250Z\nNaT\n"), 0o644))
	r, err := frame.OpenFile(path, "", frame.WithNAValues("", "NaT"),
		frame.WithColumnTypes(map[string]arrow.DataType{"t": &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}}))
	require.NoError(t, err)
	f, err := frame.ReadAll(r)
	require.NoError(t, err)
	require.Equal(t, 4, f.NumRows())
	col, err := f.Col("t")
	require.NoError(t, err)
	ts := col.(*array.Timestamp)
	want := []string{"2024-01-01T08:30:00Z", "2024-01-01T06:30:00Z", "2024-01-01T08:30:00.25Z"}
	for i, w := range want {
		assert.Equal(t, w, ts.Value(i).ToTime(arrow.Microsecond).UTC().Format(time.RFC3339Nano), "row %d", i)
	}
	assert.True(t, ts.IsNull(3))
}
