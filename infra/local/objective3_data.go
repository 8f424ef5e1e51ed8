package local

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/tet-bookstore/bookstore/app/token"
)

// serviceDatabases gives each objective 3 service a database of its own: a
// fresh one per service on the MySQL server when it answers (dropped on
// Stop), else a SQLite file per service in Dir. It returns the DSNs and,
// on MySQL, the databases' names; t.Storage says which it chose and why.
func (t *Topology) serviceDatabases(ctx context.Context, o Options) (dsns, names map[string]string, err error) {
	dsns, names = map[string]string{}, map[string]string{}
	if why, err := mysqlSilent(ctx, o.MySQLServer); err != nil {
		return nil, nil, err
	} else if why != "" {
		var files []string
		for _, s := range Objective3Services {
			dsns[s] = "sqlite:" + filepath.Join(o.Dir, s+".db")
			files = append(files, s+".db")
		}
		t.Storage = fmt.Sprintf("SQLite files %s in %s (%s)", strings.Join(files, ", "), o.Dir, why)
		return dsns, names, nil
	}
	prefix := "bookstore_local_" + randomHex(4) + "_"
	var created []string
	for _, s := range Objective3Services {
		dsn, name, drop, err := createNamedDatabase(ctx, o.MySQLServer, prefix+s)
		if err != nil {
			return nil, nil, err
		}
		t.cleanup = append(t.cleanup, drop)
		dsns[s], names[s] = dsn, name
		created = append(created, name)
	}
	_, u, _ := mysqlConfig(o.MySQLServer)
	t.Storage = fmt.Sprintf("MariaDB/MySQL at %s, databases %s (created for this run, dropped on exit)", u.Host, strings.Join(created, ", "))
	return dsns, names, nil
}

// mysqlSilent says why nothing usable answers at server ("" when a server
// does), so objective 3 falls back to SQLite. A server that answers but
// refuses (a wrong password) is an error to fix, not a reason to fall back.
func mysqlSilent(ctx context.Context, server string) (string, error) {
	cfg, u, err := mysqlConfig(server)
	if err != nil {
		return "", err
	}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return "", fmt.Errorf("local: MySQL server %s: %w", u.Host, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err = db.PingContext(ctx)
	var refused *mysql.MySQLError
	switch {
	case err == nil:
		return "", nil
	case errors.As(err, &refused):
		return "", fmt.Errorf("local: MariaDB/MySQL at %s refused the rehearsal: %s", u.Host, oneLine(err))
	default:
		return fmt.Sprintf("no MariaDB/MySQL answers at %s", u.Host), nil
	}
}

// serviceCredentials are the files the services trust one another with.
type serviceCredentials struct {
	publicKeyFile  string // verifies users' tokens (every service)
	privateKeyFile string // signs them (auth)
	// Each service's own key, which signs its calls to the others, and the
	// public keys the others verify them with.
	serviceKeyFiles, servicePublicKeyFiles map[string]string
	// csrfSecretFile holds the CSRF secret every service shares.
	csrfSecretFile string
}

// writeServiceCredentials generates the users' token key pair and a key
// pair per service into Dir/secrets (0700; private keys 0600). They are
// handed to the services as file paths, never as values in their
// environment or the log.
func writeServiceCredentials(dir string) (serviceCredentials, error) {
	secrets := filepath.Join(dir, "secrets")
	if err := os.Mkdir(secrets, 0o700); err != nil {
		return serviceCredentials{}, fmt.Errorf("local: service credentials: %w", err)
	}
	if err := token.WriteKeyPair(secrets); err != nil {
		return serviceCredentials{}, fmt.Errorf("local: %w", err)
	}
	c := serviceCredentials{
		publicKeyFile:         filepath.Join(secrets, token.PublicKeyFile),
		privateKeyFile:        filepath.Join(secrets, token.PrivateKeyFile),
		serviceKeyFiles:       map[string]string{},
		servicePublicKeyFiles: map[string]string{},
	}
	for _, name := range Objective3Services {
		if err := token.WriteServiceKeyPair(secrets, name); err != nil {
			return serviceCredentials{}, fmt.Errorf("local: %w", err)
		}
		c.serviceKeyFiles[name] = filepath.Join(secrets, token.ServicePrivateKeyFile(name))
		c.servicePublicKeyFiles[name] = filepath.Join(secrets, token.ServicePublicKeyFile(name))
	}
	c.csrfSecretFile = filepath.Join(secrets, "csrf_secret")
	if err := os.WriteFile(c.csrfSecretFile, []byte(rand.Text()+rand.Text()), 0o600); err != nil {
		return serviceCredentials{}, fmt.Errorf("local: CSRF secret: %w", err)
	}
	return c, nil
}
