// Package edge is what the HTTP edge accepts as text, before any domain rule
// runs: every form field, JSON string, query parameter and header the store
// reads must be valid UTF-8 without control characters (tab, line feed and
// carriage return excepted) and of a sane size. What fails is a 400 with a
// message naming the field, never a database error: MySQL refuses invalid
// UTF-8 and values longer than their column, which would otherwise surface
// as 500s. Domain rules (a title's length, an e-mail's form) stay in the
// domain packages; the limits here only keep out what is not text at all or
// absurdly long.
package edge

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

const (
	// MaxField is the most bytes one form field or JSON string may hold,
	// above every domain limit (a 5,000-character description is at most
	// 20,000 bytes) and below MySQL's TEXT (65,535 bytes).
	MaxField = 32 << 10
	// MaxName is the most bytes of a form field's name.
	MaxName = 64
	// MaxFields is how many fields a form may have; the store's largest has 7.
	MaxFields = 64
	// MaxHeader is the most bytes of a header value the store reads.
	MaxHeader = 4 << 10
)

// Text checks one value, named what in the message.
func Text(what, s string, max int) error {
	if len(s) > max {
		return bookstore.Errorf(bookstore.EINVALID, "%s must be at most %s", what, size(max))
	}
	if !utf8.ValidString(s) {
		return bookstore.Errorf(bookstore.EINVALID, "%s is not valid UTF-8 text", what)
	}
	for _, r := range s {
		if control(r) {
			return bookstore.Errorf(bookstore.EINVALID, "%s must not contain control characters", what)
		}
	}
	return nil
}

// control reports the C0 and C1 controls and DEL, except the whitespace a
// person types (tab, and a textarea's line breaks).
func control(r rune) bool {
	switch r {
	case '\t', '\n', '\r':
		return false
	}
	return r < 0x20 || r >= 0x7f && r < 0xa0
}

func size(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Form checks every field of a parsed form (its names too) and how many
// there are; the first failure is the error.
func Form(v url.Values) error {
	if len(v) > MaxFields {
		return bookstore.Errorf(bookstore.EINVALID, "the form has more than %d fields", MaxFields)
	}
	for name, values := range v {
		if err := Text("a form field's name", name, MaxName); err != nil {
			return err
		}
		for _, s := range values {
			if err := Text(fieldName(name), s, MaxField); err != nil {
				return err
			}
		}
	}
	return nil
}

// Query checks every query parameter.
func Query(v url.Values) error {
	if len(v) > MaxFields {
		return bookstore.Errorf(bookstore.EINVALID, "the query has more than %d parameters", MaxFields)
	}
	for name, values := range v {
		if err := Text("a query parameter's name", name, MaxName); err != nil {
			return err
		}
		for _, s := range values {
			if err := Text("query parameter "+quote(name), s, MaxField); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldName names a form field for people; the name passed Text already or
// is about to be reported, so it is quoted as Go would.
func fieldName(name string) string { return "field " + quote(name) }

func quote(name string) string {
	if len(name) > MaxName || !utf8.ValidString(name) {
		return "?"
	}
	return fmt.Sprintf("%q", name)
}

// Strings checks every string reachable from v, a value JSON was decoded
// into (structs, pointers, slices, maps), naming fields by their JSON name.
func Strings(v any) error { return walk("", reflect.ValueOf(v)) }

func walk(path string, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return walk(path, v.Elem())
	case reflect.String:
		what := "field " + quote(path)
		if path == "" {
			what = "the value"
		}
		return Text(what, v.String(), MaxField)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if err := walk(join(path, name), v.Field(i)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := walk(path, v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if it.Key().Kind() == reflect.String {
				if err := Text("a key of field "+quote(path), it.Key().String(), MaxName); err != nil {
					return err
				}
			}
			if err := walk(path, it.Value()); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Clean is s as it may be shown back in a form: invalid bytes and control
// characters replaced by U+FFFD and cut to MaxField at a character
// boundary, so a refused value never breaks the page it is shown on. Text
// accepts whatever Clean returns.
func Clean(s string) string {
	if len(s) > 2*MaxField {
		s = s[:2*MaxField] // the rest is cut below anyway
	}
	s = strings.Map(func(r rune) rune {
		if control(r) {
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) > MaxField {
		cut := MaxField
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
