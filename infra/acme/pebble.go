// Package acme runs a real ACME server for rehearsals and tests: pebble, the
// Let's Encrypt test CA, with pebble-challtestsrv as the DNS server it
// resolves challenge names through. Debian's certbot talks to it exactly as
// it talks to Let's Encrypt (certbot.go); only the directory URL and the CA
// bundle that trusts pebble's own HTTPS endpoint differ.
package acme

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/tet-bookstore/bookstore/infra/localca"
)

// PebbleVersion is the pebble module version the rehearsals install (go install
// github.com/letsencrypt/pebble/v2/cmd/...@PebbleVersion).
const PebbleVersion = "v2.10.3"

// Binaries installs pebble and pebble-challtestsrv at PebbleVersion into
// dir/pebble-VERSION once and returns their paths; later calls reuse them.
func Binaries(ctx context.Context, dir string) (pebble, challtestsrv string, err error) {
	bin := filepath.Join(dir, "pebble-"+PebbleVersion)
	pebble, challtestsrv = filepath.Join(bin, "pebble"), filepath.Join(bin, "pebble-challtestsrv")
	if isExecutable(pebble) && isExecutable(challtestsrv) {
		return pebble, challtestsrv, nil
	}
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return "", "", err
	}
	cmd := exec.CommandContext(ctx, "go", "install",
		"github.com/letsencrypt/pebble/v2/cmd/pebble@"+PebbleVersion,
		"github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@"+PebbleVersion)
	// Outside any module: GOFLAGS=-mod=mod (the Makefile's) would refuse pkg@version.
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=", "CGO_ENABLED=0")
	cmd.Dir = bin
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("acme: go install pebble %s: %v\n%s", PebbleVersion, err, out)
	}
	return pebble, challtestsrv, nil
}

// DefaultCacheDir is where Binaries keeps pebble between runs.
func DefaultCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "bookstore")
	}
	return filepath.Join(os.TempDir(), "bookstore-cache")
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// Options says where pebble and its DNS listen and how it validates.
type Options struct {
	Dir      string // pebble's configuration and TLS certificate; must exist
	Pebble   string // the pebble binary
	ChallSrv string // the pebble-challtestsrv binary
	// Host is the address every listener binds (127.0.0.1, or the services
	// address in a network namespace); ports 0 are picked free on it.
	Host                                                 string
	ACMEPort, ManagementPort, DNSPort, DNSManagementPort int
	// HTTPPort is where pebble connects for HTTP-01 (80 on a real proxy, the
	// rehearsal's HTTP port on loopback).
	HTTPPort int
	// DefaultIPv4 answers every A query the test has not set (challtestsrv's
	// -defaultIPv4); names then resolve to the stand-ins.
	DefaultIPv4 string
	// TLSNames are extra names in the certificate of pebble's HTTPS endpoint
	// (Host is always in it).
	TLSNames []string
	// Prefix runs both commands through another one, e.g. nsenter --net=PATH.
	Prefix []string
	// Dial reaches the listeners (from another network namespace); default net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	Log  io.Writer
}

// Server is a running pebble and challtestsrv.
type Server struct {
	DirectoryURL string // https://HOST:PORT/dir, certbot's --server
	// CAFile trusts pebble's HTTPS endpoint (REQUESTS_CA_BUNDLE for certbot);
	// the certificates pebble issues chain to Roots instead.
	CAFile        string
	CA            *x509.CertPool
	ManagementURL string // https: /roots/0, /intermediates/0 ...
	DNSAddr       string // HOST:PORT, UDP and TCP
	ChallURL      string // challtestsrv's management API
	dial          func(ctx context.Context, network, addr string) (net.Conn, error)
	cmds          []*exec.Cmd
	done          []chan struct{}
}

// Start runs challtestsrv, then pebble resolving through it, and returns
// once pebble's directory answers.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Log == nil {
		o.Log = os.Stderr
	}
	ports := []*int{&o.ACMEPort, &o.ManagementPort, &o.DNSPort, &o.DNSManagementPort}
	for _, p := range ports {
		if *p == 0 {
			free, err := freePort(o.Host)
			if err != nil {
				return nil, err
			}
			*p = free
		}
	}
	hp := func(port int) string { return net.JoinHostPort(o.Host, strconv.Itoa(port)) }
	issued, err := localca.Issue(filepath.Join(o.Dir, "tls"), append([]string{o.Host}, o.TLSNames...))
	if err != nil {
		return nil, err
	}
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress":                  hp(o.ACMEPort),
		"managementListenAddress":        hp(o.ManagementPort),
		"certificate":                    filepath.Join(issued.Dir, "fullchain.pem"),
		"privateKey":                     filepath.Join(issued.Dir, "privkey.pem"),
		"httpPort":                       o.HTTPPort,
		"tlsPort":                        443,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
		"retryAfter":                     map[string]int{"authz": 1, "order": 1},
		"keyAlgorithm":                   "ecdsa",
		"profiles": map[string]any{"default": map[string]any{
			"description": "90 days, as Let's Encrypt", "validityPeriod": 7776000,
		}},
	}}
	confJSON, _ := json.MarshalIndent(conf, "", "  ")
	confFile := filepath.Join(o.Dir, "pebble-config.json")
	if err := os.WriteFile(confFile, confJSON, 0o644); err != nil {
		return nil, err
	}
	s := &Server{
		DirectoryURL:  "https://" + hp(o.ACMEPort) + "/dir",
		CAFile:        issued.CAFile,
		CA:            issued.CAPool,
		ManagementURL: "https://" + hp(o.ManagementPort),
		DNSAddr:       hp(o.DNSPort),
		ChallURL:      "http://" + hp(o.DNSManagementPort),
		dial:          o.Dial,
	}
	chall := append(append([]string{}, o.Prefix...), o.ChallSrv,
		"-dnsserver", hp(o.DNSPort), "-management", hp(o.DNSManagementPort),
		"-defaultIPv4", o.DefaultIPv4, "-defaultIPv6", "",
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "")
	if err := s.start(chall, nil, o.Log, "challtestsrv"); err != nil {
		return nil, err
	}
	if err := s.wait(ctx, s.ChallURL+"/clear-request-history", http.MethodPost, `{"host":"","typ":"http"}`); err != nil {
		s.Stop()
		return nil, err
	}
	peb := append(append([]string{}, o.Prefix...), o.Pebble, "-config", confFile, "-dnsserver", hp(o.DNSPort))
	// No artificial validation delay, no nonce rejected on purpose: the
	// rehearsal tests the flow, not certbot's retries.
	env := []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"}
	if err := s.start(peb, env, o.Log, "pebble"); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.wait(ctx, s.DirectoryURL, http.MethodGet, ""); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(argv, env []string, log io.Writer, name string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &prefixed{w: log, name: name}, &prefixed{w: log, name: name}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("acme: start %s: %w", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmds, s.done = append(s.cmds, cmd), append(s.done, done)
	return nil
}

// wait polls url until it answers below 500, or a started process exits.
func (s *Server) wait(ctx context.Context, url, method, body string) error {
	client := s.Client()
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		for _, d := range s.done {
			select {
			case <-d:
				return fmt.Errorf("acme: a process exited before %s answered (see its output)", url)
			default:
			}
		}
		req, _ := http.NewRequestWithContext(ctx, method, url, bytes.NewBufferString(body))
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
			err = errors.New(resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("acme: %s did not answer in 30s: %v", url, last)
}

// Client trusts pebble's HTTPS endpoints.
func (s *Server) Client() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: s.CA, MinVersion: tls.VersionTLS12},
		DialContext:     s.dial,
	}}
}

// Roots is pebble's root certificate in PEM and as a pool: what a client
// trusts to accept the certificates pebble issued (pebble makes a new root
// every start).
func (s *Server) Roots(ctx context.Context) ([]byte, *x509.CertPool, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.ManagementURL+"/roots/0", nil)
	resp, err := s.Client().Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("acme: fetch pebble's root: %w", err)
	}
	defer resp.Body.Close()
	pem, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("acme: fetch pebble's root: %s %v", resp.Status, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, nil, fmt.Errorf("acme: pebble's root is not PEM")
	}
	return pem, pool, nil
}

// SetA makes host resolve to ip alone (challtestsrv's clear-a, add-a).
func (s *Server) SetA(ctx context.Context, host, ip string) error {
	if err := s.manage(ctx, "/clear-a", map[string]any{"host": host}); err != nil {
		return err
	}
	return s.manage(ctx, "/add-a", map[string]any{"host": host, "addresses": []string{ip}})
}

// SetTXT sets host's TXT record to value (challtestsrv's set-txt).
func (s *Server) SetTXT(ctx context.Context, host, value string) error {
	return s.manage(ctx, "/set-txt", map[string]any{"host": host, "value": value})
}

// ClearTXT removes host's TXT record.
func (s *Server) ClearTXT(ctx context.Context, host string) error {
	return s.manage(ctx, "/clear-txt", map[string]any{"host": host})
}

func (s *Server) manage(ctx context.Context, path string, body any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.ChallURL+path, bytes.NewReader(b))
	resp, err := s.Client().Do(req)
	if err != nil {
		return fmt.Errorf("acme: challtestsrv %s: %w", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("acme: challtestsrv %s: %s", path, resp.Status)
	}
	return nil
}

// Stop ends pebble and challtestsrv.
func (s *Server) Stop() {
	for i, cmd := range s.cmds {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.done[i]:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-s.done[i]
		}
	}
	s.cmds, s.done = nil, nil
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// prefixed labels each write with the process name (whole lines are what
// the children write in practice).
type prefixed struct {
	w    io.Writer
	name string
}

func (p *prefixed) Write(b []byte) (int, error) {
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) > 0 {
			fmt.Fprintf(p.w, "[%s] %s", p.name, line)
		}
	}
	return len(b), nil
}
