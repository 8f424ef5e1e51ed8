package pages

import (
	"strconv"
	"strings"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// ParsePrice reads a price typed by a person ("12", "12.5", "12.50",
// "$12.50") into cents. The decimal text is split and read as integers, never
// through a float, so 0.29 is 29 cents and not 28.999…. Commas are refused
// rather than guessed at: "12,50" is 12.50 in much of the world and 1250 in
// the rest.
func ParsePrice(s string) (int64, error) {
	bad := bookstore.Errorf(bookstore.EINVALID, "price must be an amount like 12.50: digits, at most two decimals, not negative")
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "$"))
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || !digits(whole) {
		return 0, bad
	}
	if hasDot && (frac == "" || len(frac) > 2 || !digits(frac)) {
		return 0, bad
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, bad
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, bad
	}
	return w*100 + f, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatPrice shows cents as dollars for people: 1250 → "$12.50",
// 123456 → "$1,234.56".
func FormatPrice(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	whole := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	b.Grow(len(whole) + 8)
	b.WriteString(sign)
	b.WriteByte('$')
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	b.WriteByte('.')
	frac := cents % 100
	b.WriteByte(byte('0' + frac/10))
	b.WriteByte(byte('0' + frac%10))
	return b.String()
}

// plainPrice is the form of a price an edit field starts with: 1250 → "12.50",
// which ParsePrice reads back to the same cents.
func plainPrice(cents int64) string {
	return strconv.FormatInt(cents/100, 10) + "." + strconv.FormatInt(cents%100/10, 10) + strconv.FormatInt(cents%10, 10)
}
