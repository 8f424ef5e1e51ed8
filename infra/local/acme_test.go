package local_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/infra/acme"
	"github.com/tet-bookstore/bookstore/infra/local"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

// TestPebbleCertificateRenewal: with ACME=pebble the front serves the
// certificate certbot obtained from pebble over HTTP-01 through NGINX, and
// `certbot renew --force-renewal` runs the deploy hook, after which NGINX
// serves the new certificate (compared by serial in a real TLS handshake).
func TestPebbleCertificateRenewal(t *testing.T) {
	testenv.Tool(t, "certbot")
	testenv.Tool(t, "nginx")
	testenv.Tool(t, "go")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	logs := &lockedBuffer{}
	var logTo io.Writer = logs
	if testing.Verbose() {
		logTo = io.MultiWriter(logs, os.Stderr)
	}
	topo, err := local.Start(ctx, local.Options{
		Objective: 1, Binary: appBinary(t), HTTPSPort: freePort(t), HTTPPort: freePort(t),
		Dir: t.TempDir(), ACME: local.ACMEPebble, CacheDir: testCache(t), Environ: os.Environ(), Log: logTo,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.String())
	}
	defer topo.Stop()
	if topo.ACME == nil {
		t.Fatal("ACME=pebble started without certbot state")
	}
	resp, body := get(t, topo.Client(), topo.URL+"readyz")
	if resp.StatusCode != 200 {
		t.Fatalf("readyz through the pebble certificate: %s %s", resp.Status, body)
	}
	first := servedSerial(t, topo, "objective1."+local.Domain)
	if want := fileSerial(t, topo.ACME.CertFile()); first != want {
		t.Fatalf("NGINX serves serial %s, certbot's live certificate is %s", first, want)
	}
	if err := topo.ACME.Renew(ctx); err != nil {
		t.Fatal(err)
	}
	renewed := fileSerial(t, topo.ACME.CertFile())
	if renewed == first {
		t.Fatalf("forced renewal kept serial %s", first)
	}
	// nginx -s reload returns once signalled; new workers take over shortly.
	deadline := time.Now().Add(10 * time.Second)
	for served := servedSerial(t, topo, "objective1."+local.Domain); served != renewed; served = servedSerial(t, topo, "objective1."+local.Domain) {
		if time.Now().After(deadline) {
			t.Fatalf("after renewal NGINX serves serial %s, want the renewed %s: the deploy hook did not reload it", served, renewed)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// servedSerial is the serial of the leaf NGINX presents for host, verified
// against the topology's CA (pebble's root).
func servedSerial(t *testing.T, topo *local.Topology, host string) string {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp",
		net.JoinHostPort("127.0.0.1", strconv.Itoa(topo.HTTPSPort)),
		&tls.Config{ServerName: host, RootCAs: topo.CA, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS handshake with the front as %s: %v", host, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Text(16)
}

func fileSerial(t *testing.T, file string) string {
	t.Helper()
	s, err := acme.LeafSerial(file)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testCache keeps pebble's binaries between runs (BOOKSTORE_TEST_CACHE,
// default /var/cache/bookstore-test, as the first-boot test).
func testCache(t *testing.T) string {
	d := os.Getenv("BOOKSTORE_TEST_CACHE")
	if d == "" {
		d = "/var/cache/bookstore-test"
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}
