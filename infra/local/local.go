// Package local rehearses an objective's topology on loopback: the app
// processes and a local NGINX serving the same sites infra/nginx renders for
// the proxy VM, with a certificate from a throw-away CA. An objective is a
// list of processes plus the NGINX configuration in front of them
// (objective1.go, objective2.go, objective3.go); this file supervises them. `make local`
// runs a topology in the foreground; tests start it, talk HTTPS to it, break
// it and stop it.
package local

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tet-bookstore/bookstore/infra/localca"
	"github.com/tet-bookstore/bookstore/infra/nginx"
	"github.com/tet-bookstore/bookstore/infra/swarm"
)

// Domain is the local apex: browsers resolve *.localhost to loopback.
const Domain = "localhost"

// DefaultMySQLServer is where objective 2 creates its database when given
// none: the local MariaDB, as root without a password.
const DefaultMySQLServer = "mysql://root:@127.0.0.1:3306/"

// Options configures a rehearsal; zero values take the defaults.
type Options struct {
	Objective int    // 1 (the monolith), 2 (three instances behind a balancer) or 3 (three services behind a gateway)
	Binary    string // the bookstore binary (`bookstore serve`)
	NginxBin  string // default "nginx" on the PATH
	HTTPSPort int    // default 8443
	HTTPPort  int    // default 8081
	// Dir holds the database, uploads and generated secrets; it must exist.
	// The command uses a fresh temporary directory.
	Dir string
	// DBDSN is the database every app process uses. Objective 1 defaults to
	// SQLite in Dir; objective 2 needs MySQL and by default creates a fresh
	// database on MySQLServer, dropped on Stop. A BOOKSTORE_DB_DSN in
	// Environ wins over both.
	DBDSN string
	// MySQLServer (mysql://USER:PASS@HOST:PORT/) is where objective 2
	// creates its database, and objective 3 one per service when the
	// server answers (SQLite files in Dir when it does not); default
	// DefaultMySQLServer.
	MySQLServer string
	// Environ is the environment the apps inherit; every BOOKSTORE_* in it
	// is passed through (the admin account, the demo seed ...).
	Environ []string
	// ACME is where the front's certificate comes from: ACMELocal (default,
	// a throw-away CA) or ACMEPebble (certbot against a local pebble, the
	// proxy VM's steps: bootstrap sites, HTTP-01 through NGINX, full sites).
	ACME string
	// CacheDir keeps pebble's binaries between runs; default
	// acme.DefaultCacheDir().
	CacheDir string
	// Engine runs objective 3 on "" (processes on loopback) or EngineSwarm
	// (a real three-node Docker Swarm).
	Engine string
	// Log receives the children's output, each line labelled with the
	// process's name; default os.Stderr.
	Log io.Writer
}

// Topology is a running rehearsal.
type Topology struct {
	URL       string // https://objectiveN.localhost:8443/
	HTTPURL   string // http://objectiveN.localhost:8081/
	CA        *x509.CertPool
	HTTPSPort int
	// Instances are the app processes (objective 3: the services),
	// reachable directly on loopback.
	Instances []Instance
	// BalancerURL is objective 2's load balancer (plain HTTP), "" otherwise.
	BalancerURL string
	// GatewayURL is objective 3's gateway (plain HTTP), the system's entry
	// point behind the TLS front; "" otherwise.
	GatewayURL string
	// Storage says in one line where objective 3's services keep their
	// data (MariaDB databases or SQLite files, and why); "" otherwise.
	Storage string
	// DBDSN is the database the apps share; Database is its name when the
	// rehearsal created it (and drops it on Stop).
	DBDSN    string
	Database string
	// ACME is the certbot and pebble behind the front's certificate when
	// Options.ACME is ACMEPebble; nil otherwise.
	ACME *ACMEFront
	// AdminPasswordFile holds the admin password the rehearsal generated
	// because MySQL needs one and the environment gave none; "" otherwise.
	AdminPasswordFile string
	// Swarm is objective 3's swarm with Engine EngineSwarm, nil otherwise.
	Swarm *swarm.Rehearsal

	log      io.Writer
	prefix   string
	children []*child
	exited   chan error
	cleanup  []func() error
	mu       sync.Mutex
	stopping bool
	stopOnce sync.Once
}

// Instance is one app process.
type Instance struct {
	Name string
	URL  string // http://127.0.0.1:PORT/
	PID  int    // the current process, updated by Restart
	// DBDSN is the instance's own database when it has one (objective 3's
	// services); Database is its name when the rehearsal created it.
	DBDSN    string
	Database string
}

// process is one child the rehearsal runs.
type process struct {
	name string
	bin  string
	args []string
	env  []string
	// group names interchangeable processes: the rehearsal fails only when
	// every process of a group has exited (objective 2 survives losing two
	// of its three instances, objective 1 not its one app).
	group string
	// ready is polled for 200 before the topology is ready; "" for none.
	ready string
	// awaitReady holds back the next processes until this one is ready:
	// objective 3's auth, which the other services ask for revoked
	// sessions as soon as they run.
	awaitReady bool
}

// layout is what an objective rehearses: processes started together and the
// NGINX configuration fronting them.
type layout struct {
	site      string    // the subdomain the TLS front serves, e.g. "objective2"
	processes []process // started in this order, back to back
	// upstream is where the TLS front sends the site's traffic.
	upstream string
	// balancer is more http-context NGINX configuration (objective 2's
	// load balancer), rendered next to the front's sites.
	balancer    string
	balancerURL string
	gatewayURL  string
}

type child struct {
	process
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts an objective's processes, then NGINX, and returns once every
// process is ready and the site answers /readyz through NGINX over HTTPS. On
// error, whatever started is stopped and whatever was created is removed.
func Start(ctx context.Context, o Options) (*Topology, error) {
	o = o.withDefaults()
	var plan func(context.Context, *Topology, Options) (layout, error)
	if o.ACME != "" && o.ACME != ACMELocal && o.ACME != ACMEPebble {
		return nil, fmt.Errorf("local: ACME %q is neither %q (a throw-away CA) nor %q (certbot against pebble)", o.ACME, ACMELocal, ACMEPebble)
	}
	switch o.Objective {
	case 1:
		plan = planObjective1
	case 2:
		plan = planObjective2
	case 3:
		plan = planObjective3
		if o.Engine == EngineSwarm {
			plan = planSwarm
		}
	default:
		return nil, fmt.Errorf("local: objective %d has no local rehearsal (objectives 1, 2 and 3 have)", o.Objective)
	}
	if o.Engine != "" && (o.Engine != EngineSwarm || o.Objective != 3) {
		return nil, fmt.Errorf("local: engine %q: only objective 3 has another engine, %q", o.Engine, EngineSwarm)
	}
	if _, err := exec.LookPath(o.NginxBin); err != nil {
		return nil, fmt.Errorf("local: nginx not found (Debian: apt-get install nginx): %w", err)
	}
	t := &Topology{HTTPSPort: o.HTTPSPort, log: &lockedWriter{w: o.Log}}
	l, err := plan(ctx, t, o)
	if err != nil {
		t.Stop()
		return nil, err
	}
	host := l.site + "." + Domain
	t.URL = fmt.Sprintf("https://%s:%d/", host, o.HTTPSPort)
	t.HTTPURL = fmt.Sprintf("http://%s:%d/", host, o.HTTPPort)
	t.BalancerURL = l.balancerURL
	t.GatewayURL = l.gatewayURL

	// NGINX's prefix is a directory of its own under the system temp
	// directory: started as root, its workers run as nobody and must be
	// able to reach their temp files, which a 0700 parent would prevent.
	prefix, err := os.MkdirTemp("", "bookstore-local-nginx-")
	if err != nil {
		t.Stop()
		return nil, err
	}
	t.prefix = prefix
	front := frontTLS{bootstrap: true, webroot: filepath.Join(prefix, "acme-webroot")}
	if o.ACME != ACMEPebble {
		issued, err := localca.Issue(filepath.Join(prefix, "live", "local"), []string{
			Domain, "objective1." + Domain, "objective2." + Domain, "objective3." + Domain, "127.0.0.1",
		})
		if err != nil {
			t.Stop()
			return nil, err
		}
		t.CA = issued.CAPool
		front = frontTLS{tls: nginx.TLS{LiveDir: filepath.Join(prefix, "live"), CertName: "local"}}
	}
	nginxArgs, err := writeNginxConfig(prefix, o, l, front)
	if err != nil {
		t.Stop()
		return nil, err
	}

	t.exited = make(chan error, len(l.processes)+1)
	for _, p := range l.processes {
		if err := t.start(p); err != nil {
			t.Stop()
			return nil, err
		}
		if p.awaitReady {
			if err := t.waitReady(ctx, 90*time.Second, []string{p.ready}, t.exited); err != nil {
				t.Stop()
				return nil, err
			}
		}
	}
	t.updatePIDs()
	// NGINX starts once every process is ready: a connection it saw
	// refused would take that instance out of the rotation for the
	// balancer's fail timeout.
	var ready []string
	for _, p := range l.processes {
		if p.ready != "" {
			ready = append(ready, p.ready)
		}
	}
	if err := t.waitReady(ctx, 90*time.Second, ready, t.exited); err != nil {
		t.Stop()
		return nil, err
	}
	if err := t.start(process{name: "nginx", bin: o.NginxBin, args: nginxArgs, env: o.Environ, group: "nginx"}); err != nil {
		t.Stop()
		return nil, err
	}
	if o.ACME == ACMEPebble {
		if err := t.obtainCertificate(ctx, o, l, front, nginxArgs); err != nil {
			t.Stop()
			return nil, err
		}
	}
	if err := t.waitReady(ctx, 30*time.Second, []string{t.URL + "readyz"}, t.exited); err != nil {
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
	if o.MySQLServer == "" {
		o.MySQLServer = DefaultMySQLServer
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	return o
}

// AppEnv is the app's environment: the caller's, with the rehearsal's
// address, database and uploads directory. A BOOKSTORE_DB_DSN or
// BOOKSTORE_UPLOADS_DIR already in environ wins unless empty; BOOKSTORE_ADDR never does,
// since NGINX must find the app where it was told to.
func AppEnv(environ []string, addr, dsn, uploads string) []string {
	env := []string{}
	set := map[string]bool{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if k == "BOOKSTORE_ADDR" || v == "" && (k == "BOOKSTORE_DB_DSN" || k == "BOOKSTORE_UPLOADS_DIR") {
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

// lookupEnv is the last value of key in environ, as the process would see
// it; an empty value counts as unset.
func lookupEnv(environ []string, key string) (string, bool) {
	val := ""
	for _, kv := range environ {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			val = v
		}
	}
	return val, val != ""
}

// start runs a new child.
func (t *Topology) start(p process) error {
	_, err := t.spawn(p, func(c *child) { t.children = append(t.children, c) })
	return err
}

// spawn runs a child in its own process group, so stopping it stops
// everything it spawned (NGINX's workers); record adds it to t.children
// under t.mu before anything can see it exit.
func (t *Topology) spawn(p process, record func(*child)) (*child, error) {
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = p.env
	cmd.Stdout = prefixWriter(t.log, p.name)
	cmd.Stderr = prefixWriter(t.log, p.name)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("local: start %s: %w", p.name, err)
	}
	c := &child{process: p, cmd: cmd, done: make(chan struct{})}
	t.mu.Lock()
	if t.stopping {
		// Stop has already collected the children it stops (a Restart
		// raced it): this one would outlive the rehearsal.
		t.mu.Unlock()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return nil, fmt.Errorf("local: the rehearsal is stopping; %s not started", p.name)
	}
	record(c)
	t.mu.Unlock()
	go func() {
		err := cmd.Wait()
		t.mu.Lock()
		c.err = err
		close(c.done)
		left := t.alive(c.group)
		stopping := t.stopping
		t.mu.Unlock()
		switch {
		case stopping:
		case left == 0:
			// The first failure is the one to report; a later one (after a
			// restart) must not block this goroutine.
			select {
			case t.exited <- fmt.Errorf("local: %s exited: %v", c.name, err):
			default:
			}
		default:
			fmt.Fprintf(t.log, "[local] %s exited (%v); %d of its group %q still running\n", c.name, err, left, c.group)
		}
	}()
	return c, nil
}

// alive counts the running children of a group; t.mu is held.
func (t *Topology) alive(group string) int {
	n := 0
	for _, c := range t.children {
		select {
		case <-c.done:
		default:
			if c.group == group {
				n++
			}
		}
	}
	return n
}

// Client is an HTTP client that trusts the local CA and reaches every
// *.localhost name on loopback.
func (t *Topology) Client() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: t.CA, MinVersion: tls.VersionTLS12},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				_, port, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
			},
			MaxIdleConnsPerHost: 32,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// waitReady polls every URL until each has answered 200 once; an error on
// abort (a process exiting) ends the wait.
func (t *Topology) waitReady(parent context.Context, limit time.Duration, urls []string, abort <-chan error) error {
	ctx, cancel := context.WithTimeout(parent, limit)
	defer cancel()
	client := t.Client()
	pending := map[string]string{}
	for _, u := range urls {
		pending[u] = "no answer yet"
	}
	for {
		for u := range pending {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			resp, err := client.Do(req)
			if err != nil {
				pending[u] = err.Error()
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				delete(pending, u)
			} else {
				pending[u] = resp.Status
			}
		}
		if len(pending) == 0 {
			return nil
		}
		select {
		case err := <-abort:
			return err
		case <-ctx.Done():
			if parent.Err() != nil {
				return fmt.Errorf("local: interrupted while starting")
			}
			var waiting []string
			for u, last := range pending {
				waiting = append(waiting, u+" (last: "+last+")")
			}
			return fmt.Errorf("local: not ready in %s: %s", limit, strings.Join(waiting, "; "))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Exited reports a failure of the whole rehearsal: NGINX exiting, or the
// last process of a group. An instance of several exiting is only logged.
func (t *Topology) Exited() <-chan error { return t.exited }

// PIDs are the children's process (and process group) ids.
func (t *Topology) PIDs() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	var pids []int
	for _, c := range t.children {
		pids = append(pids, c.cmd.Process.Pid)
	}
	return pids
}

// child is the named child and its index in t.children.
func (t *Topology) child(name string) (*child, int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, c := range t.children {
		if c.name == name {
			return c, i, nil
		}
	}
	return nil, -1, fmt.Errorf("local: no process named %q", name)
}

// Signal sends sig to a child's process group, e.g. SIGTERM to "app2".
func (t *Topology) Signal(name string, sig syscall.Signal) error {
	c, _, err := t.child(name)
	if err != nil {
		return err
	}
	return syscall.Kill(-c.cmd.Process.Pid, sig)
}

// Wait waits until the named child has exited, or ctx ends.
func (t *Topology) Wait(ctx context.Context, name string) error {
	c, _, err := t.child(name)
	if err != nil {
		return err
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("local: %s still running: %w", name, ctx.Err())
	}
}

// Restart stops the named process if it still runs (SIGTERM, SIGKILL after
// stopGrace), starts it again with the same command, address and
// environment, and returns once it is ready: its peers, the balancer or the
// gateway find it where it was. The rehearsal goes on meanwhile; a process
// that exited does not end it while others of its group run.
func (t *Topology) Restart(ctx context.Context, name string) error {
	old, i, err := t.child(name)
	if err != nil {
		return err
	}
	if name == "nginx" {
		return fmt.Errorf("local: nginx is the rehearsal's front; it is not restarted")
	}
	stopAll([]*child{old})
	c, err := t.spawn(old.process, func(c *child) { t.children[i] = c })
	if err != nil {
		return err
	}
	t.updatePIDs()
	fmt.Fprintf(t.log, "[local] %s restarted (pid %d)\n", name, c.cmd.Process.Pid)
	if c.ready == "" {
		return nil
	}
	died := make(chan error, 1)
	go func() {
		<-c.done
		died <- fmt.Errorf("local: %s exited while restarting: %v", name, c.err)
	}()
	return t.waitReady(ctx, 60*time.Second, []string{c.ready}, died)
}

// updatePIDs points every Instance at its current process.
func (t *Topology) updatePIDs() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range t.Instances {
		for _, c := range t.children {
			if c.name == t.Instances[i].Name {
				t.Instances[i].PID = c.cmd.Process.Pid
			}
		}
	}
}

// stopGrace is how long a process gets after SIGTERM: longer than the app's
// drain delay plus a short shutdown.
const stopGrace = 15 * time.Second

// Stop ends NGINX first, so nothing new arrives, then every other process
// group at once (SIGTERM, SIGKILL after stopGrace), then removes what the
// rehearsal created (the database).
func (t *Topology) Stop() error {
	var errs []error
	t.stopOnce.Do(func() {
		t.mu.Lock()
		t.stopping = true
		children := append([]*child{}, t.children...)
		t.mu.Unlock()
		var front, rest []*child
		for _, c := range children {
			if c.name == "nginx" {
				front = append(front, c)
			} else {
				rest = append(rest, c)
			}
		}
		stopAll(front)
		stopAll(rest)
		for i := len(t.cleanup) - 1; i >= 0; i-- {
			if err := t.cleanup[i](); err != nil {
				errs = append(errs, err)
			}
		}
		if t.prefix != "" {
			_ = os.RemoveAll(t.prefix)
		}
	})
	return errors.Join(errs...)
}

func stopAll(children []*child) {
	var wg sync.WaitGroup
	for _, c := range children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-c.done:
			case <-time.After(stopGrace):
				_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
				<-c.done
			}
			// Anything left in the group (workers) goes too.
			_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		}()
	}
	wg.Wait()
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
