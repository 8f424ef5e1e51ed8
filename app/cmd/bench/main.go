// Command bench measures the catalog page the way a shopper loads it: it
// starts the bookstore binary as its own process on a fresh SQLite file,
// lists 200 books through the API, then loads /books?per_page=200 from this
// process with concurrent keep-alive clients and prints requests/s, p50/p99
// latency and the server's peak RSS against the targets.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Targets: ten times the Flask original (~260 req/s with 2 gunicorn workers
// on 2 cores) and a small footprint.
const (
	targetRPS   = 2600
	targetRSSMB = 50
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	binary := flag.String("binary", "./bin/bookstore", "bookstore binary to benchmark")
	books := flag.Int("books", 200, "books to list before measuring")
	path := flag.String("path", "/books?per_page=200", "page to load")
	duration := flag.Duration("duration", 10*time.Second, "how long to load the page")
	workers := flag.Int("c", 32, "concurrent clients")
	flag.Parse()

	dir, err := os.MkdirTemp("", "bookstore-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	base := "http://" + addr

	cmd := exec.Command(*binary, "serve")
	cmd.Env = append(os.Environ(),
		"BOOKSTORE_ADDR="+addr,
		"BOOKSTORE_DB_DSN=sqlite:"+filepath.Join(dir, "bench.db"),
		"BOOKSTORE_UPLOADS_DIR="+filepath.Join(dir, "uploads"),
		"BOOKSTORE_SEED_DEMO=false",
		"BOOKSTORE_MAX_BOOKS_PER_HOUR=0", // one seller lists every book of the run
		"BOOKSTORE_ADMIN_EMAIL=admin@bench.local",
		"BOOKSTORE_ADMIN_PASSWORD=bench-admin-password",
		"BOOKSTORE_LOG_LEVEL=error",
		"BOOKSTORE_DRAIN_DELAY=0s",
	)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", *binary, err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}()
	if err := waitReady(base, 30*time.Second); err != nil {
		return err
	}
	if err := listBooks(base, *books); err != nil {
		return err
	}
	fmt.Printf("server pid %d at %s with %d books; loading %s for %s with %d clients\n",
		cmd.Process.Pid, base, *books, *path, *duration, *workers)
	res, err := load(base+*path, *duration, *workers)
	if err != nil {
		return err
	}
	rssKB, err := peakRSSKB(cmd.Process.Pid)
	if err != nil {
		return err
	}
	rps := float64(res.count) / res.elapsed.Seconds()
	fmt.Printf("requests:    %d in %s (%d errors)\n", res.count, res.elapsed.Round(time.Millisecond), res.errors)
	fmt.Printf("throughput:  %.0f requests/s   (target ≥ %d: %s)\n", rps, targetRPS, verdict(rps >= targetRPS))
	fmt.Printf("latency:     p50 %s   p99 %s\n", res.pct(50), res.pct(99))
	fmt.Printf("peak RSS:    %.1f MB   (target < %d MB: %s)\n", float64(rssKB)/1024, targetRSSMB, verdict(rssKB < targetRSSMB*1024))
	if res.errors > 0 {
		return fmt.Errorf("%d requests failed", res.errors)
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
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

// listBooks registers a seller and lists n books through the JSON API.
func listBooks(base string, n int) error {
	seller := map[string]string{"name": "Bench Seller", "email": "seller@bench.local", "password": "bench-seller-pw"}
	if _, err := call(base, "", "/api/v1/auth/register", seller, http.StatusCreated); err != nil {
		return err
	}
	body, err := call(base, "", "/api/v1/auth/login", seller, http.StatusOK)
	if err != nil {
		return err
	}
	var login struct{ Token string }
	if err := json.Unmarshal(body, &login); err != nil || login.Token == "" {
		return fmt.Errorf("login answered without a token: %s", body)
	}
	for i := range n {
		book := map[string]any{
			"title":       fmt.Sprintf("Benchmark Volume %03d", i+1),
			"author":      []string{"Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"}[i%4],
			"description": strings.Repeat("A well-kept second-hand copy. ", 4),
			"price_cents": 500 + i*37,
			"stock":       1 + i%9,
		}
		if _, err := call(base, login.Token, "/api/v1/books", book, http.StatusCreated); err != nil {
			return err
		}
	}
	return nil
}

func call(base, token, path string, body any, want int) ([]byte, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
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

type result struct {
	count, errors int
	elapsed       time.Duration
	latencies     []time.Duration
}

func (r result) pct(p int) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := (len(r.latencies) - 1) * p / 100
	return r.latencies[i].Round(10 * time.Microsecond)
}

func load(url string, d time.Duration, workers int) (result, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var (
		mu     sync.Mutex
		res    result
		wg     sync.WaitGroup
		errOne error
	)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			errs := 0
			for ctx.Err() == nil {
				t0 := time.Now()
				resp, err := client.Get(url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = errors.New("status " + strconv.Itoa(resp.StatusCode))
					}
				}
				if err != nil {
					errs++
					mu.Lock()
					if errOne == nil {
						errOne = err
					}
					mu.Unlock()
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.count += len(lat)
			res.errors += errs
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	if res.count == 0 && errOne != nil {
		return res, fmt.Errorf("every request failed, first: %w", errOne)
	}
	return res, nil
}

// peakRSSKB reads the high-water mark of the server's resident memory.
func peakRSSKB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read server memory: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}
