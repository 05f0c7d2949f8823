package frame

import (
	"encoding/json"

	"github.com/apache/arrow-go/v18/arrow"
)

// PandasIndexColumns returns the columns of schema that hold a pandas
// DataFrame's index, in order: those that the "pandas" schema metadata of a
// file pandas wrote with pyarrow names in its index_columns (a named index,
// or __index_level_0__ for an unnamed one that is not a plain range), or
// else the unnamed first column that pandas' to_csv writes for the index.
// A RangeIndex is stored as metadata only, with no column, and a schema
// without index columns gives none.
func PandasIndexColumns(schema *arrow.Schema) []string {
	if md, ok := schema.Metadata().GetValue("pandas"); ok {
		var pandas struct {
			IndexColumns []json.RawMessage `json:"index_columns"`
		}
		if json.Unmarshal([]byte(md), &pandas) == nil {
			var names []string
			for _, c := range pandas.IndexColumns {
				// A range index is an object, not a column's name.
				var name string
				if json.Unmarshal(c, &name) == nil && schema.HasField(name) {
					names = append(names, name)
				}
			}
			return names
		}
	}
	if schema.NumFields() > 0 && schema.Field(0).Name == "" {
		return []string{""}
	}
	return nil
}
