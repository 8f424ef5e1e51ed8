package local

import (
	"context"
	"fmt"

	"github.com/tet-bookstore/bookstore/infra/swarm"
)

// EngineSwarm rehearses objective 3 on a real three-node Docker Swarm
// (infra/swarm) instead of processes on loopback.
const EngineSwarm = "swarm"

// planSwarm deploys the committed stack on a real swarm: three dockerds in
// network namespaces, the image built by the local engine and loaded on
// every node, a private MariaDB on the nodes' bridge. The TLS front
// proxies objective3 to the entry balancer, which passes connections to the
// nodes' gateways with a PROXY protocol header, as the NLB does. Stop
// removes the stack, the nodes and the database (t.cleanup).
func planSwarm(ctx context.Context, t *Topology, o Options) (layout, error) {
	// The admin account is in MariaDB: generate a password unless given.
	environ, err := t.adminEnv(o, "mysql://")
	if err != nil {
		return layout{}, err
	}
	r, err := swarm.Up(ctx, swarm.RehearsalOptions{Environ: environ, Log: prefixWriter(t.log, "swarm")})
	if err != nil {
		return layout{}, fmt.Errorf("local: %w", err)
	}
	t.Swarm = r
	t.cleanup = append(t.cleanup, r.Down)
	t.Storage = fmt.Sprintf("a private MariaDB at %s, one database and user per service (removed on exit)", r.DB.Addr)
	return layout{site: "objective3", upstream: r.Balancer.Addr, gatewayURL: r.GatewayURL}, nil
}
