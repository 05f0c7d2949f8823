package frame_test

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/dfbatch/dfbatch/frame"
	"github.com/stretchr/testify/assert"
)

// TestPandasIndexColumns reads the index columns from schema metadata as
// pyarrow writes it for a named index, an unnamed one stored as
// __index_level_0__ and a RangeIndex (metadata only), and from the unnamed
// first column of pandas' to_csv.
func TestPandasIndexColumns(t *testing.T) {
	schema := func(md string, names ...string) *arrow.Schema {
		fields := make([]arrow.Field, len(names))
		for i, n := range names {
			fields[i] = arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Int64}
		}
		if md == "" {
			return arrow.NewSchema(fields, nil)
		}
		meta := arrow.NewMetadata([]string{"pandas"}, []string{md})
		return arrow.NewSchema(fields, &meta)
	}
	for _, tc := range []struct {
		name   string
		schema *arrow.Schema
		want   []string
	}{
		{"named", schema(`{"index_columns": ["cust"], "column_indexes": [], "columns": []}`, "a", "cust"), []string{"cust"}},
		{"level 0", schema(`{"index_columns": ["__index_level_0__"], "columns": []}`, "a", "__index_level_0__"), []string{"__index_level_0__"}},
		{"multi", schema(`{"index_columns": ["k1", "k2"]}`, "k1", "k2", "a"), []string{"k1", "k2"}},
		{"range", schema(`{"index_columns": [{"kind": "range", "name": null, "start": 0, "stop": 3, "step": 1}]}`, "a"), nil},
		{"csv", schema("", "", "a"), []string{""}},
		{"none", schema("", "a", "b"), nil},
	} {
		assert.Equal(t, tc.want, frame.PandasIndexColumns(tc.schema), tc.name)
	}
}
