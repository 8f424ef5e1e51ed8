package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tet-bookstore/bookstore/infra/nginx"
)

// Objective2Instances is how many app instances objective 2 rehearses: the
// autoscaling group's desired 2 plus one, so one can be lost while two still
// share the load.
const Objective2Instances = 3

// planObjective2 is the load-balanced monolith: three `bookstore serve`
// instances on their own loopback ports, one MySQL database and one uploads
// directory shared by all, a balancer standing in for the ALB, and the TLS
// front proxying objective2 to the balancer.
func planObjective2(ctx context.Context, t *Topology, o Options) (layout, error) {
	dsn := o.DBDSN
	if v, ok := lookupEnv(o.Environ, "BOOKSTORE_DB_DSN"); ok {
		dsn = v
	}
	if dsn == "" {
		created, name, drop, err := createDatabase(ctx, o.MySQLServer)
		if err != nil {
			return layout{}, err
		}
		t.cleanup = append(t.cleanup, drop)
		dsn, t.Database = created, name
	}
	if !strings.HasPrefix(dsn, "mysql://") {
		return layout{}, fmt.Errorf("local: objective 2's instances share one MySQL database; the database %q is not mysql://", redact(dsn))
	}
	t.DBDSN = dsn
	uploads := filepath.Join(o.Dir, "uploads")
	if v, ok := lookupEnv(o.Environ, "BOOKSTORE_UPLOADS_DIR"); ok {
		uploads = v
	}
	if err := os.MkdirAll(uploads, 0o755); err != nil {
		return layout{}, err
	}
	env, err := t.adminEnv(o, dsn)
	if err != nil {
		return layout{}, err
	}

	l := layout{site: "objective2"}
	var servers []string
	for i := 1; i <= Objective2Instances; i++ {
		addr, err := freeLoopbackAddr()
		if err != nil {
			return layout{}, err
		}
		name := fmt.Sprintf("app%d", i)
		url := "http://" + addr + "/"
		servers = append(servers, addr)
		t.Instances = append(t.Instances, Instance{Name: name, URL: url})
		l.processes = append(l.processes, process{name: name, bin: o.Binary, args: []string{"serve"},
			env: AppEnv(env, addr, dsn, uploads), group: "app", ready: url + "readyz"})
	}
	lb, err := freeLoopbackAddr()
	if err != nil {
		return layout{}, err
	}
	l.balancer, err = nginx.RenderBalancer(nginx.Balancer{Name: "objective2", Listen: lb, Servers: servers, ExposeUpstream: true})
	if err != nil {
		return layout{}, err
	}
	l.upstream, l.balancerURL = lb, "http://"+lb+"/"
	return l, nil
}
