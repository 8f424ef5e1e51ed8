package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/go-sql-driver/mysql"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
)

// sqliteFiles holds what this process shares per SQLite file, for every
// *DB opened on it (several instances in one test, for example).
var sqliteFiles = struct {
	sync.Mutex
	m map[string]*sqliteLocal
}{m: map[string]*sqliteLocal{}}

func sqliteFile(path string) *sqliteLocal {
	sqliteFiles.Lock()
	defer sqliteFiles.Unlock()
	if l, ok := sqliteFiles.m[path]; ok {
		return l
	}
	l := &sqliteLocal{}
	sqliteFiles.m[path] = l
	return l
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	path = strings.TrimSpace(path)
	memory := path == ":memory:"
	switch {
	case path == "":
		return nil, errors.New("sqlite DSN needs a file path: sqlite:PATH (or sqlite::memory:)")
	case strings.ContainsAny(path, "?#"):
		return nil, fmt.Errorf("sqlite path %q must not contain '?' or '#'", path)
	}
	where := path
	if !memory {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("sqlite path %q: %w", path, err)
		}
		where = abs
		if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
			return nil, fmt.Errorf("open sqlite database %s: it is a directory, not a file", path)
		}
		if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
			return nil, fmt.Errorf("open sqlite database %s: create its directory: %w", path, err)
		}
	}
	// Every connection gets the same pragmas. Transactions begin IMMEDIATE so
	// a read-then-write transaction takes the write lock up front and waits
	// (busy_timeout) instead of failing when it tries to upgrade its lock.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	if !memory {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	q.Set("_txlock", "immediate")
	g, err := gorm.Open(sqlite.Open(path+"?"+q.Encode()), gormConfig())
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", path, oneLine(err))
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	if err := registerClassifier(g); err != nil {
		sqlDB.Close()
		return nil, err
	}
	db := &DB{gorm: g, sql: sqlDB, dialect: DialectSQLite, where: where}
	if memory {
		// Each connection to :memory: is its own empty database, so the pool
		// must hold exactly one connection, forever.
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
		sqlDB.SetConnMaxLifetime(0)
		sqlDB.SetConnMaxIdleTime(0)
		db.local = &sqliteLocal{}
	} else {
		// WAL lets readers run beside the one writer; writers queue on
		// local.writeMu, so a handful of connections is enough.
		n := max(4, runtime.GOMAXPROCS(0)*2)
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		db.local = sqliteFile(where)
	}
	db.pages = &db.local.books
	if err := pingWithTimeout(ctx, db); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open sqlite database %s: %w", path, oneLine(err))
	}
	return db, nil
}

// mysqlConfig turns mysql://USER:PASS@HOST:PORT/DBNAME[?tls=...] into the
// driver's configuration. Errors never contain the password.
func mysqlConfig(dsn string) (*mysql.Config, error) {
	const form = "mysql://USER:PASS@HOST:PORT/DBNAME"
	u, err := url.Parse(dsn)
	if err != nil {
		// url errors quote the whole URL, password included: say less.
		return nil, fmt.Errorf("mysql DSN is not a valid URL: expected %s", form)
	}
	if u.User == nil || u.User.Username() == "" {
		return nil, fmt.Errorf("mysql DSN has no user: expected %s", form)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("mysql DSN has no host: expected %s", form)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("mysql DSN has no database name: expected %s", form)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "3306"
	}
	if _, err := strconv.Atoi(port); err != nil {
		return nil, fmt.Errorf("mysql DSN port %q is not a number", port)
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(host, port)
	cfg.DBName = name
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Collation = "utf8mb4_unicode_ci"
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	cfg.Timeout = 5 * time.Second
	cfg.ReadTimeout = 30 * time.Second
	cfg.WriteTimeout = 30 * time.Second
	// RowsAffected must count matched rows, not changed ones: an update that
	// writes the values a row already has still found it.
	cfg.ClientFoundRows = true
	// Arguments are escaped into the statement by the driver instead of a
	// prepare, execute and close per query: one round trip instead of three.
	// Safe with the utf8mb4 collation set above: the driver refuses this
	// setting with the multi-byte charsets where escaping is ambiguous (big5,
	// gbk, sjis…) and follows the server's NO_BACKSLASH_ESCAPES.
	cfg.InterpolateParams = true
	var caFile string
	for k, vs := range u.Query() {
		switch k {
		case "tls":
			cfg.TLSConfig = vs[len(vs)-1]
		case "ca":
			caFile = vs[len(vs)-1]
		default:
			return nil, fmt.Errorf("mysql DSN parameter %q is not supported (only tls and ca)", k)
		}
	}
	if caFile != "" {
		if cfg.TLSConfig != "true" {
			return nil, fmt.Errorf("mysql DSN parameter ca needs tls=true")
		}
		tc, err := caTLSConfig(caFile, host)
		if err != nil {
			return nil, err
		}
		cfg.TLSConfig, cfg.TLS = "", tc
		return cfg, nil
	}
	// Round-trip through the driver's parser: it validates tls and fills in
	// the server name to verify certificates against.
	parsed, err := mysql.ParseDSN(cfg.FormatDSN())
	if err != nil {
		msg := err.Error()
		if cfg.Passwd != "" {
			msg = strings.ReplaceAll(msg, cfg.Passwd, "***")
		}
		return nil, fmt.Errorf("mysql DSN: %s", msg)
	}
	return parsed, nil
}

// caTLSConfig verifies the server against the CA bundle in file (Amazon
// RDS's, which a container image's system store does not hold) as well as
// the system's roots, and checks the host name.
func caTLSConfig(file, host string) (*tls.Config, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("mysql DSN ca %s: %v", file, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("mysql DSN ca %s: no PEM certificate in it", file)
	}
	return &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}, nil
}

func openMySQL(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := mysqlConfig(dsn)
	if err != nil {
		return nil, err
	}
	where := fmt.Sprintf("%s@%s/%s", cfg.User, cfg.Addr, cfg.DBName)
	fail := func(err error) error {
		msg := oneLine(err).Error()
		if cfg.Passwd != "" {
			msg = strings.ReplaceAll(msg, cfg.Passwd, "***")
		}
		return fmt.Errorf("open mysql database %s: %s", where, msg)
	}
	g, err := gorm.Open(gormmysql.New(gormmysql.Config{DSNConfig: cfg}), gormConfig())
	if err != nil {
		return nil, fail(err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fail(err)
	}
	sqlDB.SetMaxOpenConns(25)
	sqlDB.SetMaxIdleConns(10)
	sqlDB.SetConnMaxLifetime(30 * time.Minute)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := registerClassifier(g); err != nil {
		sqlDB.Close()
		return nil, fail(err)
	}
	db := &DB{gorm: g, sql: sqlDB, dialect: DialectMySQL, where: cfg.DBName, pages: &bookListCache{ttl: mysqlBookCacheTTL}}
	if err := pingWithTimeout(ctx, db); err != nil {
		sqlDB.Close()
		return nil, fail(err)
	}
	return db, nil
}

func pingWithTimeout(ctx context.Context, db *DB) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultPingTimeout)
		defer cancel()
	}
	return db.sql.PingContext(ctx)
}

// oneLine keeps an error message on one line for the operator's terminal.
func oneLine(err error) error {
	msg := err.Error()
	if !strings.ContainsAny(msg, "\r\n") {
		return err
	}
	return errors.New(strings.Join(strings.Fields(msg), " "))
}

func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger: quietLogger{},
		// Writes that need a transaction open one explicitly (DB.write).
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return dbTime(time.Now()) },
		PrepareStmt:            false,
	}
}

func init() {
	// The MySQL driver prints connection trouble through its own logger;
	// route it to slog so logs stay JSON.
	_ = mysql.SetLogger(mysqlLogger{})
}

type mysqlLogger struct{}

func (mysqlLogger) Print(v ...any) { slog.Warn("mysql driver", "msg", fmt.Sprint(v...)) }
