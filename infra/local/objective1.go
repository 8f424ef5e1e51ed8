package local

import (
	"context"
	"os"
	"path/filepath"
)

// planObjective1 is the monolith: one app process behind the TLS front, on
// SQLite in Dir unless a DSN is given.
func planObjective1(_ context.Context, t *Topology, o Options) (layout, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return layout{}, err
	}
	dsn := o.DBDSN
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(o.Dir, "bookstore.db")
	}
	if v, ok := lookupEnv(o.Environ, "BOOKSTORE_DB_DSN"); ok {
		dsn = v
	}
	t.DBDSN = dsn
	uploads := filepath.Join(o.Dir, "uploads")
	if err := os.MkdirAll(uploads, 0o755); err != nil {
		return layout{}, err
	}
	env, err := t.adminEnv(o, dsn)
	if err != nil {
		return layout{}, err
	}
	t.Instances = []Instance{{Name: "app", URL: "http://" + addr + "/"}}
	return layout{
		site: "objective1",
		processes: []process{{name: "app", bin: o.Binary, args: []string{"serve"},
			env: AppEnv(env, addr, dsn, uploads), group: "app", ready: "http://" + addr + "/readyz"}},
		upstream: addr,
	}, nil
}
