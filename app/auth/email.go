package auth

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/precis"

	"github.com/tet-bookstore/bookstore/app/bookstore"
)

// MaxEmailLength is the longest address stored (RFC 5321's path limit,
// counted in characters of the normalised form).
const MaxEmailLength = 254

// NormalizeEmail returns the one spelling of an e-mail address that is
// stored and compared, so addresses a person reads as the same are one
// account: trimmed, and
//   - the local part through PRECIS UsernameCaseMapped (RFC 8265): full- and
//     half-width forms folded, lower-cased, NFC, and refused when it holds
//     what is not an identifier: spaces, symbols outside ASCII, and
//     default-ignorable or format characters such as U+00AD SOFT HYPHEN,
//     which would make two addresses that look alike differ;
//   - the domain through IDNA's lookup profile (UTS 46 mapping, as
//     browsers resolve names), kept in its Unicode form, each label at most
//     63 bytes and the whole at most 253 as ASCII (punycode).
//
// The result must then be a plain RFC 5322 address (no display name, no
// quoted local part) whose domain has a dot. It is idempotent: a normalised
// address normalises to itself.
func NormalizeEmail(s string) (string, error) {
	invalid := bookstore.Errorf(bookstore.EINVALID, "e-mail address is not valid")
	s = strings.TrimSpace(s)
	if len(s) > 4*MaxEmailLength || !utf8.ValidString(s) {
		return "", invalid
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 {
		return "", invalid
	}
	local, err := precis.UsernameCaseMapped.String(s[:at])
	if err != nil {
		return "", invalid
	}
	ascii, err := idna.Lookup.ToASCII(s[at+1:])
	if err != nil || !dnsLengths(ascii) || !strings.Contains(ascii, ".") {
		return "", invalid
	}
	domain, err := idna.Lookup.ToUnicode(ascii)
	if err != nil {
		return "", invalid
	}
	// net/mail judges the syntax on the ASCII domain; the local part may
	// be UTF-8 (RFC 6532).
	if addr, err := mail.ParseAddress(local + "@" + ascii); err != nil || addr.Name != "" || addr.Address != local+"@"+ascii {
		return "", invalid
	}
	email := local + "@" + domain
	if utf8.RuneCountInString(email) > MaxEmailLength {
		return "", invalid
	}
	return email, nil
}

// dnsLengths: every label 1 to 63 bytes, the name at most 253.
func dnsLengths(ascii string) bool {
	if len(ascii) > 253 {
		return false
	}
	for _, label := range strings.Split(ascii, ".") {
		if len(label) < 1 || len(label) > 63 {
			return false
		}
	}
	return true
}
