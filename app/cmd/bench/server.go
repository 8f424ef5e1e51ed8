package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// server is one bookstore process under test.
type server struct {
	cmd  *exec.Cmd
	base string
}

// startServer runs binary serve on dsn with its own uploads directory under
// dir, on a free loopback port, and waits until it is ready.
func startServer(binary, dsn, dir string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(),
		"BOOKSTORE_ADDR="+addr,
		"BOOKSTORE_DB_DSN="+dsn,
		"BOOKSTORE_UPLOADS_DIR="+filepath.Join(dir, "uploads"),
		"BOOKSTORE_SEED_DEMO=false",
		"BOOKSTORE_ADMIN_EMAIL=admin@bench.local",
		"BOOKSTORE_ADMIN_PASSWORD=bench-admin-password",
		"BOOKSTORE_LOG_LEVEL=error",
		"BOOKSTORE_DRAIN_DELAY=0s",
		// Every buy is paid at once, but many workers share one buyer.
		"BOOKSTORE_MAX_OPEN_ORDERS=1000",
		"BOOKSTORE_MAX_BOOKS_PER_HOUR=0",     // one seller lists every book of the run
		"BOOKSTORE_SIGNUPS_PER_ADDRESS=1000", // every bench account signs up from 127.0.0.1
	)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	s := &server{cmd: cmd, base: "http://" + addr}
	if err := waitReady(s.base, 60*time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitReady(base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("server at %s not ready after %s", base, limit)
}

// fixture is what seeding made: a token to buy with, the listed books and a
// book with enough stock for every purchase of the run.
type fixture struct {
	token   string
	bookIDs []int64
	buyID   int64
}

// seed registers a seller and lists n books through the JSON API, plus one
// book to buy from.
func seed(base string, n int) (fixture, error) {
	var fx fixture
	seller := map[string]string{"name": "Bench Seller", "email": "seller@bench.local", "password": "bench-seller-pw"}
	if _, err := call(base, "", "/api/v1/auth/register", seller, http.StatusCreated); err != nil {
		return fx, err
	}
	body, err := call(base, "", "/api/v1/auth/login", seller, http.StatusOK)
	if err != nil {
		return fx, err
	}
	var login struct{ Token string }
	if err := json.Unmarshal(body, &login); err != nil || login.Token == "" {
		return fx, fmt.Errorf("login answered without a token: %s", body)
	}
	fx.token = login.Token
	for i := range n + 1 {
		book := map[string]any{
			"title":       fmt.Sprintf("Benchmark Volume %03d", i+1),
			"author":      []string{"Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"}[i%4],
			"description": strings.Repeat("A well-kept second-hand copy. ", 4),
			"price_cents": 500 + i*37,
			"stock":       1 + i%9,
		}
		if i == n {
			book["title"], book["stock"] = "Benchmark Bestseller", 100_000
		}
		body, err := call(base, fx.token, "/api/v1/books", book, http.StatusCreated)
		if err != nil {
			return fx, err
		}
		var b struct{ ID int64 }
		if err := json.Unmarshal(body, &b); err != nil || b.ID == 0 {
			return fx, fmt.Errorf("book created without an id: %s", body)
		}
		if i == n {
			fx.buyID = b.ID
		} else {
			fx.bookIDs = append(fx.bookIDs, b.ID)
		}
	}
	return fx, nil
}

func call(base, token, path string, body any, want int) ([]byte, error) {
	return callCtx(context.Background(), http.DefaultClient, base, token, path, body, want)
}

func callCtx(ctx context.Context, c *http.Client, base, token, path string, body any, want int) ([]byte, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return nil, fmt.Errorf("POST %s: status %d, want %d: %s", path, resp.StatusCode, want, out)
	}
	return out, nil
}

// mysqlBenchDB creates a fresh, randomly named database on the server of
// dsn (mysql://USER:PASS@HOST:PORT/, any database name in it is ignored)
// and returns the app's DSN for it and a function dropping it.
func mysqlBenchDB(dsn string) (appDSN string, drop func(), err error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme != "mysql" || u.User == nil || u.Host == "" {
		return "", nil, fmt.Errorf("BOOKSTORE_BENCH_MYSQL_DSN must look like mysql://USER:PASS@HOST:PORT/")
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net, cfg.Addr = "tcp", u.Host
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	name := "bookstore_bench_" + hex.EncodeToString(rnd[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create bench database on %s: %w", u.Host, err)
	}
	drop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE `"+name+"`"); err != nil {
			fmt.Fprintf(os.Stderr, "bench: drop database %s: %v\n", name, err)
		}
		admin.Close()
	}
	app := *u
	app.Path = "/" + name
	return app.String(), drop, nil
}

// loopbackPort is the DSN's port if its database runs on this machine,
// where its server process's CPU time can be read, and 0 otherwise.
func loopbackPort(dsn string) int {
	u, err := url.Parse(dsn)
	if err != nil {
		return 0
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return 0
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return 3306
	}
	return port
}
