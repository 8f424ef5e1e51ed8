package local

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tet-bookstore/bookstore/app/config"
	"github.com/tet-bookstore/bookstore/infra/nginx"
)

// Objective3Services are objective 3's services, in the order they start:
// auth first, since the others ask it for revoked sessions (and the demo
// seed for its seller's account) as soon as they run.
var Objective3Services = []string{"auth", "catalog", "purchase"}

// planObjective3 is the store split into microservices: `bookstore auth`,
// `catalog` and `purchase` on their own loopback ports, each on its own
// database, calling one another with service tokens each signs with a
// generated key of its own, and verifying users' tokens with a generated
// key pair; the gateway routes
// paths to them, and the TLS front proxies objective3 to the gateway.
//
// The services form one group: losing one (tests kill the catalog and
// Restart it) leaves the rehearsal running; losing all three ends it.
func planObjective3(ctx context.Context, t *Topology, o Options) (layout, error) {
	if _, ok := lookupEnv(o.Environ, "BOOKSTORE_DB_DSN"); ok {
		fmt.Fprintln(t.log, "[local] BOOKSTORE_DB_DSN is not used by objective 3: each service gets a database of its own")
	}
	dsns, dbNames, err := t.serviceDatabases(ctx, o)
	if err != nil {
		return layout{}, err
	}
	creds, err := writeServiceCredentials(o.Dir)
	if err != nil {
		return layout{}, err
	}
	uploads := filepath.Join(o.Dir, "uploads")
	if v, ok := lookupEnv(o.Environ, "BOOKSTORE_UPLOADS_DIR"); ok {
		uploads = v
	}
	if err := os.MkdirAll(uploads, 0o755); err != nil {
		return layout{}, err
	}
	// The admin account lives in auth's database, so auth's decides
	// whether a password must be generated.
	environ, err := t.adminEnv(o, dsns["auth"])
	if err != nil {
		return layout{}, err
	}

	addrs := map[string]string{}
	for _, name := range append([]string{"gateway"}, Objective3Services...) {
		if addrs[name], err = freeLoopbackAddr(); err != nil {
			return layout{}, err
		}
	}
	shared := map[string]string{
		"BOOKSTORE_AUTH_URL":              "http://" + addrs["auth"],
		"BOOKSTORE_CATALOG_URL":           "http://" + addrs["catalog"],
		"BOOKSTORE_PURCHASE_URL":          "http://" + addrs["purchase"],
		"BOOKSTORE_TOKEN_PUBLIC_KEY_FILE": creds.publicKeyFile,
		"BOOKSTORE_CSRF_SECRET_FILE":      creds.csrfSecretFile,
	}
	for _, name := range Objective3Services {
		shared[config.ServicePublicKeyVar(config.Role(name))] = creds.servicePublicKeyFiles[name]
	}
	l := layout{site: "objective3"}
	for _, name := range Objective3Services {
		set := map[string]string{"BOOKSTORE_ADDR": addrs[name], "BOOKSTORE_DB_DSN": dsns[name], "BOOKSTORE_UPLOADS_DIR": uploads,
			config.ServiceKeyVar: creds.serviceKeyFiles[name]}
		for k, v := range shared {
			set[k] = v
		}
		if name == "auth" {
			// Only auth signs tokens.
			set["BOOKSTORE_TOKEN_PRIVATE_KEY_FILE"] = creds.privateKeyFile
		}
		url := "http://" + addrs[name] + "/"
		t.Instances = append(t.Instances, Instance{Name: name, URL: url, DBDSN: dsns[name], Database: dbNames[name]})
		l.processes = append(l.processes, process{name: name, bin: o.Binary, args: []string{name},
			env: serviceEnv(environ, set), group: "services", ready: url + "readyz", awaitReady: name == "auth"})
	}
	l.balancer, err = nginx.RenderGateway(nginx.Gateway{
		Listen: addrs["gateway"], Auth: []string{addrs["auth"]}, Catalog: []string{addrs["catalog"]}, Purchase: []string{addrs["purchase"]},
		// The TLS front runs on loopback, like the objective 1 proxy in front of the Swarm.
		TrustForwardedFrom: []string{"127.0.0.0/8"},
	})
	if err != nil {
		return layout{}, err
	}
	l.upstream, l.gatewayURL = addrs["gateway"], "http://"+addrs["gateway"]+"/"
	return l, nil
}

// rehearsalOwned are settings objective 3 decides for every service even
// when a service does not get them (only auth signs tokens): a caller's
// value would break the topology. The retired shared service token is
// dropped too, since the services refuse to start with it.
var rehearsalOwned = []string{
	"BOOKSTORE_ADDR", "BOOKSTORE_DB_DSN", "BOOKSTORE_AUTH_URL", "BOOKSTORE_CATALOG_URL", "BOOKSTORE_PURCHASE_URL",
	"BOOKSTORE_SERVICE_TOKEN", "BOOKSTORE_CSRF_SECRET", "BOOKSTORE_TOKEN_PUBLIC_KEY_FILE", "BOOKSTORE_TOKEN_PRIVATE_KEY_FILE",
	config.ServiceKeyVar, "BOOKSTORE_AUTH_SERVICE_PUBLIC_KEY_FILE", "BOOKSTORE_CATALOG_SERVICE_PUBLIC_KEY_FILE", "BOOKSTORE_PURCHASE_SERVICE_PUBLIC_KEY_FILE",
}

// serviceEnv is one service's environment: the caller's, so every
// BOOKSTORE_* setting such as the admin account or the demo seed passes
// through, without what the rehearsal owns or sets (nor their
// BOOKSTORE_X_FILE forms, which the app reads when BOOKSTORE_X is unset),
// then set.
func serviceEnv(environ []string, set map[string]string) []string {
	owned := map[string]bool{}
	for _, k := range append(slices.Collect(maps.Keys(set)), rehearsalOwned...) {
		owned[k], owned[k+"_FILE"] = true, true
	}
	var env []string
	for _, kv := range environ {
		if k, _, _ := strings.Cut(kv, "="); !owned[k] {
			env = append(env, kv)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		env = append(env, k+"="+set[k])
	}
	return env
}
