// Package swarm runs a real Docker Swarm on one machine: each node is a
// dockerd in a network namespace of its own (with its own UTS namespace,
// so hostnames differ), joined by a bridge; node 0 is the manager and the
// others join as workers, as objective 3 deploys by default. Only the
// network namespace is entered (nsenter --net): `ip netns exec` remounts
// /sys and hides the cgroups dockerd needs. Stop leaves nothing behind:
// the stack, every dockerd and whatever ran in its namespace, the
// namespaces, the bridge, its FORWARD rule and the temporary directory.
package swarm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tet-bookstore/bookstore/infra/image"
)

// Options configures a cluster; zero values take the defaults.
type Options struct {
	Nodes int       // default 3
	Log   io.Writer // dockerd output; default io.Discard
}

// Cluster is a running swarm.
type Cluster struct {
	Nodes  []*Node
	Bridge string // the host side: its address is BridgeIP
	// BridgeIP is the host as the nodes (and their containers) reach it.
	BridgeIP string
	Dir      string
	id       string
	cleanup  []func() error
	log      io.Writer
}

// Node is one dockerd in its namespace.
type Node struct {
	Name    string // hostname and node name, e.g. swarm-1
	NetNS   string // /var/run/netns/NAME
	IP      string // its address on the bridge
	Host    string // unix:// address of its dockerd
	Manager bool
	dir     string
	cmd     *exec.Cmd
	done    chan struct{}
}

// Docker runs the docker CLI against the node.
func (n *Node) Docker(ctx context.Context, args ...string) (string, error) {
	return image.Docker(ctx, n.Host, args...)
}

// Manager is the node that runs `docker stack` commands.
func (c *Cluster) Manager() *Node { return c.Nodes[0] }

// Start makes the namespaces and bridge, starts a dockerd in each, and forms
// the swarm. On error whatever was made is removed.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	for _, tool := range []string{"ip", "iptables", "nsenter", "unshare", "dockerd", "docker"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("swarm: %s not found (Debian: apt-get install docker.io iproute2 iptables util-linux): %w", tool, err)
		}
	}
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	c := &Cluster{id: hex.EncodeToString(b), log: o.Log}
	var err error
	// Short: containerd's socket path under it must stay below 108 bytes.
	if c.Dir, err = os.MkdirTemp("", "bsw"); err != nil {
		return nil, err
	}
	c.cleanup = append(c.cleanup, func() error { return os.RemoveAll(c.Dir) })
	if err := c.network(o.Nodes); err != nil {
		c.Stop()
		return nil, err
	}
	for _, n := range c.Nodes {
		if err := c.startDockerd(ctx, n); err != nil {
			c.Stop()
			return nil, err
		}
	}
	if err := c.form(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// network makes the bridge on a free 192.168.X.0/24 and one namespace per
// node with a veth on it and the host as default route (the nodes reach
// the host's services at BridgeIP).
func (c *Cluster) network(nodes int) error {
	subnet, err := freeSubnet()
	if err != nil {
		return err
	}
	c.Bridge = "bsw" + c.id + "br"
	c.BridgeIP = subnet + ".1"
	if err := run("ip", "link", "add", c.Bridge, "type", "bridge"); err != nil {
		return err
	}
	c.cleanup = append(c.cleanup, func() error { return run("ip", "link", "del", c.Bridge) })
	if err := runAll([][]string{
		{"ip", "addr", "add", c.BridgeIP + "/24", "dev", c.Bridge},
		{"ip", "link", "set", c.Bridge, "up"},
	}); err != nil {
		return err
	}
	// A running dockerd sets FORWARD's policy to DROP; the bridge must
	// still carry the nodes' traffic to one another.
	rule := []string{"FORWARD", "-i", c.Bridge, "-o", c.Bridge, "-j", "ACCEPT"}
	if err := run("iptables", append([]string{"-I"}, rule...)...); err != nil {
		return err
	}
	c.cleanup = append(c.cleanup, func() error { return run("iptables", append([]string{"-D"}, rule...)...) })
	for i := 0; i < nodes; i++ {
		ns := fmt.Sprintf("bsw%sn%d", c.id, i+1)
		n := &Node{
			Name: fmt.Sprintf("swarm-%d", i+1), NetNS: "/var/run/netns/" + ns,
			IP: fmt.Sprintf("%s.%d", subnet, 11+i), Manager: i == 0,
			dir: filepath.Join(c.Dir, strconv.Itoa(i+1)),
		}
		n.Host = "unix://" + filepath.Join(n.dir, "docker.sock")
		c.Nodes = append(c.Nodes, n)
		if err := run("ip", "netns", "add", ns); err != nil {
			return err
		}
		c.cleanup = append(c.cleanup, func() error { return run("ip", "netns", "del", ns) })
		hostSide, nodeSide := fmt.Sprintf("bsw%sh%d", c.id, i+1), fmt.Sprintf("bsw%sv%d", c.id, i+1)
		if err := runAll([][]string{
			{"ip", "link", "add", hostSide, "type", "veth", "peer", "name", nodeSide},
			{"ip", "link", "set", hostSide, "master", c.Bridge, "up"},
			{"ip", "link", "set", nodeSide, "netns", ns},
			{"ip", "-n", ns, "link", "set", nodeSide, "name", "eth0"},
			{"ip", "-n", ns, "addr", "add", n.IP + "/24", "dev", "eth0"},
			{"ip", "-n", ns, "link", "set", "eth0", "up"},
			{"ip", "-n", ns, "link", "set", "lo", "up"},
			{"ip", "-n", ns, "route", "add", "default", "via", c.BridgeIP},
		}); err != nil {
			return err
		}
	}
	return nil
}

// startDockerd runs the node's dockerd in its network namespace and a UTS
// namespace named after the node, with its own socket, data, exec root and
// default bridge address.
func (c *Cluster) startDockerd(ctx context.Context, n *Node) error {
	if err := os.MkdirAll(n.dir, 0o700); err != nil {
		return err
	}
	idx := strings.TrimPrefix(n.Name, "swarm-")
	args := []string{"--net=" + n.NetNS, "unshare", "--uts", "--", "sh", "-c", `hostname "$1" && shift && exec "$@"`, "sh", n.Name,
		"dockerd", "--host", n.Host, "--data-root", filepath.Join(n.dir, "data"), "--exec-root", filepath.Join(n.dir, "x"),
		"--pidfile", filepath.Join(n.dir, "docker.pid"), "--bip", "172.31." + idx + ".1/24", "--log-level", "warn"}
	cmd := exec.Command("nsenter", args...)
	cmd.Stdout, cmd.Stderr = c.log, c.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("swarm: start dockerd on %s: %w", n.Name, err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(n.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := n.Docker(ctx, "version", "--format", "{{.Server.Version}}"); err == nil {
			return nil
		}
		select {
		case <-n.done:
			return fmt.Errorf("swarm: dockerd on %s exited while starting", n.Name)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("swarm: dockerd on %s not answering after 60s", n.Name)
		}
	}
}

// form initializes the swarm on the manager and joins the others as
// workers. Heartbeats are short so a lost node is noticed within seconds.
func (c *Cluster) form(ctx context.Context) error {
	m := c.Manager()
	if _, err := m.Docker(ctx, "swarm", "init", "--advertise-addr", m.IP, "--listen-addr", m.IP+":2377", "--dispatcher-heartbeat", "2s"); err != nil {
		return fmt.Errorf("swarm: init: %w", err)
	}
	token, err := m.Docker(ctx, "swarm", "join-token", "-q", "worker")
	if err != nil {
		return fmt.Errorf("swarm: %w", err)
	}
	for _, n := range c.Nodes[1:] {
		if _, err := n.Docker(ctx, "swarm", "join", "--token", token, "--advertise-addr", n.IP, "--listen-addr", n.IP+":2377", m.IP+":2377"); err != nil {
			return fmt.Errorf("swarm: %s joins: %w", n.Name, err)
		}
	}
	return nil
}

// NodeList is `docker node ls` on the manager.
func (c *Cluster) NodeList(ctx context.Context) (string, error) {
	return c.Manager().Docker(ctx, "node", "ls")
}

// Load copies images from the engine DOCKER_HOST names (where `make image`
// built them) to every node: docker save | docker load, as no registry is
// reachable.
func (c *Cluster) Load(ctx context.Context, images ...string) error {
	for _, n := range c.Nodes {
		save := exec.CommandContext(ctx, "docker", append([]string{"save"}, images...)...)
		load := exec.CommandContext(ctx, "docker", "load", "-q")
		load.Env = append(os.Environ(), "DOCKER_HOST="+n.Host)
		pipe, err := save.StdoutPipe()
		if err != nil {
			return err
		}
		load.Stdin = pipe
		var saveErr, loadErr strings.Builder
		save.Stderr, load.Stderr = &saveErr, &loadErr
		if err := save.Start(); err != nil {
			return err
		}
		if err := load.Run(); err != nil {
			_ = save.Wait()
			return fmt.Errorf("swarm: load %v on %s: %w: %s", images, n.Name, err, loadErr.String())
		}
		if err := save.Wait(); err != nil {
			return fmt.Errorf("swarm: save %v: %w: %s", images, err, saveErr.String())
		}
	}
	return nil
}

// Stop stops every dockerd (SIGTERM: it stops its containers; then
// everything left in its namespace is killed) and removes what Start made.
func (c *Cluster) Stop() error {
	var errs []error
	for _, n := range c.Nodes {
		if n.cmd == nil {
			continue
		}
		select {
		case <-n.done:
		default:
			_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-n.done:
			case <-time.After(30 * time.Second):
			}
		}
		if err := c.Kill(n); err != nil {
			errs = append(errs, err)
		}
		// Mounts dockerd left (a killed one cannot unmount) keep files busy.
		unmountUnder(n.dir)
	}
	for i := len(c.cleanup) - 1; i >= 0; i-- {
		if err := c.cleanup[i](); err != nil {
			errs = append(errs, err)
		}
	}
	c.cleanup = nil
	return errors.Join(errs...)
}
