package firstboot

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// AptCache is the HTTP proxy apt inside the VMs uses (Acquire::http::Proxy):
// it fetches from the Debian mirrors and keeps what it fetched under Dir,
// so a second boot installs the same packages without downloading them.
// Packages (pool/) never change under a name; indexes (dists/) are kept for
// IndexTTL. Only Debian's hosts are proxied.
type AptCache struct {
	Dir      string
	IndexTTL time.Duration
	Client   *http.Client
}

var debianHosts = map[string]bool{"deb.debian.org": true, "security.debian.org": true}

func (c *AptCache) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || !debianHosts[r.URL.Hostname()] || r.URL.Scheme != "http" || strings.Contains(r.URL.Path, "..") {
		http.Error(w, "the rehearsal proxies Debian's mirrors only", http.StatusForbidden)
		return
	}
	file := filepath.Join(c.Dir, r.URL.Hostname(), filepath.FromSlash(r.URL.Path))
	if st, err := os.Stat(file); err == nil && st.Mode().IsRegular() &&
		(strings.Contains(r.URL.Path, "/pool/") || strings.Contains(r.URL.Path, "/by-hash/") || time.Since(st.ModTime()) < c.IndexTTL) {
		http.ServeFile(w, r, file)
		return
	}
	resp, err := c.Client.Get(r.URL.String())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		return
	}
	if err := c.store(file, resp.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	http.ServeFile(w, r, file)
}

// store writes the body next to file and renames it into place, so a
// concurrent reader never sees half a package.
func (c *AptCache) store(file string, body io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".download-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, body); err != nil {
		tmp.Close()
		return fmt.Errorf("firstboot: fetch %s: %w", file, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}
