package engine_test

import (
	"testing"

	"github.com/dfbatch/dfbatch/engine"
	"github.com/stretchr/testify/assert"
)

func TestPlanSplitsRowsIntoContiguousTasks(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rows, size int
		want       []engine.Task
	}{
		{"no rows", 0, 10, nil},
		{"fewer rows than a batch", 7, 10, []engine.Task{{Index: 0, Start: 0, End: 7}}},
		{"exactly one batch", 10, 10, []engine.Task{{Index: 0, Start: 0, End: 10}}},
		{"k batches", 30, 10, []engine.Task{{0, 0, 10, ""}, {1, 10, 20, ""}, {2, 20, 30, ""}}},
		{"k batches plus one row", 31, 10, []engine.Task{{0, 0, 10, ""}, {1, 10, 20, ""}, {2, 20, 30, ""}, {3, 30, 31, ""}}},
		{"batch of one", 3, 1, []engine.Task{{0, 0, 1, ""}, {1, 1, 2, ""}, {2, 2, 3, ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, engine.Plan(tc.rows, tc.size))
		})
	}
}

func TestPlanMakesCeilRowsOverBatchTasks(t *testing.T) {
	assert.Len(t, engine.Plan(1000, 50), 20, "the reference example: 1000 rows, batch 50")
	assert.Len(t, engine.Plan(1001, 50), 21)
	assert.Len(t, engine.Plan(999, 50), 20)
}

func TestTaskStringNamesInclusiveRows(t *testing.T) {
	assert.Equal(t, "task 3 (rows 150-199)", engine.Task{Index: 3, Start: 150, End: 200}.String())
	assert.Equal(t, "task 0 (in.csv rows 0-9)", engine.Task{Index: 0, Start: 0, End: 10, Source: "in.csv"}.String())
}
