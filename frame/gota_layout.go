package frame

import (
	"reflect"
	"unsafe"

	"github.com/go-gota/gota/dataframe"
	"github.com/go-gota/gota/series"
)

// gota's API reads one value per two interface calls (df.Elem(r, c).Float()),
// about 5 ns a value: on a 1M x 16 frame that is most of a run's cost. Its
// numeric columns are slices of {value, NA flag} structs, which this file
// reads directly, as one loop over memory, after checking at start-up that
// the pinned gota version lays them out as expected. Where it does not,
// gotaNumbers is false and the conversion takes the API path.

// gotaFloatElement and gotaIntElement mirror gota's floatElement and
// intElement.
type gotaFloatElement struct {
	e   float64
	nan bool
}

type gotaIntElement struct {
	e   int
	nan bool
}

// gotaNumbers reports whether gota's Float and Int columns have the layout
// of gotaFloatElement and gotaIntElement.
var gotaNumbers = sameLayout(series.New([]float64{0}, series.Float, ""), reflect.TypeFor[gotaFloatElement]()) &&
	sameLayout(series.New([]int{0}, series.Int, ""), reflect.TypeFor[gotaIntElement]())

// sameLayout reports whether s's elements are a slice of structs with
// mirror's field names, types and offsets.
func sameLayout(s series.Series, mirror reflect.Type) bool {
	v := reflect.ValueOf(s).FieldByName("elements")
	if !v.IsValid() || v.Kind() != reflect.Interface || v.IsNil() {
		return false
	}
	slice := v.Elem().Type()
	if slice.Kind() != reflect.Slice {
		return false
	}
	elem := slice.Elem()
	if elem.Kind() != reflect.Struct || elem.Size() != mirror.Size() || elem.NumField() != mirror.NumField() {
		return false
	}
	for i := range elem.NumField() {
		got, want := elem.Field(i), mirror.Field(i)
		if got.Name != want.Name || got.Type != want.Type || got.Offset != want.Offset {
			return false
		}
	}
	return true
}

// gotaElements returns column c of df as a slice of E, sharing gota's
// memory. Only call it for a column whose type sameLayout checked for E.
func gotaElements[E gotaFloatElement | gotaIntElement](df dataframe.DataFrame, c int) []E {
	elements := reflect.ValueOf(df).FieldByName("columns").Index(c).FieldByName("elements").Elem()
	if elements.Len() == 0 {
		return nil
	}
	return unsafe.Slice((*E)(elements.UnsafePointer()), elements.Len())
}
