package nginx_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/infra/nginx"
	"github.com/tet-bookstore/bookstore/infra/nginx/nginxtest"
	"github.com/tet-bookstore/bookstore/internal/testenv"
)

func balancer(servers ...string) nginx.Balancer {
	return nginx.Balancer{Name: "objective2", Listen: "127.0.0.1:9000", Servers: servers}
}

func TestBalancerIsAcceptedByNginx(t *testing.T) {
	bin := testenv.Tool(t, "nginx")
	for name, b := range map[string]nginx.Balancer{
		"defaults": balancer("127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"),
		"tuned": {Name: "app-pool", Listen: "8080", Servers: []string{"10.0.1.5:8080"}, MaxFails: 3,
			FailTimeout: 30 * time.Second, ConnectTimeout: 250 * time.Millisecond, ReadTimeout: 5 * time.Second,
			MaxBodySize: "10m", ExposeUpstream: true},
	} {
		t.Run(name, func(t *testing.T) {
			conf, err := nginx.RenderBalancer(b)
			if err != nil {
				t.Fatal(err)
			}
			nginxtest.Validate(t, bin, t.TempDir(), conf)
		})
	}
}

// The properties the rehearsal relies on, read from the rendered file.
func TestBalancerDirectives(t *testing.T) {
	conf, err := nginx.RenderBalancer(balancer("127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"server 127.0.0.1:8001 max_fails=1 fail_timeout=10s;",
		"server 127.0.0.1:8003 max_fails=1 fail_timeout=10s;",
		"zone objective2 64k;",
		"listen 127.0.0.1:9000;",
		"proxy_pass http://objective2;",
		"proxy_next_upstream error timeout http_502 http_504;",
		"proxy_next_upstream_tries 3;",
		"proxy_connect_timeout 1000ms;",
		"proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto;",
		"client_max_body_size 10m;",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("balancer lacks %q:\n%s", want, conf)
		}
	}
	for _, banned := range []string{"non_idempotent", "least_conn", "ip_hash", "hash ", "X-Upstream-Addr"} {
		if strings.Contains(conf, banned) {
			t.Errorf("balancer must not contain %q (round robin, idempotent retries, no internal addresses by default)", banned)
		}
	}
}

func TestBalancerRejectsBadInput(t *testing.T) {
	for name, b := range map[string]nginx.Balancer{
		"no servers":      balancer(),
		"bad server":      balancer("127.0.0.1:8001; deny all"),
		"no port":         balancer("127.0.0.1"),
		"duplicate":       balancer("127.0.0.1:8001", "127.0.0.1:8001"),
		"bad name":        {Name: "a b", Listen: "9000", Servers: []string{"127.0.0.1:1"}},
		"bad listen":      {Name: "a", Listen: "localhost:9000", Servers: []string{"127.0.0.1:1"}},
		"negative fails":  {Name: "a", Listen: "9000", Servers: []string{"127.0.0.1:1"}, MaxFails: -1},
		"tiny timeout":    {Name: "a", Listen: "9000", Servers: []string{"127.0.0.1:1"}, ConnectTimeout: time.Microsecond},
		"fail timeout ms": {Name: "a", Listen: "9000", Servers: []string{"127.0.0.1:1"}, FailTimeout: 1500 * time.Millisecond},
		"bad size":        {Name: "a", Listen: "9000", Servers: []string{"127.0.0.1:1"}, MaxBodySize: "3g;"},
	} {
		if _, err := nginx.RenderBalancer(b); err == nil {
			t.Errorf("%s: RenderBalancer accepted %+v", name, b)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error must be one line: %q", name, err)
		}
	}
}

// hangUp is an instance that dies mid-request: it reads the request and
// closes the connection without answering, as a SIGKILLed process does.
type hangUp struct {
	l    net.Listener
	seen sync.Map // method -> *atomic.Int64
}

func newHangUp(t *testing.T) *hangUp {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hangUp{l: l}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err == nil {
					_, _ = io.Copy(io.Discard, req.Body)
					h.count(req.Method).Add(1)
				}
			}()
		}
	}()
	return h
}

func (h *hangUp) count(method string) *atomic.Int64 {
	v, _ := h.seen.LoadOrStore(method, new(atomic.Int64))
	return v.(*atomic.Int64)
}

// healthy answers 200 and counts requests by method.
func healthy(t *testing.T) (*httptest.Server, *sync.Map) {
	var seen sync.Map
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := seen.LoadOrStore(r.Method, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
		fmt.Fprintln(w, "ok")
	}))
	t.Cleanup(s.Close)
	return s, &seen
}

func countOf(m *sync.Map, method string) int64 {
	v, ok := m.Load(method)
	if !ok {
		return 0
	}
	return v.(*atomic.Int64).Load()
}

// runBalancer runs the real nginx with only the balancer and returns its URL.
func runBalancer(t *testing.T, b nginx.Balancer) string {
	t.Helper()
	b.Listen = nginxtest.FreeAddr(t)
	conf, err := nginx.RenderBalancer(b)
	if err != nil {
		t.Fatal(err)
	}
	nginxtest.Run(t, conf, b.Listen)
	return "http://" + b.Listen + "/"
}

func send(t *testing.T, method, url string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(`{"book_id":1,"quantity":1}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// An instance dying mid-request: a GET is retried on the next instance and
// succeeds; a POST that reached the dying instance is answered 502 and never
// sent again (a purchase must not be made twice); every request reaches the
// instances at most once per method's rules.
func TestBalancerRetriesOnlyIdempotentRequests(t *testing.T) {
	dying := newHangUp(t)
	ok, okSeen := healthy(t)
	// Many allowed fails keep the dying instance in the rotation, so every
	// other request meets it.
	url := runBalancer(t, nginx.Balancer{Name: "pool", Servers: []string{dying.l.Addr().String(), ok.Listener.Addr().String()}, MaxFails: 1000})

	const n = 10
	for i := 0; i < n; i++ {
		if got := send(t, http.MethodGet, url+"books"); got != http.StatusOK {
			t.Errorf("GET %d: %d, want 200 (retried on the healthy instance)", i, got)
		}
	}
	if dying.count(http.MethodGet).Load() == 0 {
		t.Fatal("no GET reached the dying instance: the test proves nothing about retries")
	}
	if got := countOf(okSeen, http.MethodGet); got != n {
		t.Errorf("the healthy instance answered %d GETs, want all %d", got, n)
	}

	var failed int64
	for i := 0; i < n; i++ {
		switch got := send(t, http.MethodPost, url+"api/v1/purchases"); got {
		case http.StatusOK:
		case http.StatusBadGateway:
			failed++
		default:
			t.Errorf("POST %d: %d, want 200 or 502", i, got)
		}
	}
	toDying, toHealthy := dying.count(http.MethodPost).Load(), countOf(okSeen, http.MethodPost)
	if toDying == 0 {
		t.Fatal("no POST reached the dying instance: the test proves nothing")
	}
	if toDying+toHealthy != n {
		t.Errorf("%d POSTs reached the dying instance and %d the healthy one: a POST was sent twice", toDying, toHealthy)
	}
	if failed != toDying {
		t.Errorf("%d POSTs answered 502, want the %d that reached the dying instance", failed, toDying)
	}
}

// A POST refused at connect time never reached an instance, so it is passed
// on: a stopped instance costs no purchase.
func TestBalancerPassesOnPostsRefusedAtConnect(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stopped := l.Addr().String()
	l.Close()
	ok, okSeen := healthy(t)
	url := runBalancer(t, nginx.Balancer{Name: "pool", Servers: []string{stopped, ok.Listener.Addr().String()}, MaxFails: 1000})
	for i := 0; i < 6; i++ {
		if got := send(t, http.MethodPost, url+"api/v1/purchases"); got != http.StatusOK {
			t.Errorf("POST %d: %d, want 200 from the running instance", i, got)
		}
	}
	if got := countOf(okSeen, http.MethodPost); got != 6 {
		t.Errorf("the running instance got %d POSTs, want 6", got)
	}
}

// The rehearsal's response headers say which instances a request tried.
func TestBalancerExposesUpstreamOnlyWhenAsked(t *testing.T) {
	ok, _ := healthy(t)
	url := runBalancer(t, nginx.Balancer{Name: "pool", Servers: []string{ok.Listener.Addr().String()}, ExposeUpstream: true})
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Upstream-Addr"); got != ok.Listener.Addr().String() {
		t.Errorf("X-Upstream-Addr = %q, want %s", got, ok.Listener.Addr())
	}
}
