package registry

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCompareNaturalOrdersVersionsAsPeopleDo(t *testing.T) {
	tests := []struct {
		name string
		ids  []string // in the expected order
	}{
		{"numbers", []string{"1", "2", "9", "10", "11", "100"}},
		{"prefixed", []string{"v1", "v2", "v9", "v10"}},
		{"dotted", []string{"1.2", "1.9", "1.10", "2.0"}},
		{"dates", []string{"2023-12-31", "2024-01-31", "2024-02-01"}},
		{"a prefix first", []string{"v2", "v2-rc1", "v2.1"}},
		{"leading zeros tie-break by bytes", []string{"001", "01", "1", "2"}},
		{"numbers beyond int64", []string{"99999999999999999999", "100000000000000000000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Clone(tt.ids)
			slices.Reverse(got)
			slices.SortFunc(got, compareNatural)
			assert.Equal(t, tt.ids, got)
			for i := range tt.ids {
				assert.Zero(t, compareNatural(tt.ids[i], tt.ids[i]), "%q equals itself", tt.ids[i])
			}
		})
	}
}
