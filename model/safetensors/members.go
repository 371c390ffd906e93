package safetensors

import (
	"encoding/json"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The header is scanned member by member (members), so that a header of
// many entries is never held twice: encoding/json's map of raw values
// would copy every one of them.

// members calls f with each member of the JSON object b, in order: its
// key and its value, both raw JSON and aliasing b. b must be valid JSON
// (json.Valid): members trusts its structure. It stops at f's first error.
func members(b []byte, f func(key, value []byte) error) error {
	i := skipSpace(b, 1) // after '{'
	if b[i] == '}' {
		return nil
	}
	for {
		k := i
		i = skipString(b, i)
		key := b[k:i]
		i = skipSpace(b, i) + 1 // past ':'
		i = skipSpace(b, i)
		v := i
		i = skipValue(b, i)
		if err := f(key, b[v:i]); err != nil {
			return err
		}
		i = skipSpace(b, i)
		if b[i] == '}' {
			return nil
		}
		i = skipSpace(b, i+1) // past ','
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i] ('"').
func skipString(b []byte, i int) int {
	for i++; ; i++ {
		switch b[i] {
		case '\\':
			i++ // the escaped byte cannot end the string
		case '"':
			return i + 1
		}
	}
}

// skipValue returns the index after the value that starts at b[i].
func skipValue(b []byte, i int) int {
	depth := 0
	for {
		switch c := b[i]; {
		case c == '"':
			i = skipString(b, i)
			if depth == 0 {
				return i
			}
			continue
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		case depth == 0: // a number, true, false or null
			for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
				i++
			}
			return i
		}
		i++
	}
}

// stringMap decodes __metadata__, a JSON object of strings, holding each
// value once: encoding/json unescapes a string into a buffer and then
// copies it, twice the memory of a large value at once.
func stringMap(b []byte) (map[string]string, error) {
	bad := &FormatError{Offset: 8, Msg: "__metadata__ must map strings to strings"}
	if b[0] != '{' {
		if string(b) == "null" {
			return nil, nil
		}
		return nil, bad
	}
	m := map[string]string{}
	err := members(b, func(key, value []byte) error {
		if value[0] != '"' {
			return bad
		}
		k, v := unquote(key), unquote(value)
		if _, dup := m[k]; dup {
			return &FormatError{Offset: 8, Msg: "__metadata__ has the key " + strconvQuote(k) + " twice"}
		}
		m[k] = v
		return nil
	})
	return m, err
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s[:min(len(s), 100)])
	return string(b)
}

// unquote is the string a valid JSON string literal b (quotes included)
// stands for, built in one allocation of at most len(b) bytes. Lone
// surrogates become U+FFFD, as encoding/json makes them.
func unquote(b []byte) string {
	b = b[1 : len(b)-1]
	var s strings.Builder
	s.Grow(len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			s.WriteByte(c)
			continue
		}
		i++
		switch b[i] {
		case 'b':
			s.WriteByte('\b')
		case 'f':
			s.WriteByte('\f')
		case 'n':
			s.WriteByte('\n')
		case 'r':
			s.WriteByte('\r')
		case 't':
			s.WriteByte('\t')
		case 'u':
			r := hex4(b[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
					r2 = hex4(b[i+3 : i+7])
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			s.WriteRune(r)
		default: // '"', '\\', '/'
			s.WriteByte(b[i])
		}
	}
	return s.String()
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
