package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Role is which process reads the configuration.
type Role string

// The store's processes: the monolith, or one of the three services.
const (
	Monolith        Role = "monolith"
	AuthService     Role = "auth"
	CatalogService  Role = "catalog"
	PurchaseService Role = "purchase"
)

// ownsAccounts: the processes that create the admin account.
func (r Role) ownsAccounts() bool { return r.monolith() || r == AuthService }

// monolith: a Config built in code without a Role is the monolith's.
func (r Role) monolith() bool { return r == Monolith || r == "" }

// Services is what the microservices need to find and trust one another.
type Services struct {
	AuthURL     string // BOOKSTORE_AUTH_URL: http://auth:8080
	CatalogURL  string // BOOKSTORE_CATALOG_URL
	PurchaseURL string // BOOKSTORE_PURCHASE_URL
	// ServiceKeyFile is this service's own Ed25519 key (PKCS#8 PEM), which
	// signs its calls to the others (BOOKSTORE_SERVICE_PRIVATE_KEY_FILE).
	ServiceKeyFile string
	// ServicePublicKeyFiles are the other services' public keys (PKIX PEM),
	// which calls from them are verified with
	// (BOOKSTORE_AUTH_SERVICE_PUBLIC_KEY_FILE, …_CATALOG_…, …_PURCHASE_…).
	// A service's own entry, if set, is not used.
	ServicePublicKeyFiles map[Role]string
	// LegacyServiceToken records that the retired BOOKSTORE_SERVICE_TOKEN
	// is still set, which is refused rather than silently ignored.
	LegacyServiceToken bool
	// TokenPublicKeyFile verifies users' signed tokens (every service);
	// TokenPrivateKeyFile signs them (auth only).
	TokenPublicKeyFile  string        // BOOKSTORE_TOKEN_PUBLIC_KEY_FILE
	TokenPrivateKeyFile string        // BOOKSTORE_TOKEN_PRIVATE_KEY_FILE
	TokenTTL            time.Duration // BOOKSTORE_TOKEN_TTL: lifetime of a signed token, default 15m
}

// ServiceRoles are the three services, which call one another.
var ServiceRoles = []Role{AuthService, CatalogService, PurchaseService}

// ServicePublicKeyVar is the setting holding role's service public key.
func ServicePublicKeyVar(role Role) string {
	return "BOOKSTORE_" + strings.ToUpper(string(role)) + "_SERVICE_PUBLIC_KEY_FILE"
}

// ServiceKeyVar is the setting holding a service's own key.
const ServiceKeyVar = "BOOKSTORE_SERVICE_PRIVATE_KEY_FILE"

// DefaultTokenTTL keeps a stolen token useful for minutes only; browsers
// renew theirs while the session lasts.
const DefaultTokenTTL = 15 * time.Minute

func readServices(r *reader, role Role) Services {
	if role.monolith() {
		return Services{}
	}
	s := Services{
		AuthURL:             r.str("BOOKSTORE_AUTH_URL", ""),
		CatalogURL:          r.str("BOOKSTORE_CATALOG_URL", ""),
		PurchaseURL:         r.str("BOOKSTORE_PURCHASE_URL", ""),
		TokenPublicKeyFile:  r.str("BOOKSTORE_TOKEN_PUBLIC_KEY_FILE", ""),
		TokenPrivateKeyFile: r.str("BOOKSTORE_TOKEN_PRIVATE_KEY_FILE", ""),
		TokenTTL:            r.duration("BOOKSTORE_TOKEN_TTL", DefaultTokenTTL),
	}
	s.ServiceKeyFile = r.str(ServiceKeyVar, "")
	s.ServicePublicKeyFiles = map[Role]string{}
	for _, other := range ServiceRoles {
		if v := r.str(ServicePublicKeyVar(other), ""); v != "" {
			s.ServicePublicKeyFiles[other] = v
		}
	}
	_, s.LegacyServiceToken = r.raw("BOOKSTORE_SERVICE_TOKEN")
	return s
}

func (s Services) validate(role Role) []error {
	if role.monolith() {
		return nil
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, u := range []struct{ name, v string }{
		{"BOOKSTORE_AUTH_URL", s.AuthURL}, {"BOOKSTORE_CATALOG_URL", s.CatalogURL}, {"BOOKSTORE_PURCHASE_URL", s.PurchaseURL},
	} {
		p, err := url.Parse(u.v)
		if u.v == "" || err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("%s must be the service's base URL, like http://HOST:PORT (got %q)", u.name, u.v)
		}
	}
	if s.LegacyServiceToken {
		bad("BOOKSTORE_SERVICE_TOKEN (or BOOKSTORE_SERVICE_TOKEN_FILE) is no longer read: each service signs its calls with a key of its own; "+
			"unset it and set %s and the other services' %s (`bookstore keygen --service NAME` makes each pair)", ServiceKeyVar, ServicePublicKeyVar("NAME"))
	}
	if s.ServiceKeyFile == "" {
		bad("%s is required: the %s service's own key, which replaces the shared BOOKSTORE_SERVICE_TOKEN (create it with `bookstore keygen --service %s --out DIR`)", ServiceKeyVar, role, role)
	}
	for _, other := range ServiceRoles {
		if other != role && s.ServicePublicKeyFiles[other] == "" {
			bad("%s is required: the %s service's public key, which calls from it are verified with (`bookstore keygen --service %s`)", ServicePublicKeyVar(other), other, other)
		}
	}
	if s.TokenPublicKeyFile == "" {
		bad("BOOKSTORE_TOKEN_PUBLIC_KEY_FILE is required (create a key pair with `bookstore keygen`)")
	}
	if role == AuthService && s.TokenPrivateKeyFile == "" {
		bad("BOOKSTORE_TOKEN_PRIVATE_KEY_FILE is required by the auth service (create a key pair with `bookstore keygen`)")
	}
	if s.TokenTTL < time.Minute || s.TokenTTL > 24*time.Hour {
		bad("BOOKSTORE_TOKEN_TTL must be between 1m and 24h")
	}
	return errs
}

// fileLookup answers BOOKSTORE_X from the file named by BOOKSTORE_X_FILE
// when BOOKSTORE_X itself is unset.
type fileLookup struct {
	lookup func(string) (string, bool)
	errs   []error
}

func (f *fileLookup) get(name string) (string, bool) {
	if v, ok := f.lookup(name); ok && v != "" {
		return v, true
	}
	path, ok := f.lookup(name + "_FILE")
	if !ok || strings.TrimSpace(path) == "" {
		return "", false
	}
	b, err := os.ReadFile(strings.TrimSpace(path))
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		f.errs = append(f.errs, fmt.Errorf("%s_FILE=%q: %v", name, path, err))
		return "", false
	}
	// A secret file usually ends with a newline nobody meant as part of it.
	return strings.TrimRight(string(b), "\r\n"), true
}
