package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// op is one measured operation (one page load, or a buy and its payment),
// run by worker w as its n-th operation.
type op func(ctx context.Context, c *http.Client, w, n int) error

type result struct {
	count, errors int
	elapsed       time.Duration
	latencies     []time.Duration // sorted
	firstErr      error
}

func (r result) pct(p int) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := (len(r.latencies) - 1) * p / 100
	return r.latencies[i]
}

// load runs do with workers concurrent keep-alive clients until d has
// passed or maxOps operations have been started, whichever comes first, so
// a run is bounded in both time and requests.
func load(client *http.Client, do op, d time.Duration, workers, maxOps int) result {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var (
		mu      sync.Mutex
		res     result
		wg      sync.WaitGroup
		started atomic.Int64
	)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			errs := 0
			var first error
			for n := 0; ctx.Err() == nil && started.Add(1) <= int64(maxOps); n++ {
				t0 := time.Now()
				if err := do(ctx, client, w, n); err != nil {
					if ctx.Err() != nil {
						break // cut off by the deadline: not the server's fault
					}
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.count += len(lat)
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.latencies)
	return res
}

func newClient(workers int) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers, DisableCompression: true}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// get loads url and reads the whole answer, which must be a 200.
func get(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return errors.New("GET " + url + ": status " + strconv.Itoa(resp.StatusCode))
	}
	return nil
}

// errSummary is the first failure of a run, for the operator.
func errSummary(r result) string {
	if r.firstErr == nil {
		return ""
	}
	return fmt.Sprintf("%d failed, first: %v", r.errors, r.firstErr)
}
