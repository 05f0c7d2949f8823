package frame_test

import (
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dfbatch/dfbatch/frame"
)

// A JSON Lines file as pandas' to_json(orient="records", lines=True,
// date_format="iso") writes it: columns and types come from the first
// lines, strings stay strings ("00501" keeps its zeros), and
// WithColumnTypes types the ISO times. The writer writes the missing
// values, and NaN, as null.
func ExampleNewJSONLReader() {
	input := `{"id":1,"zip":"00501","score":0.5,"at":"2024-05-01T12:30:00.000"}
{"id":2,"zip":"10001","score":null}
{"id":3,"zip":null,"score":NaN,"at":"2024-05-02T08:00:00.000"}
`
	r, err := frame.NewJSONLReader(strings.NewReader(input),
		frame.WithColumnTypes(map[string]arrow.DataType{"at": &arrow.TimestampType{Unit: arrow.Millisecond}}))
	if err != nil {
		log.Fatal(err)
	}
	f, err := frame.ReadAll(r)
	if err != nil {
		log.Fatal(err)
	}
	for _, field := range f.Schema().Fields() {
		fmt.Println(field.Name, field.Type)
	}
	w, err := frame.NewJSONLWriter(os.Stdout)
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Write(f); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// id int64
	// zip utf8
	// score float64
	// at timestamp[ms]
	// {"id":1,"zip":"00501","score":0.5,"at":"2024-05-01 12:30:00.000"}
	// {"id":2,"zip":"10001","score":null,"at":null}
	// {"id":3,"zip":null,"score":null,"at":"2024-05-02 08:00:00.000"}
}
