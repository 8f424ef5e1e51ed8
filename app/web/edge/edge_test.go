package edge_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tet-bookstore/bookstore/app/bookstore"
	"github.com/tet-bookstore/bookstore/app/web/edge"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"plain", "Dune", true},
		{"empty", "", true},
		{"accents and CJK", "Cañón 東京", true},
		{"tab and line breaks", "a\tb\r\nc", true},
		{"at the limit", strings.Repeat("x", edge.MaxField), true},
		{"over the limit", strings.Repeat("x", edge.MaxField+1), false},
		{"invalid UTF-8", "a\xffb", false},
		{"truncated sequence", "caf\xc3", false},
		{"surrogate half encoded", "\xed\xa0\x80", false},
		{"NUL", "a\x00b", false},
		{"escape", "a\x1bb", false},
		{"DEL", "a\x7fb", false},
		{"C1 control", "a\u0085b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := edge.Text("field \"x\"", tt.in, edge.MaxField)
			if tt.ok != (err == nil) {
				t.Fatalf("Text(%.20q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil && (bookstore.ErrorCode(err) != bookstore.EINVALID || !strings.Contains(bookstore.ErrorMessage(err), `field "x"`)) {
				t.Errorf("error %v is not an EINVALID naming the field", err)
			}
		})
	}
}

func TestFormAndQuery(t *testing.T) {
	many := url.Values{}
	for i := range edge.MaxFields + 1 {
		many.Set("f"+strconv.Itoa(i), "v")
	}
	tests := []struct {
		name string
		in   url.Values
		ok   bool
	}{
		{"plain", url.Values{"title": {"Dune"}, "stock": {"3"}}, true},
		{"bad value", url.Values{"title": {"a\xff"}}, false},
		{"bad second value", url.Values{"title": {"ok", "\x00"}}, false},
		{"bad name", url.Values{"ti\xfftle": {"ok"}}, false},
		{"long name", url.Values{strings.Repeat("n", edge.MaxName+1): {"ok"}}, false},
		{"too many fields", many, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := edge.Form(tt.in); tt.ok != (err == nil) {
				t.Errorf("Form = %v, want ok=%v", err, tt.ok)
			}
			if err := edge.Query(tt.in); tt.ok != (err == nil) {
				t.Errorf("Query = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestStringsNamesTheJSONField(t *testing.T) {
	type patch struct {
		Title  *string           `json:"title"`
		Tags   []string          `json:"tags"`
		Meta   map[string]string `json:"meta"`
		Secret string            `json:"-"`
		Count  int               `json:"count"`
	}
	bad := "x\x00"
	tests := []struct {
		name string
		in   any
		want string // "" for accepted
	}{
		{"all fine", &patch{Title: new(string), Tags: []string{"a"}, Meta: map[string]string{"k": "v"}, Count: 1}, ""},
		{"nil pointer", &patch{}, ""},
		{"pointer field", &patch{Title: &bad}, `field "title"`},
		{"slice element", &patch{Tags: []string{"ok", bad}}, `field "tags"`},
		{"map value", &patch{Meta: map[string]string{"k": bad}}, `field "meta"`},
		{"map key", &patch{Meta: map[string]string{bad: "v"}}, `a key of field "meta"`},
		{"ignored field", &patch{Secret: bad}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := edge.Strings(tt.in)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Strings = %v, want accepted", err)
				}
				return
			}
			if err == nil || !strings.Contains(bookstore.ErrorMessage(err), tt.want) {
				t.Fatalf("Strings = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

// FuzzClean: whatever a client sends, what a refused form shows back is
// text the edge accepts, and text it accepted is shown unchanged.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"Dune", "a\xffb", "nul\x00", "caf\xc3", strings.Repeat("é", edge.MaxField/2+1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := edge.Clean(s)
		if err := edge.Text("value", c, edge.MaxField); err != nil {
			t.Fatalf("Clean(%.40q) = %.40q, which Text refuses: %v", s, c, err)
		}
		if edge.Text("value", s, edge.MaxField) == nil && c != s {
			t.Fatalf("Clean changed accepted text %.40q to %.40q", s, c)
		}
		if !utf8.ValidString(c) {
			t.Fatalf("Clean(%.40q) is not UTF-8", s)
		}
	})
}
