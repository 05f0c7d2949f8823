package frame

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/dfbatch/dfbatch/frame/internal/fileformat"
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
	if format == Arrow {
		return newArrowReader(src, path, cfg)
	}
	return newRegisteredReader(src, path, format, cfg)
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
	// Before the file is created, so that a format this program lacks
	// leaves no empty file behind.
	newEnc, err := encoderOf(format, cfg)
	if err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("frame: %w", err)
	}
	// Arrow and Parquet writers make many small writes per record batch.
	buf := bufio.NewWriterSize(f, 1<<16)
	return &fileWriter{tableWriter: newTableWriter(path, newEnc(buf), cfg), buf: buf, file: f}, nil
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
	newEnc, err := encoderOf(format, cfg)
	if err != nil {
		return nil, err
	}
	return newTableWriter(name, newEnc(w), cfg), nil
}

// encoderOf returns what makes format's encoders, or an error when format
// is one that a format package registers and this program lacks it.
func encoderOf(format Format, cfg writeConfig) (func(io.Writer) encoder, error) {
	switch format {
	case CSV:
		return func(w io.Writer) encoder { return &csvEncoder{w: buffered(w)} }, nil
	case JSONL:
		return func(w io.Writer) encoder { return &jsonlEncoder{w: buffered(w)} }, nil
	case Arrow:
		return func(w io.Writer) encoder { return &arrowEncoder{w: w, cfg: cfg} }, nil
	}
	c, err := registered(format)
	if err != nil {
		return nil, err
	}
	settings := fileformat.WriteSettings{Compression: cfg.compression, RowGroupRows: cfg.rowGroupRows}
	return func(w io.Writer) encoder { return registeredEncoder(c.NewEncoder(w, settings)) }, nil
}

// buffered returns w as a *bufio.Writer, wrapping it unless it is one.
func buffered(w io.Writer) *bufio.Writer {
	if buf, ok := w.(*bufio.Writer); ok {
		return buf
	}
	return bufio.NewWriter(w)
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
