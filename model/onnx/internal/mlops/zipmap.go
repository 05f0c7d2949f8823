package mlops

import (
	"fmt"
	"strconv"
)

// ZipMap is an ai.onnx.ml ZipMap turned into columns. ONNX's ZipMap turns
// each row of class probabilities into a map from class label to
// probability; a DataFrame holds those better as one column per class, so
// the runner keeps the probability matrix and names its columns with
// ColumnNames.
type ZipMap struct {
	keys []string
}

// NewZipMap takes the classlabels_int64s or classlabels_strings attribute:
// exactly one must be set.
func NewZipMap(classLabelsInt64s []int64, classLabelsStrings []string) (*ZipMap, error) {
	ints, strs, err := classLabels("classlabels_int64s", classLabelsInt64s, "classlabels_strings", classLabelsStrings)
	if err != nil {
		return nil, fmt.Errorf("ZipMap: %w", err)
	}
	if strs != nil {
		return &ZipMap{keys: strs}, nil
	}
	keys := make([]string, len(ints))
	for i, v := range ints {
		keys[i] = strconv.FormatInt(v, 10)
	}
	return &ZipMap{keys: keys}, nil
}

// Keys returns the map keys, one per input column, int64 labels in
// decimal.
func (z *ZipMap) Keys() []string { return z.keys }

// ColumnNames returns prefix + "_" + key for each key, in column order.
func (z *ZipMap) ColumnNames(prefix string) []string {
	names := make([]string, len(z.keys))
	for i, k := range z.keys {
		names[i] = prefix + "_" + k
	}
	return names
}

// CheckWidth reports whether an input of width columns fits the labels, as
// ONNX Runtime requires.
func (z *ZipMap) CheckWidth(width int) error {
	if width != len(z.keys) {
		return fmt.Errorf("ZipMap: the input has %d columns for %d class labels", width, len(z.keys))
	}
	return nil
}
