// Package config reads the bookstore's settings from BOOKSTORE_* environment
// variables into one typed, validated struct, so a bad value stops start-up
// with a message naming the variable instead of surfacing later.
package config

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// DevAdminPassword is the admin password used when none is configured, only
// with SQLite outside production, so `make run` works with no setup. It is
// documented in the README and must never protect real data.
const DevAdminPassword = "bookstore-admin"

// Config is everything the monolith needs to start.
type Config struct {
	Env             string         // BOOKSTORE_ENV: "development" (default) or "production"
	Addr            string         // BOOKSTORE_ADDR: listen address
	DBDSN           string         // BOOKSTORE_DB_DSN: sqlite:PATH or mysql://USER:PASS@HOST:PORT/DBNAME
	UploadsDir      string         // BOOKSTORE_UPLOADS_DIR: covers go under DIR/covers
	AdminEmail      string         // BOOKSTORE_ADMIN_EMAIL
	AdminPassword   string         // BOOKSTORE_ADMIN_PASSWORD
	SeedDemo        bool           // BOOKSTORE_SEED_DEMO: demo seller and books when the catalog is empty
	TrustedProxies  []netip.Prefix // BOOKSTORE_TRUSTED_PROXIES: peers whose X-Forwarded-* headers are believed ("none": nobody)
	LogLevel        slog.Level     // BOOKSTORE_LOG_LEVEL: debug, info, warn, error
	ShutdownTimeout time.Duration  // BOOKSTORE_SHUTDOWN_TIMEOUT: how long in-flight requests get to finish
	DrainDelay      time.Duration  // BOOKSTORE_DRAIN_DELAY: /readyz answers 503 this long before the listener closes
	BcryptCost      int            // BOOKSTORE_BCRYPT_COST: 0 means bcrypt's default
	HTTPSOnly       bool           // BOOKSTORE_HTTPS_ONLY: browsers only reach the store over HTTPS (cookies always Secure)
	// ReconcileInterval and ReconcileAfter: how often reservations a crash
	// left pending are repaired, and how old they must be first
	// (BOOKSTORE_RECONCILE_INTERVAL, default 1m; BOOKSTORE_RECONCILE_AFTER,
	// default 2m, longer than any purchase request may take).
	ReconcileInterval time.Duration
	ReconcileAfter    time.Duration
	// PaymentWindow: how long a purchase may stay unpaid before the
	// reconciler cancels it and releases its stock
	// (BOOKSTORE_PAYMENT_WINDOW, default 30m). MaxOpenOrders: how many
	// unpaid purchases one buyer may hold (BOOKSTORE_MAX_OPEN_ORDERS,
	// default 5).
	PaymentWindow time.Duration
	MaxOpenOrders int
	// SignupsPerAddress bounds the accounts created from one client address
	// in 15 minutes (BOOKSTORE_SIGNUPS_PER_ADDRESS, default 10; 0 in code
	// takes the default).
	SignupsPerAddress int
	// CSRFSecret keys the CSRF tokens of every instance and service
	// (BOOKSTORE_CSRF_SECRET, at least 32 characters). Unset, the monolith
	// keeps a random key in its database; the services require it.
	CSRFSecret string
	// MaxBooksPerHour and MaxUploadBytesPerHour are each user's quotas
	// (BOOKSTORE_MAX_BOOKS_PER_HOUR, BOOKSTORE_MAX_UPLOAD_BYTES_PER_HOUR;
	// 0: no limit), counted in the database so every instance shares them.
	MaxBooksPerHour       int64
	MaxUploadBytesPerHour int64
	// MetricsAddr is where /metrics is served, apart from the public
	// listener (BOOKSTORE_METRICS_ADDR, e.g. 127.0.0.1:9090; default "off":
	// nowhere, so instances sharing a host never fight over a port). Empty
	// (a Config built in code, tests) keeps it on the main handler.
	MetricsAddr string
	// HSTS makes the app send Strict-Transport-Security itself on HTTPS
	// requests (BOOKSTORE_HSTS): only when nothing in front (the TLS proxy)
	// sends it already.
	HSTS bool

	// Role is which process this is: the monolith, or one service.
	Role Role
	// Services is what the microservices need besides the above.
	Services Services

	// Logger is not read from the environment: the command sets it, tests
	// may too. nil means slog.Default().
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultAddr            = "127.0.0.1:8080"
	DefaultDSN             = "sqlite:data/bookstore.db"
	DefaultUploadsDir      = "data/uploads"
	DefaultAdminEmail      = "admin@bookstore.local"
	DefaultShutdownTimeout = 20 * time.Second
	// DefaultDrainDelay gives load balancers time to see /readyz fail and
	// stop sending new requests before the listener closes.
	DefaultDrainDelay = 5 * time.Second
	// DefaultReconcileInterval and DefaultReconcileAfter: see Config.
	DefaultReconcileInterval = time.Minute
	DefaultReconcileAfter    = 2 * time.Minute
	// DefaultPaymentWindow and DefaultMaxOpenOrders: see Config.
	DefaultPaymentWindow = 30 * time.Minute
	DefaultMaxOpenOrders = 5
	// DefaultSignupsPerAddress: see Config.SignupsPerAddress.
	DefaultSignupsPerAddress = 10
	// MinCSRFSecret is the shortest BOOKSTORE_CSRF_SECRET accepted.
	MinCSRFSecret = 32
	// DefaultMaxBooksPerHour and DefaultMaxUploadBytesPerHour: see Config.
	DefaultMaxBooksPerHour       = 60
	DefaultMaxUploadBytesPerHour = 20 << 20
	// DefaultMetricsAddr opens no metrics port: an operator who scrapes
	// picks one (loopback or a private address no proxy routes to).
	DefaultMetricsAddr = "off"
)

// DefaultTrustedProxies is loopback: a proxy (NGINX) on the same machine.
var DefaultTrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// Production reports whether BOOKSTORE_ENV=production.
func (c Config) Production() bool { return c.Env == "production" }

// Reconciling returns the reconciler's interval and age, defaults for zeros.
func (c Config) Reconciling() (interval, after time.Duration) {
	interval, after = c.ReconcileInterval, c.ReconcileAfter
	if interval == 0 {
		interval = DefaultReconcileInterval
	}
	if after == 0 {
		after = DefaultReconcileAfter
	}
	return interval, after
}

// Orders returns the payment window and the most unpaid purchases a buyer
// may hold, defaults for zeros.
func (c Config) Orders() (window time.Duration, maxOpen int) {
	window, maxOpen = c.PaymentWindow, c.MaxOpenOrders
	if window == 0 {
		window = DefaultPaymentWindow
	}
	if maxOpen == 0 {
		maxOpen = DefaultMaxOpenOrders
	}
	return window, maxOpen
}

// CSRFKey is the key CSRF tokens are signed with, derived (HMAC-SHA256 with
// a fixed label, so it reveals nothing of the secret) from CSRFSecret; nil
// for the monolith without one, which keeps its key in its database. The
// services share no database and no other secret (each has its own service
// key), and a page of one posts to another, so they require CSRFSecret.
func (c Config) CSRFKey() []byte {
	secret := c.CSRFSecret
	if secret == "" {
		return nil
	}
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte("bookstore csrf key v1"))
	return h.Sum(nil)
}

// Signups returns SignupsPerAddress, the default for zero.
func (c Config) Signups() int {
	if c.SignupsPerAddress == 0 {
		return DefaultSignupsPerAddress
	}
	return c.SignupsPerAddress
}

// SQLite reports whether the database is the embedded SQLite.
func (c Config) SQLite() bool { return strings.HasPrefix(c.DBDSN, "sqlite:") }

// FromEnv reads the monolith's configuration from the process environment.
func FromEnv() (Config, error) { return Load(Monolith, os.LookupEnv) }

// FromLookup reads the monolith's configuration through lookup.
func FromLookup(lookup func(string) (string, bool)) (Config, error) { return Load(Monolith, lookup) }

// Load reads the configuration of a role through lookup (os.LookupEnv in
// production, a map in tests). Every BOOKSTORE_X may instead be given as
// BOOKSTORE_X_FILE, the path of a file holding the value (Docker secrets).
// Every problem is reported, one per line.
func Load(role Role, lookup func(string) (string, bool)) (Config, error) {
	files := &fileLookup{lookup: lookup}
	lookup = files.get
	r := reader{lookup: lookup}
	c := Config{
		Env:        strings.ToLower(r.str("BOOKSTORE_ENV", "development")),
		Addr:       r.str("BOOKSTORE_ADDR", DefaultAddr),
		DBDSN:      r.str("BOOKSTORE_DB_DSN", DefaultDSN),
		UploadsDir: r.str("BOOKSTORE_UPLOADS_DIR", DefaultUploadsDir),
		AdminEmail: r.str("BOOKSTORE_ADMIN_EMAIL", DefaultAdminEmail),
		BcryptCost: r.integer("BOOKSTORE_BCRYPT_COST", 0),
	}
	c.AdminPassword, _ = lookup("BOOKSTORE_ADMIN_PASSWORD") // spaces may be part of a password
	dev := c.SQLite() && !c.Production()
	c.SeedDemo = r.boolean("BOOKSTORE_SEED_DEMO", false)
	c.HTTPSOnly = r.boolean("BOOKSTORE_HTTPS_ONLY", false)
	c.ReconcileInterval = r.duration("BOOKSTORE_RECONCILE_INTERVAL", DefaultReconcileInterval)
	c.ReconcileAfter = r.duration("BOOKSTORE_RECONCILE_AFTER", DefaultReconcileAfter)
	c.PaymentWindow = r.duration("BOOKSTORE_PAYMENT_WINDOW", DefaultPaymentWindow)
	c.MaxOpenOrders = r.integer("BOOKSTORE_MAX_OPEN_ORDERS", DefaultMaxOpenOrders)
	if v, ok := r.raw("BOOKSTORE_MAX_OPEN_ORDERS"); ok && c.MaxOpenOrders == 0 {
		r.fail("BOOKSTORE_MAX_OPEN_ORDERS", v, "must be between 1 and 1000") // 0 would mean the default in code
	}
	c.SignupsPerAddress = r.integer("BOOKSTORE_SIGNUPS_PER_ADDRESS", DefaultSignupsPerAddress)
	c.CSRFSecret, _ = r.raw("BOOKSTORE_CSRF_SECRET")
	c.MaxBooksPerHour = int64(r.integer("BOOKSTORE_MAX_BOOKS_PER_HOUR", DefaultMaxBooksPerHour))
	c.MaxUploadBytesPerHour = int64(r.integer("BOOKSTORE_MAX_UPLOAD_BYTES_PER_HOUR", DefaultMaxUploadBytesPerHour))
	c.MetricsAddr = r.str("BOOKSTORE_METRICS_ADDR", DefaultMetricsAddr)
	c.HSTS = r.boolean("BOOKSTORE_HSTS", false)
	c.TrustedProxies = r.prefixes("BOOKSTORE_TRUSTED_PROXIES", DefaultTrustedProxies)
	c.LogLevel = r.level("BOOKSTORE_LOG_LEVEL", slog.LevelInfo)
	c.ShutdownTimeout = r.duration("BOOKSTORE_SHUTDOWN_TIMEOUT", DefaultShutdownTimeout)
	// A developer's Ctrl-C on the embedded setup need not wait for a load
	// balancer that is not there.
	drain := DefaultDrainDelay
	if dev {
		drain = 0
	}
	c.DrainDelay = r.duration("BOOKSTORE_DRAIN_DELAY", drain)
	if c.AdminPassword == "" && dev {
		c.AdminPassword = DevAdminPassword
	}
	c.Role = role
	c.Services = readServices(&r, role)
	r.errs = append(r.errs, files.errs...)
	r.errs = append(r.errs, c.validate()...)
	if len(r.errs) > 0 {
		return Config{}, errors.Join(r.errs...)
	}
	return c, nil
}

// Validate checks a Config built in code (tests) the way FromEnv does.
func (c Config) Validate() error { return errors.Join(c.validate()...) }

func (c Config) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Env != "development" && c.Env != "production" {
		bad("BOOKSTORE_ENV must be development or production, not %q", c.Env)
	}
	if c.Addr == "" {
		bad("BOOKSTORE_ADDR must not be empty (e.g. 127.0.0.1:8080)")
	} else if _, port, err := splitAddr(c.Addr); err != nil {
		bad("BOOKSTORE_ADDR %q is not HOST:PORT", c.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("BOOKSTORE_ADDR %q has no valid port", c.Addr)
	}
	if !strings.HasPrefix(c.DBDSN, "sqlite:") && !strings.HasPrefix(c.DBDSN, "mysql://") {
		bad("BOOKSTORE_DB_DSN must be sqlite:PATH or mysql://USER:PASS@HOST:PORT/DBNAME")
	}
	if c.UploadsDir == "" {
		bad("BOOKSTORE_UPLOADS_DIR must not be empty")
	}
	if c.AdminEmail == "" {
		bad("BOOKSTORE_ADMIN_EMAIL must not be empty")
	}
	switch {
	case !c.Role.ownsAccounts():
		// Only the monolith and the auth service create the admin account.
	case c.AdminPassword == "" && c.Production():
		bad("BOOKSTORE_ADMIN_PASSWORD is required in production")
	case c.AdminPassword == "":
		bad("BOOKSTORE_ADMIN_PASSWORD is required with MySQL (the development default is only for SQLite)")
	case len(c.AdminPassword) < 8:
		bad("BOOKSTORE_ADMIN_PASSWORD must be at least 8 characters")
	case c.Production() && c.AdminPassword == DevAdminPassword:
		bad("BOOKSTORE_ADMIN_PASSWORD must not be the documented development password in production")
	}
	if c.BcryptCost != 0 && (c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost) {
		bad("BOOKSTORE_BCRYPT_COST must be between %d and %d", bcrypt.MinCost, bcrypt.MaxCost)
	}
	if c.ShutdownTimeout <= 0 {
		bad("BOOKSTORE_SHUTDOWN_TIMEOUT must be positive")
	}
	if c.DrainDelay < 0 {
		bad("BOOKSTORE_DRAIN_DELAY must not be negative")
	}
	// Zero (a Config built in code) takes the defaults.
	if c.ReconcileInterval != 0 && c.ReconcileInterval < time.Second {
		bad("BOOKSTORE_RECONCILE_INTERVAL must be at least 1s")
	}
	if c.ReconcileAfter != 0 && c.ReconcileAfter < time.Second {
		bad("BOOKSTORE_RECONCILE_AFTER must be at least 1s")
	}
	if c.PaymentWindow != 0 && c.PaymentWindow < time.Minute {
		bad("BOOKSTORE_PAYMENT_WINDOW must be at least 1m")
	}
	if c.MaxOpenOrders < 0 || c.MaxOpenOrders > 1000 {
		bad("BOOKSTORE_MAX_OPEN_ORDERS must be between 1 and 1000")
	}
	if c.SignupsPerAddress < 0 {
		bad("BOOKSTORE_SIGNUPS_PER_ADDRESS must not be negative")
	}
	if c.CSRFSecret != "" && len(c.CSRFSecret) < MinCSRFSecret {
		bad("BOOKSTORE_CSRF_SECRET (or BOOKSTORE_CSRF_SECRET_FILE) must be at least %d characters", MinCSRFSecret)
	}
	if c.CSRFSecret == "" && !c.Role.monolith() {
		bad("BOOKSTORE_CSRF_SECRET (or BOOKSTORE_CSRF_SECRET_FILE) is required by the services: every service signs and checks the same CSRF tokens")
	}
	if c.MaxBooksPerHour < 0 {
		bad("BOOKSTORE_MAX_BOOKS_PER_HOUR must not be negative (0: no limit)")
	}
	if c.MaxUploadBytesPerHour < 0 {
		bad("BOOKSTORE_MAX_UPLOAD_BYTES_PER_HOUR must not be negative (0: no limit)")
	}
	if c.MetricsAddr != "" && c.MetricsAddr != "off" {
		if _, port, err := splitAddr(c.MetricsAddr); err != nil {
			bad("BOOKSTORE_METRICS_ADDR %q is not HOST:PORT (or off)", c.MetricsAddr)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			bad("BOOKSTORE_METRICS_ADDR %q has no valid port", c.MetricsAddr)
		}
	}
	errs = append(errs, c.Services.validate(c.Role)...)
	return errs
}

func splitAddr(addr string) (host, port string, err error) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", "", errors.New("no port")
	}
	return addr[:i], addr[i+1:], nil
}

// reader collects every bad variable instead of stopping at the first.
type reader struct {
	lookup func(string) (string, bool)
	errs   []error
}

func (r *reader) raw(name string) (string, bool) {
	v, ok := r.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func (r *reader) fail(name, v, want string) {
	r.errs = append(r.errs, fmt.Errorf("%s=%q: %s", name, v, want))
}

func (r *reader) str(name, def string) string {
	if v, ok := r.raw(name); ok {
		return v
	}
	return def
}

func (r *reader) integer(name string, def int) int {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.fail(name, v, "must be a whole number")
		return def
	}
	return n
}

func (r *reader) boolean(name string, def bool) bool {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	}
	r.fail(name, v, "must be true or false")
	return def
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.fail(name, v, "must be a duration such as 5s or 1m30s")
		return def
	}
	return d
}

func (r *reader) level(name string, def slog.Level) slog.Level {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		r.fail(name, v, "must be debug, info, warn or error")
		return def
	}
	return l
}

// prefixes reads a comma-separated list of CIDRs or single addresses.
func (r *reader) prefixes(name string, def []netip.Prefix) []netip.Prefix {
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	out := []netip.Prefix{}
	if strings.EqualFold(v, "none") { // no proxy: forwarding headers are never believed
		return out
	}
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		r.fail(name, v, fmt.Sprintf("%q is not a CIDR (10.0.0.0/8) or an address", s))
		return def
	}
	return out
}
