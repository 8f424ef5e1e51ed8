// Command fakeapp stands in for `bookstore serve` (and the services) in the local rehearsal's
// tests while the real binary cannot be built: it honours the same contract
// (BOOKSTORE_ADDR, /healthz, /readyz) and echoes what the proxy forwarded.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"slices"
	"strings"
)

func main() {
	// serve is the monolith; auth, catalog and purchase objective 3's
	// services, all with the same contract here.
	if len(os.Args) < 2 || !slices.Contains([]string{"serve", "auth", "catalog", "purchase"}, os.Args[1]) {
		log.Fatal("usage: fakeapp serve|auth|catalog|purchase")
	}
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") }
	mux.HandleFunc("/healthz", ok)
	mux.HandleFunc("/readyz", ok)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "fake bookstore\nproto=%s\nhost=%s\nforwarded-for=%s\n",
			r.Header.Get("X-Forwarded-Proto"), r.Host, r.Header.Get("X-Forwarded-For"))
		for _, kv := range os.Environ() {
			if strings.HasPrefix(kv, "BOOKSTORE_") {
				fmt.Fprintln(w, kv)
			}
		}
	})
	log.Fatal(http.ListenAndServe(os.Getenv("BOOKSTORE_ADDR"), mux))
}
