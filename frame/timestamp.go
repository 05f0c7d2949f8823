package frame

import (
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// timestampAppender returns a function that parses a text time onto b, as
// DuckDB casts text: one with an offset (or Z) is that instant, one
// without is a wall time in the column's zone, UTC if it has none. The
// builder's own parsing refuses a time without an offset in a zoned
// column, so it would refuse pandas' ISO times under --dtype timestamp,
// which is timestamp[us, UTC].
func timestampAppender(b *array.TimestampBuilder) func(string) error {
	typ := b.Type().(*arrow.TimestampType)
	loc, err := typ.GetZone()
	if err != nil || loc == nil {
		loc = time.UTC
	}
	return func(text string) error {
		ts, _, err := arrow.TimestampFromStringInLocation(text, typ.Unit, loc)
		if err != nil {
			return err
		}
		b.Append(ts)
		return nil
	}
}
