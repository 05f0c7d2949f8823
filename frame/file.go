package frame

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// OpenFile opens the file at path for reading as a stream of frames, in the
// given format, or by the path's extension when format is empty (see
// FormatOf). Errors, including those of later Next calls, name the path.
// Closing the Reader closes the file. Like every Reader of this package, it
// is for one goroutine at a time, while the frames it returns may be shared.
func OpenFile(path string, format Format, opts ...ReadOption) (Reader, error) {
	format, err := resolveFormat(path, format)
	if err != nil {
		return nil, err
	}
	cfg, err := newReadConfig(format, opts)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("frame: %w", err)
	}
	r, err := openReader(f, path, format, cfg)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &fileReader{Reader: r, file: f}, nil
}

func openReader(f *os.File, path string, format Format, cfg readConfig) (Reader, error) {
	switch format {
	case CSV:
		return newCSVReader(f, path, cfg)
	case JSONL:
		return newJSONLReader(f, path, cfg)
	}
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("frame: %w", err)
	}
	src := io.NewSectionReader(f, 0, info.Size())
	if format == Parquet {
		return newParquetReader(src, path, cfg)
	}
	return newArrowReader(src, path, cfg)
}

type fileReader struct {
	Reader
	file *os.File
}

// Close closes the reader, then its file.
func (r *fileReader) Close() error {
	if r.file == nil {
		return nil
	}
	err := r.Reader.Close()
	if cerr := r.file.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("frame: %w", cerr)
	}
	r.file = nil
	return err
}

// CreateFile creates (or truncates) the file at path and returns a Writer of
// the given format to it, or of the format the path's extension names when
// format is empty (see FormatOf). Errors name the path. Close finishes the
// file and closes it; until then the file is incomplete. Like every Writer
// of this package, it is for one goroutine at a time.
func CreateFile(path string, format Format, opts ...WriteOption) (Writer, error) {
	format, err := resolveFormat(path, format)
	if err != nil {
		return nil, err
	}
	cfg, err := newWriteConfig(format, opts)
	if err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("frame: %w", err)
	}
	// Arrow and Parquet writers make many small writes per record batch.
	buf := bufio.NewWriterSize(f, 1<<16)
	return &fileWriter{tableWriter: newTableWriter(path, newEncoder(buf, format, cfg), cfg), buf: buf, file: f}, nil
}

// NewWriter returns a Writer of the given format (CSV, Parquet, Arrow or JSONL)
// to w; name is what its errors call the output. Close finishes the
// format's footer but does not close or flush w. Writes are many and
// small: give it a buffered writer.
func NewWriter(w io.Writer, name string, format Format, opts ...WriteOption) (Writer, error) {
	format, err := ParseFormat(string(format))
	if err != nil {
		return nil, err
	}
	cfg, err := newWriteConfig(format, opts)
	if err != nil {
		return nil, err
	}
	return newTableWriter(name, newEncoder(w, format, cfg), cfg), nil
}

func newEncoder(w io.Writer, format Format, cfg writeConfig) encoder {
	switch format {
	case CSV:
		buf, ok := w.(*bufio.Writer)
		if !ok {
			buf = bufio.NewWriter(w)
		}
		return &csvEncoder{w: buf}
	case JSONL:
		buf, ok := w.(*bufio.Writer)
		if !ok {
			buf = bufio.NewWriter(w)
		}
		return &jsonlEncoder{w: buf}
	case Parquet:
		return &parquetEncoder{w: w, cfg: cfg}
	}
	return &arrowEncoder{w: w, cfg: cfg}
}

type fileWriter struct {
	*tableWriter
	buf  *bufio.Writer
	file *os.File
}

// Close finishes the output, then flushes and closes its file.
func (w *fileWriter) Close() error {
	if w.file == nil {
		return nil
	}
	err := w.tableWriter.Close()
	if err == nil {
		if ferr := w.buf.Flush(); ferr != nil {
			err = fmt.Errorf("frame: writing %s: %w", w.file.Name(), ferr)
		}
	}
	if cerr := w.file.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("frame: %w", cerr)
	}
	w.file = nil
	return err
}
