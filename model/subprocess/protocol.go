package subprocess

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/dfbatch/dfbatch/frame"
)

// Protocol is the version of the protocol this package speaks
// (PROTOCOL.md).
const Protocol = 1

// Format is how a frame travels as a payload.
type Format string

const (
	// FormatArrow is the Arrow IPC stream format: fast and typed, for model
	// processes written in Go, and in Python with dfbatch_model.py (which
	// needs only numpy) or pyarrow.
	FormatArrow Format = "arrow"
	// FormatCSV is CSV with a header row: any language reads it.
	FormatCSV Format = "csv"
)

// ParseFormat returns the payload format named s ("arrow" or "csv", in any
// case); "" is "", which lets the process choose.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "", FormatArrow, FormatCSV:
		return f, nil
	}
	return "", fmt.Errorf("unknown payload format %q; known: arrow, csv", s)
}

const (
	magic = "DFB1"
	// endMark is the stderr line that ends a batch's log (PROTOCOL.md).
	endMark        = "\x1edfbatch:end-of-batch"
	maxHeaderBytes = 16 << 20
	maxPayload     = 64 << 30
)

// Message types.
const (
	typeHello  = "hello"
	typeBatch  = "batch"
	typeResult = "result"
	typeError  = "error"
)

// header is a frame's JSON header; each message type uses its own fields.
type header struct {
	Type string `json:"type"`

	// hello
	Protocol int      `json:"protocol,omitempty"`
	Formats  []Format `json:"formats,omitempty"`
	PID      int      `json:"pid,omitempty"`
	Marks    bool     `json:"marks,omitempty"`

	// batch
	Task       int               `json:"task"`
	Attempt    int               `json:"attempt,omitempty"`
	Start      int               `json:"start"`
	End        int               `json:"end"`
	Executor   int               `json:"executor"`
	Parameters map[string]string `json:"parameters,omitempty"`

	// batch and result
	Rows   int    `json:"rows"`
	Format Format `json:"format,omitempty"`

	// error
	Error     string `json:"error,omitempty"`
	Traceback string `json:"traceback,omitempty"`
}

// ProtocolError is output of a model process that breaks the protocol:
// something other than a frame on its stdout, or a frame that makes no
// sense where it came.
type ProtocolError struct {
	Msg string
}

func (e *ProtocolError) Error() string { return "subprocess protocol error: " + e.Msg }

// writeMessage writes one frame.
func writeMessage(w io.Writer, h header, payload []byte) error {
	head, err := json.Marshal(h)
	if err != nil {
		return err
	}
	buf := make([]byte, 0, len(magic)+4+len(head)+8)
	buf = append(buf, magic...)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(head)))
	buf = append(buf, head...)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(payload)))
	if _, err := w.Write(buf); err != nil {
		return err
	}
	if len(payload) > 0 {
		if _, err := w.Write(payload); err != nil {
			return err
		}
	}
	if f, ok := w.(interface{ Flush() error }); ok {
		return f.Flush()
	}
	return nil
}

// readMessage reads one frame. An input that ends cleanly before a frame
// is io.EOF; anything that is not a whole, well-formed frame is a
// *ProtocolError quoting what came instead.
func readMessage(r *bufio.Reader) (header, []byte, error) {
	var h header
	start, err := r.Peek(len(magic))
	if len(start) == 0 && err != nil {
		return h, nil, err // io.EOF: the stream ended between frames
	}
	if string(start) != magic {
		return h, nil, &ProtocolError{Msg: fmt.Sprintf("expected a frame (magic %q), got %q", magic, peekText(r))}
	}
	var fixed [len(magic) + 4]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return h, nil, truncated("frame start", err)
	}
	n := binary.LittleEndian.Uint32(fixed[len(magic):])
	if n > maxHeaderBytes {
		return h, nil, &ProtocolError{Msg: fmt.Sprintf("a header of %d bytes (at most %d)", n, maxHeaderBytes)}
	}
	head := make([]byte, n)
	if _, err := io.ReadFull(r, head); err != nil {
		return h, nil, truncated("header", err)
	}
	if err := json.Unmarshal(head, &h); err != nil || h.Type == "" {
		return h, nil, &ProtocolError{Msg: fmt.Sprintf("a header that is not a JSON object with a type: %q", clip(head))}
	}
	var size [8]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return h, nil, truncated("payload length", err)
	}
	p := binary.LittleEndian.Uint64(size[:])
	if p > maxPayload {
		return h, nil, &ProtocolError{Msg: fmt.Sprintf("a payload of %d bytes (at most %d)", p, uint64(maxPayload))}
	}
	payload := make([]byte, p)
	if _, err := io.ReadFull(r, payload); err != nil {
		return h, nil, truncated("payload", err)
	}
	return h, payload, nil
}

func truncated(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &ProtocolError{Msg: "the output ended inside a frame's " + what}
	}
	return err
}

// peekText returns up to 64 bytes of what r has buffered, for a message;
// it does not wait for more.
func peekText(r *bufio.Reader) string {
	b, _ := r.Peek(min(64, r.Buffered()))
	return string(b)
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// encode writes f as a payload in format.
func encode(f *frame.Frame, format Format) ([]byte, error) {
	var buf bytes.Buffer
	// Sized once: growing a buffer of many megabytes doubles, copies and
	// zeroes it over and over, which cost more than the encoding itself.
	buf.Grow(int(f.ByteSize()) + 64<<10)
	switch format {
	case FormatArrow:
		// Views as strings, and no compression: what every reader of the
		// stream reads, dfbatch_model.py without pyarrow included.
		f = f.Unviewed()
		w := ipc.NewWriter(&buf, ipc.WithSchema(f.Schema()))
		if err := w.Write(f.Record()); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
	case FormatCSV:
		w, err := frame.NewCSVWriter(&buf)
		if err != nil {
			return nil, err
		}
		if err := w.Write(f); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown payload format %q; known: arrow, csv", format)
	}
	return buf.Bytes(), nil
}

// decode reads a payload in format as one frame.
func decode(payload []byte, format Format) (*frame.Frame, error) {
	var (
		r   frame.Reader
		err error
	)
	switch format {
	case FormatArrow:
		r, err = frame.NewArrowReader(bytes.NewReader(payload), int64(len(payload)))
	case FormatCSV:
		r, err = frame.NewCSVReader(bytes.NewReader(payload))
	default:
		return nil, fmt.Errorf("unknown payload format %q; known: arrow, csv", format)
	}
	if err != nil {
		return nil, err
	}
	return frame.ReadAll(r)
}
