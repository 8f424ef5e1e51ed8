// Package local runs objective 1's topology on loopback: the app and a local
// NGINX serving the same sites infra/nginx renders for the proxy VM, with a
// certificate from a throw-away CA. `make local` runs it in the foreground;
// tests start it, talk HTTPS to it and stop it.
package local

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tet-bookstore/bookstore/infra/localca"
	"github.com/tet-bookstore/bookstore/infra/nginx"
)

// Domain is the local apex: browsers resolve *.localhost to loopback.
const Domain = "localhost"

// Options configures a rehearsal; zero values take the defaults.
type Options struct {
	Objective int    // only 1 so far
	Binary    string // the bookstore binary (`bookstore serve`)
	NginxBin  string // default "nginx" on the PATH
	HTTPSPort int    // default 8443
	HTTPPort  int    // default 8081
	// Dir holds the database, uploads, certificates and NGINX's prefix; it
	// must exist. The command uses a fresh temporary directory.
	Dir string
	// DBDSN defaults to SQLite in Dir.
	DBDSN string
	// Environ is the environment the app inherits; every BOOKSTORE_* in it
	// is passed through (the admin account, the demo seed ...).
	Environ []string
	// Log receives the children's output; default os.Stderr.
	Log io.Writer
}

// Topology is a running rehearsal.
type Topology struct {
	URL       string // https://objective1.localhost:8443/
	HTTPURL   string // http://objective1.localhost:8081/
	CA        *x509.CertPool
	HTTPSPort int

	prefix   string
	children []*child
	exited   chan error
	stopOnce sync.Once
}

type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts the app, then NGINX, and returns once the app answers
// /readyz through NGINX over HTTPS. On error, whatever started is stopped.
func Start(ctx context.Context, o Options) (*Topology, error) {
	o = o.withDefaults()
	if o.Objective != 1 {
		return nil, fmt.Errorf("local: objective %d has no local rehearsal yet (objective 1 only)", o.Objective)
	}
	if _, err := exec.LookPath(o.NginxBin); err != nil {
		return nil, fmt.Errorf("local: nginx not found (Debian: apt-get install nginx): %w", err)
	}
	appAddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	t := &Topology{HTTPSPort: o.HTTPSPort, exited: make(chan error, 2)}
	host := "objective1." + Domain
	t.URL = fmt.Sprintf("https://%s:%d/", host, o.HTTPSPort)
	t.HTTPURL = fmt.Sprintf("http://%s:%d/", host, o.HTTPPort)

	// NGINX's prefix is a directory of its own under the system temp
	// directory: started as root, its workers run as nobody and must be
	// able to reach their temp files, which a 0700 parent would prevent.
	prefix, err := os.MkdirTemp("", "bookstore-local-nginx-")
	if err != nil {
		return nil, err
	}
	t.prefix = prefix
	issued, err := localca.Issue(filepath.Join(prefix, "live", "local"), []string{
		Domain, "objective1." + Domain, "objective2." + Domain, "objective3." + Domain, "127.0.0.1",
	})
	if err != nil {
		t.Stop()
		return nil, err
	}
	t.CA = issued.CAPool
	nginxArgs, err := writeNginxConfig(prefix, o, appAddr)
	if err != nil {
		t.Stop()
		return nil, err
	}
	uploads := filepath.Join(o.Dir, "uploads")
	if err := os.MkdirAll(uploads, 0o755); err != nil {
		t.Stop()
		return nil, err
	}

	if err := t.start("app", o.Log, o.Binary, []string{"serve"}, AppEnv(o.Environ, appAddr, o.DBDSN, uploads)); err != nil {
		t.Stop()
		return nil, err
	}
	if err := t.start("nginx", o.Log, o.NginxBin, nginxArgs, o.Environ); err != nil {
		t.Stop()
		return nil, err
	}
	if err := t.waitReady(ctx, 90*time.Second); err != nil {
		t.Stop()
		return nil, err
	}
	return t, nil
}

func (o Options) withDefaults() Options {
	if o.Objective == 0 {
		o.Objective = 1
	}
	if o.NginxBin == "" {
		o.NginxBin = "nginx"
	}
	if o.HTTPSPort == 0 {
		o.HTTPSPort = 8443
	}
	if o.HTTPPort == 0 {
		o.HTTPPort = 8081
	}
	if o.DBDSN == "" {
		o.DBDSN = "sqlite:" + filepath.Join(o.Dir, "bookstore.db")
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	return o
}

// AppEnv is the app's environment: the caller's, with the rehearsal's
// address, database and uploads directory. A BOOKSTORE_DB_DSN or
// BOOKSTORE_UPLOADS_DIR already in environ wins; BOOKSTORE_ADDR never does,
// since NGINX must find the app where it was told to.
func AppEnv(environ []string, addr, dsn, uploads string) []string {
	env := []string{}
	set := map[string]bool{}
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if k == "BOOKSTORE_ADDR" {
			continue
		}
		set[k] = true
		env = append(env, kv)
	}
	env = append(env, "BOOKSTORE_ADDR="+addr)
	if !set["BOOKSTORE_DB_DSN"] {
		env = append(env, "BOOKSTORE_DB_DSN="+dsn)
	}
	if !set["BOOKSTORE_UPLOADS_DIR"] {
		env = append(env, "BOOKSTORE_UPLOADS_DIR="+uploads)
	}
	return env
}

// writeNginxConfig renders the same sites as the proxy VM, with loopback
// listeners and the local certificate, and returns nginx's arguments.
func writeNginxConfig(prefix string, o Options, appAddr string) ([]string, error) {
	for _, d := range []string{prefix, filepath.Join(prefix, "logs"), filepath.Join(prefix, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
		if err := os.Chmod(d, 0o755); err != nil {
			return nil, err
		}
	}
	sites, err := nginx.RenderSites(nginx.Proxy{
		Domain: Domain,
		Sites:  nginx.ObjectiveSites(appAddr, "", ""),
		Listen: nginx.Listen{
			HTTP:            "127.0.0.1:" + strconv.Itoa(o.HTTPPort),
			HTTPS:           "127.0.0.1:" + strconv.Itoa(o.HTTPSPort),
			PublicHTTPSPort: o.HTTPSPort,
		},
		TLS: nginx.TLS{LiveDir: filepath.Join(prefix, "live"), CertName: "local"},
	})
	if err != nil {
		return nil, err
	}
	sitesFile := filepath.Join(prefix, "sites.conf")
	mainConf, err := nginx.RenderMain(nginx.Main{Prefix: prefix, SitesFile: sitesFile, Foreground: true})
	if err != nil {
		return nil, err
	}
	mainFile := filepath.Join(prefix, "nginx.conf")
	if err := os.WriteFile(sitesFile, []byte(sites), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(mainFile, []byte(mainConf), 0o644); err != nil {
		return nil, err
	}
	return []string{"-p", prefix + "/", "-c", mainFile, "-e", filepath.Join(prefix, "logs", "error.log")}, nil
}

// start runs a child in its own process group, so stopping it stops
// everything it spawned (NGINX's workers).
func (t *Topology) start(name string, log io.Writer, bin string, args, env []string) error {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout = prefixWriter(log, name)
	cmd.Stderr = prefixWriter(log, name)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("local: start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	t.children = append(t.children, c)
	go func() {
		c.err = cmd.Wait()
		close(c.done)
		t.exited <- fmt.Errorf("local: %s exited: %v", name, c.err)
	}()
	return nil
}

// Client is an HTTP client that trusts the local CA and reaches every
// *.localhost name on loopback.
func (t *Topology) Client() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: t.CA, MinVersion: tls.VersionTLS12},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// waitReady polls the app's /readyz through NGINX until it answers 200.
func (t *Topology) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	client := t.Client()
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.URL+"readyz", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case err := <-t.exited:
			return err
		case <-ctx.Done():
			return fmt.Errorf("local: %sreadyz did not answer 200 in %s (last: %s)", t.URL, limit, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Exited reports the first child to exit on its own.
func (t *Topology) Exited() <-chan error { return t.exited }

// PIDs are the children's process (and process group) ids.
func (t *Topology) PIDs() []int {
	var pids []int
	for _, c := range t.children {
		pids = append(pids, c.cmd.Process.Pid)
	}
	return pids
}

// Stop ends every child's process group: SIGTERM, then SIGKILL after 10 s.
func (t *Topology) Stop() {
	t.stopOnce.Do(func() {
		for i := len(t.children) - 1; i >= 0; i-- { // NGINX first, then the app
			c := t.children[i]
			_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-c.done:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
				<-c.done
			}
			// Anything left in the group (workers) goes too.
			_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		}
		if t.prefix != "" {
			_ = os.RemoveAll(t.prefix)
		}
	})
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// prefixWriter labels each line of a child's output.
func prefixWriter(w io.Writer, name string) io.Writer {
	return &lineWriter{w: w, prefix: "[" + name + "] "}
}

type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			break
		}
		if _, err := io.WriteString(l.w, l.prefix+string(l.buf[:i+1])); err != nil {
			return 0, err
		}
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}
