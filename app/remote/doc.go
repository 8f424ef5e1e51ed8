// Package remote is each module reached over HTTP: for every domain Service
// a client that satisfies the same interface (so the web adapter and the
// checkout cannot tell it from the in-process module), and the routes that
// serve that Service to the clients. The monolith never uses it; each
// microservice serves its own module with Serve* and reaches the other two
// through New*Client.
//
// Every route names the services allowed to call it. The web interface runs
// in every service (the gateway may send any page to any of them), so what
// pages use is open to the two other services; the rest is narrower: only
// purchase moves stock, only the catalog (its demo seed) looks accounts up,
// and no service may ensure the admin account (auth does that itself at
// start-up).
package remote

import "github.com/tet-bookstore/bookstore/app/bookstore"

// nobody is the caller of calls made on nobody's behalf.
var nobody = bookstore.Caller{}

// The services' names: each signs its calls as itself (the issuer of its
// service tokens) and is the audience of the tokens of calls to it.
const (
	AuthService     = "auth"
	CatalogService  = "catalog"
	PurchaseService = "purchase"
)

// only lists the services a route allows.
func only(services ...string) []string { return services }
