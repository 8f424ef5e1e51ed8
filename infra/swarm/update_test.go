package swarm_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tet-bookstore/bookstore/infra/image"
	"github.com/tet-bookstore/bookstore/infra/swarm"
)

// A new tag rolls out with the stack's update config (one task at a time,
// start-first) with no failed read; an image whose healthcheck fails rolls
// back by itself (failure_action: rollback), reads still served.
func checkRollingUpdate(t *testing.T, r *swarm.Rehearsal) {
	ctx := context.Background()
	good := r.Deployment
	good.Version = "rehearsal-2"
	if _, err := image.Docker(ctx, "", "tag", swarm.AppImage(r.Deployment.Version), swarm.AppImage(good.Version)); err != nil {
		t.Fatal(err)
	}
	broken := good
	broken.Version = "rehearsal-broken"
	buildBroken(t, swarm.AppImage(good.Version), swarm.AppImage(broken.Version))
	if err := r.Cluster.Load(ctx, swarm.AppImage(good.Version), swarm.AppImage(broken.Version)); err != nil {
		t.Fatal(err)
	}

	for _, step := range []struct {
		d         swarm.Deployment
		wantState string
		wantImage string
	}{
		{good, "completed", swarm.AppImage(good.Version)},
		{broken, "rollback_completed", swarm.AppImage(good.Version)},
	} {
		start := time.Now()
		reads := startReads(r)
		if err := r.Redeploy(ctx, step.d); err != nil {
			t.Fatal(err)
		}
		var states map[string]string
		for {
			var err error
			if states, err = r.UpdateStates(ctx); err != nil {
				t.Fatal(err)
			}
			done := true
			for _, s := range states {
				done = done && s == step.wantState+" "+step.wantImage
			}
			if done {
				break
			}
			if time.Since(start) > 10*time.Minute {
				t.Fatalf("deploy %s: services not %s on %s in 10 minutes: %v", step.d.Version, step.wantState, step.wantImage, states)
			}
			time.Sleep(3 * time.Second)
		}
		n, failed := reads.stop()
		t.Logf("deploy %s: %s in %s, %d reads, failures: %v", step.d.Version, step.wantState, time.Since(start).Round(time.Second), n, failed)
		if n == 0 || len(failed) > 0 {
			t.Errorf("deploy %s: %d reads, %d failed: %v", step.d.Version, n, len(failed), failed)
		}
	}
}

// buildBroken is from's image with a bookstore that never listens and
// whose healthcheck always fails: a release that starts but is unhealthy.
func buildBroken(t *testing.T, from, tag string) {
	t.Helper()
	dir := t.TempDir()
	src := "package main\n\nimport (\n\t\"os\"\n\t\"time\"\n)\n\nfunc main() {\n\tif len(os.Args) > 1 && os.Args[1] == \"healthcheck\" {\n\t\tos.Exit(1)\n\t}\n\ttime.Sleep(time.Hour)\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "bookstore"), "main.go")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GO111MODULE=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the broken binary: %v\n%s", err, out)
	}
	dockerfile := "FROM " + from + "\nCOPY bookstore /usr/local/bin/bookstore\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("docker", "build", "-q", "-t", tag, dir)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the broken image: %v\n%s", err, out)
	}
}

type reads struct {
	stopc  chan struct{}
	wg     sync.WaitGroup
	n      atomic.Int64
	mu     sync.Mutex
	failed []string
}

// startReads reads the catalog through the gateway from 4 clients.
func startReads(r *swarm.Rehearsal) *reads {
	rd := &reads{stopc: make(chan struct{})}
	for i := 0; i < 4; i++ {
		rd.wg.Add(1)
		go func() {
			defer rd.wg.Done()
			for {
				select {
				case <-rd.stopc:
					return
				default:
				}
				code, err := r.Get("api/v1/books")
				rd.n.Add(1)
				if code != 200 {
					rd.mu.Lock()
					rd.failed = append(rd.failed, fmt.Sprintf("%s: %d %v", time.Now().Format("15:04:05"), code, err))
					rd.mu.Unlock()
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	return rd
}

func (rd *reads) stop() (int64, []string) {
	close(rd.stopc)
	rd.wg.Wait()
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if len(rd.failed) > 10 {
		rd.failed = append(rd.failed[:10], strings.Repeat(".", 3))
	}
	return rd.n.Load(), rd.failed
}
