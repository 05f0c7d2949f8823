package frame_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/dfbatch/dfbatch/frame"
)

func ExampleNewCSVReader() {
	input := "id,score,label\n1,0.5,a\n2,NA,b\n3,1.25,c\n"
	r, err := frame.NewCSVReader(strings.NewReader(input), frame.WithBatchRows(2))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	fmt.Println(r.Schema().Field(1).Type)
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		score, err := f.Float64Col("score")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("from row", f.RowOffset(), score)
	}
	// Output:
	// float64
	// from row 0 [0.5 (null)]
	// from row 2 [1.25]
}

// A file larger than memory converts batch by batch.
func ExampleOpenFile() {
	dir, err := os.MkdirTemp("", "frame-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "in.csv"), filepath.Join(dir, "out.parquet")
	if err := os.WriteFile(in, []byte("id,score\n1,0.5\n2,0.75\n3,NA\n"), 0o600); err != nil {
		log.Fatal(err)
	}

	r, err := frame.OpenFile(in, "", frame.WithBatchRows(2))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	// WithSchema gives an input without rows an output with columns.
	w, err := frame.CreateFile(out, "", frame.WithSchema(r.Schema()))
	if err != nil {
		log.Fatal(err)
	}
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		if err := w.Write(f); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	check, err := frame.OpenFile(out, "")
	if err != nil {
		log.Fatal(err)
	}
	defer check.Close()
	f, err := check.Next()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.NumRows(), "rows:", f.ColumnNames(), f.Column(1))
	// Output: 3 rows: [id score] [0.5 0.75 (null)]
}
