// Package remote is each module reached over HTTP: for every domain Service
// a client that satisfies the same interface (so the web adapter and the
// checkout cannot tell it from the in-process module), and the routes that
// serve that Service to the clients. The monolith never uses it; each
// microservice serves its own module with Serve* and reaches the other two
// through New*Client.
package remote

import "github.com/tet-bookstore/bookstore/app/bookstore"

// nobody is the caller of calls made on nobody's behalf.
var nobody = bookstore.Caller{}
