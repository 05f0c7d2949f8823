package registry

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"time"
)

// Duration is a deployed timeout. In deployment.json it is a Go duration
// string ("90s", "1h30m") or a number of seconds, the unit of the batch
// platform's Python client (BatchInferenceClient), so that its
// configurations carry over unchanged. It converts to a
// time.Duration with time.Duration(d).
type Duration time.Duration

// durationWant says how a Duration is written, for errors.
const durationWant = `a duration such as "90s" or "1h30m", or a number of seconds`

// UnmarshalJSON reads a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(data []byte) error {
	text := string(data)
	if text == "null" {
		return nil // as encoding/json leaves other fields given null
	}
	// A *json.UnmarshalTypeError, unlike other errors, gets the field's
	// path added by the decoder.
	bad := &json.UnmarshalTypeError{Value: jsonKind(text), Type: reflect.TypeFor[Duration]()}
	if text[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			bad.Value = "string " + text
			return bad
		}
		*d = Duration(v)
		return nil
	}
	seconds, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return bad
	}
	if math.Abs(seconds) > float64(math.MaxInt64)/float64(time.Second) {
		bad.Value = "number " + text + " (too long)"
		return bad
	}
	*d = Duration(seconds * float64(time.Second))
	return nil
}

// MarshalJSON writes the duration as a string, so that a written
// configuration reads back the same.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// String formats d as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// jsonKind names the kind of a JSON value as encoding/json's errors do.
func jsonKind(text string) string {
	switch text[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	default:
		return "number " + text
	}
}
