package frame

import "fmt"

// ColumnError reports a problem with one column and, when Row is not
// negative, with one row of it. Rows are numbered as RowOffset numbers them.
type ColumnError struct {
	Column string
	Row    int
	Err    error
}

// noRow marks a ColumnError about a whole column.
const noRow = -1

// Error names the column, then the row when there is one, then the cause.
func (e *ColumnError) Error() string {
	if e.Row >= 0 {
		return fmt.Sprintf("column %q, row %d: %v", e.Column, e.Row, e.Err)
	}
	return fmt.Sprintf("column %q: %v", e.Column, e.Err)
}

// Unwrap returns the underlying cause.
func (e *ColumnError) Unwrap() error { return e.Err }
