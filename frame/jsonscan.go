package frame

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonKind is the kind of a JSON value.
type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonInt   // a number without fraction or exponent
	jsonFloat // any other number, NaN, Infinity or -Infinity
	jsonString
	jsonNested // an object or an array
)

// jsonValue is a value of a line: a string's text, unescaped, or any other
// value as it is written.
type jsonValue struct {
	kind jsonKind
	text []byte
	num  jsonNumber // of jsonInt and jsonFloat values but NaN and Infinity
}

func (v jsonValue) cellKind() cellKind {
	switch v.kind {
	case jsonNull:
		return kindMissing
	case jsonBool:
		return kindBool
	case jsonInt:
		if _, ok := v.num.int(); !ok {
			return kindFloat
		}
		return kindInt
	case jsonFloat:
		return kindFloat
	}
	return kindString
}

// describe names the value for an error message.
func (v jsonValue) describe() string {
	text := string(v.text)
	if len(text) > 40 {
		text = strings.ToValidUTF8(text[:37], "") + "..."
	}
	switch v.kind {
	case jsonString:
		return "the string " + strconv.Quote(text)
	case jsonNested:
		if v.text[0] == '[' {
			return "the array " + text
		}
		return "the object " + text
	case jsonBool:
		return text
	}
	return "the number " + text
}

// maxJSONDepth bounds the nesting of a value, so that a line of a million
// brackets is an error, not a deep recursion.
const maxJSONDepth = 1000

// jsonScanner parses one line at a time. It checks JSON's grammar as
// strictly as encoding/json does, but takes NaN, Infinity and -Infinity
// for numbers, as Python's json module writes them, and refuses strings
// that are not valid UTF-8.
type jsonScanner struct {
	b   []byte
	pos int
	// key and str hold the unescaped text of a key and of a string value.
	key, str []byte
	// num is the last number's value.
	num jsonNumber
}

type jsonSyntaxError struct {
	pos int
	msg string
}

func (e *jsonSyntaxError) Error() string {
	return fmt.Sprintf("not a JSON object: byte %d: %s", e.pos+1, e.msg)
}

func (s *jsonScanner) errorf(format string, args ...any) error {
	return &jsonSyntaxError{pos: s.pos, msg: fmt.Sprintf(format, args...)}
}

// object parses line, which must hold one JSON object and nothing else,
// calling field with each key and value in turn; both are valid until
// field returns.
func (s *jsonScanner) object(line []byte, field func(key []byte, v jsonValue) error) error {
	s.b, s.pos = line, 0
	s.space()
	if s.pos == len(s.b) || s.b[s.pos] != '{' {
		switch {
		case s.pos < len(s.b) && s.b[s.pos] == '[':
			return s.errorf("an array; JSON Lines holds one object per line (pandas: to_json(orient=\"records\", lines=True))")
		case bytes.HasSuffix(bytes.TrimRight(line, " \t\r\n"), []byte("{")):
			return s.errorf("an object spread over lines; JSON Lines holds one object per line")
		}
		return s.errorf("want '{': each line holds one JSON object")
	}
	s.pos++
	s.space()
	if s.pos < len(s.b) && s.b[s.pos] == '}' {
		s.pos++
	} else {
		for {
			if s.pos == len(s.b) || s.b[s.pos] != '"' {
				if s.pos == len(s.b) {
					return s.errorf("the line ends inside the object; JSON Lines holds one object per line")
				}
				return s.errorf("want a key in double quotes")
			}
			key, err := s.string(&s.key)
			if err != nil {
				return err
			}
			s.space()
			if s.pos == len(s.b) || s.b[s.pos] != ':' {
				return s.errorf("want ':' after the key %q", key)
			}
			s.pos++
			s.space()
			v, err := s.value(0)
			if err != nil {
				return err
			}
			if err := field(key, v); err != nil {
				return err
			}
			s.space()
			if s.pos < len(s.b) && s.b[s.pos] == ',' {
				s.pos++
				s.space()
				continue
			}
			if s.pos < len(s.b) && s.b[s.pos] == '}' {
				s.pos++
				break
			}
			if s.pos == len(s.b) {
				return s.errorf("the line ends inside the object; JSON Lines holds one object per line")
			}
			return s.errorf("want ',' or '}' after the value of %q", key)
		}
	}
	s.space()
	if s.pos != len(s.b) {
		return s.errorf("text after the object; JSON Lines holds one object per line")
	}
	return nil
}

func (s *jsonScanner) space() {
	for s.pos < len(s.b) {
		switch s.b[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// value parses the value at s.pos.
func (s *jsonScanner) value(depth int) (jsonValue, error) {
	if s.pos == len(s.b) {
		return jsonValue{}, s.errorf("want a value")
	}
	start := s.pos
	switch c := s.b[s.pos]; {
	case c == '"':
		str, err := s.string(&s.str)
		return jsonValue{kind: jsonString, text: str}, err
	case c == '-' || c >= '0' && c <= '9':
		kind, err := s.number()
		return jsonValue{kind: kind, text: s.b[start:s.pos], num: s.num}, err
	case c == '{' || c == '[':
		if err := s.skipNested(depth); err != nil {
			return jsonValue{}, err
		}
		return jsonValue{kind: jsonNested, text: s.b[start:s.pos]}, nil
	case c == 't':
		return s.literal("true", jsonBool)
	case c == 'f':
		return s.literal("false", jsonBool)
	case c == 'n':
		return s.literal("null", jsonNull)
	case c == 'N':
		v, err := s.literal("NaN", jsonFloat)
		v.num.big = true // for ParseFloat to read
		return v, err
	case c == 'I':
		v, err := s.literal("Infinity", jsonFloat)
		v.num.big = true
		return v, err
	}
	return jsonValue{}, s.errorf("want a value, found %q", rune(s.b[s.pos]))
}

// literal parses word, a value of kind.
func (s *jsonScanner) literal(word string, kind jsonKind) (jsonValue, error) {
	if !bytes.HasPrefix(s.b[s.pos:], []byte(word)) {
		return jsonValue{}, s.errorf("want a value, found %q", rest(s.b[s.pos:]))
	}
	s.pos += len(word)
	return jsonValue{kind: kind, text: s.b[s.pos-len(word) : s.pos]}, nil
}

// rest is the start of b, for an error message.
func rest(b []byte) string {
	if len(b) > 10 {
		b = b[:10]
	}
	return strings.ToValidUTF8(string(b), "")
}

// number parses a number: JSON's -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?,
// or -Infinity. On the way it gathers the number's digits into
// s.num, for the appenders to skip parsing its text again.
func (s *jsonScanner) number() (jsonKind, error) {
	b := s.b
	s.num = jsonNumber{}
	n := &s.num
	if b[s.pos] == '-' {
		n.neg = true
		s.pos++
		if s.pos < len(b) && b[s.pos] == 'I' {
			_, err := s.literal("Infinity", jsonFloat)
			n.big = true
			return jsonFloat, err
		}
	}
	switch {
	case s.pos == len(b) || b[s.pos] < '0' || b[s.pos] > '9':
		return 0, s.errorf("want a digit in a number")
	case b[s.pos] == '0':
		s.pos++
	default:
		s.digits(false)
	}
	kind := jsonInt
	if s.pos < len(b) && b[s.pos] == '.' {
		s.pos++
		if s.digits(true) == 0 {
			return 0, s.errorf("want a digit after a number's '.'")
		}
		kind = jsonFloat
	}
	if s.pos < len(b) && (b[s.pos] == 'e' || b[s.pos] == 'E') {
		s.pos++
		neg := false
		if s.pos < len(b) && (b[s.pos] == '+' || b[s.pos] == '-') {
			neg = b[s.pos] == '-'
			s.pos++
		}
		start, exp := s.pos, 0
		for s.pos < len(b) && b[s.pos] >= '0' && b[s.pos] <= '9' {
			exp = min(exp*10+int(b[s.pos]-'0'), 1<<20)
			s.pos++
		}
		if s.pos == start {
			return 0, s.errorf("want a digit in a number's exponent")
		}
		if neg {
			exp = -exp
		}
		n.exp += exp
		kind = jsonFloat
	}
	return kind, nil
}

// digits scans digits into s.num's mantissa, those of a fraction
// lowering its exponent; it returns how many there were.
func (s *jsonScanner) digits(fraction bool) int {
	start, n := s.pos, &s.num
	for s.pos < len(s.b) && s.b[s.pos] >= '0' && s.b[s.pos] <= '9' {
		if n.mant > (math.MaxUint64-9)/10 {
			n.big = true
		} else {
			n.mant = n.mant*10 + uint64(s.b[s.pos]-'0')
			if fraction {
				n.exp--
			}
		}
		s.pos++
	}
	return s.pos - start
}

// jsonNumber is a number's value as mant × 10^exp, negative if neg, unless
// big says its digits overflowed mant.
type jsonNumber struct {
	mant uint64
	exp  int
	neg  bool
	big  bool
}

// pow10 are the powers of ten that float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// float returns the number as a float64 if one multiplication or division
// of exact values makes it, correctly rounded (Clinger's fast path, which
// most numbers written with up to 15 digits take).
func (n jsonNumber) float() (float64, bool) {
	if n.big || n.mant > 1<<53 || n.exp < -22 || n.exp > 22 {
		return 0, false
	}
	f := float64(n.mant)
	if n.exp < 0 {
		f /= pow10[-n.exp]
	} else {
		f *= pow10[n.exp]
	}
	if n.neg {
		f = -f
	}
	return f, true
}

// int returns an integer's value if it fits an int64.
func (n jsonNumber) int() (int64, bool) {
	switch {
	case n.big || n.exp != 0:
		return 0, false
	case n.mant <= math.MaxInt64 && n.neg:
		return -int64(n.mant), true
	case n.mant <= math.MaxInt64:
		return int64(n.mant), true
	case n.neg && n.mant == 1<<63:
		return math.MinInt64, true
	}
	return 0, false
}

// string parses the string at s.pos and returns its text: a slice of the
// line, or, when it has escapes, of *buf.
func (s *jsonScanner) string(buf *[]byte) ([]byte, error) {
	s.pos++ // the opening quote
	start, ascii := s.pos, true
	for s.pos < len(s.b) {
		c := s.b[s.pos]
		switch {
		case c == '"':
			text := s.b[start:s.pos]
			s.pos++
			if !ascii && !utf8.Valid(text) {
				return nil, s.errorf("a string that is not valid UTF-8")
			}
			return text, nil
		case c == '\\':
			return s.unescape(buf, start)
		case c < 0x20:
			return nil, s.errorf("a control character in a string: JSON writes it escaped")
		case c >= 0x80:
			ascii = false
		}
		s.pos++
	}
	return nil, s.errorf("the line ends inside a string")
}

// unescape parses the rest of a string that has escapes, from start, its
// first byte, into *buf.
func (s *jsonScanner) unescape(buf *[]byte, start int) ([]byte, error) {
	out := append((*buf)[:0], s.b[start:s.pos]...)
	defer func() { *buf = out[:0] }()
	for s.pos < len(s.b) {
		c := s.b[s.pos]
		switch {
		case c == '"':
			s.pos++
			if !utf8.Valid(out) {
				return nil, s.errorf("a string that is not valid UTF-8")
			}
			return out, nil
		case c < 0x20:
			return nil, s.errorf("a control character in a string: JSON writes it escaped")
		case c != '\\':
			out = append(out, c)
			s.pos++
			continue
		}
		if s.pos+1 == len(s.b) {
			break
		}
		s.pos++
		switch e := s.b[s.pos]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4(s.pos + 1)
			if !ok {
				return nil, s.errorf(`want 4 hex digits after \u`)
			}
			s.pos += 4
			if utf16IsSurrogate(r) {
				// A pair makes one rune; a lone surrogate is U+FFFD, as
				// encoding/json reads it.
				r2, ok := rune(0), false
				if s.pos+2 < len(s.b) && s.b[s.pos+1] == '\\' && s.b[s.pos+2] == 'u' {
					r2, ok = s.hex4(s.pos + 3)
				}
				if ok && r < 0xdc00 && r2 >= 0xdc00 && r2 < 0xe000 {
					r = (r-0xd800)<<10 + (r2 - 0xdc00) + 0x10000
					s.pos += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, s.errorf(`an unknown escape \%s in a string`, rest(s.b[s.pos:s.pos+1]))
		}
		s.pos++
	}
	return nil, s.errorf("the line ends inside a string")
}

func utf16IsSurrogate(r rune) bool { return r >= 0xd800 && r < 0xe000 }

// hex4 reads 4 hex digits at i.
func (s *jsonScanner) hex4(i int) (rune, bool) {
	if i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skipNested parses the object or array at s.pos, checking its grammar.
func (s *jsonScanner) skipNested(depth int) error {
	if depth >= maxJSONDepth {
		return s.errorf("values nested deeper than %d levels", maxJSONDepth)
	}
	open := s.b[s.pos]
	closing := byte('}')
	if open == '[' {
		closing = ']'
	}
	s.pos++
	s.space()
	if s.pos < len(s.b) && s.b[s.pos] == closing {
		s.pos++
		return nil
	}
	for {
		if open == '{' {
			if s.pos == len(s.b) || s.b[s.pos] != '"' {
				return s.errorf("want a key in double quotes")
			}
			if _, err := s.string(&s.str); err != nil {
				return err
			}
			s.space()
			if s.pos == len(s.b) || s.b[s.pos] != ':' {
				return s.errorf("want ':' after a key")
			}
			s.pos++
			s.space()
		}
		if _, err := s.value(depth + 1); err != nil {
			return err
		}
		s.space()
		if s.pos == len(s.b) {
			return s.errorf("the line ends inside a nested value")
		}
		switch s.b[s.pos] {
		case ',':
			s.pos++
			s.space()
		case closing:
			s.pos++
			return nil
		default:
			return s.errorf("want ',' or %q in a nested value", closing)
		}
	}
}
