// Package firstboot boots objective 1's VMs for real, on this machine: each
// VM is a Debian 12 system container (systemd-nspawn --boot, systemd as PID
// 1) in its own network namespace, its rendered user data run once at first
// boot by a oneshot unit the way cloud-init's final stage runs it. The
// instance metadata service, the AWS APIs the scripts call (SSM, Secrets
// Manager), DuckDNS, the release download, pebble (ACME) and its DNS server
// run in a "services" namespace the VMs reach over a bridge: every name
// resolves there, every stand-in serves TLS from a CA the VMs' trust store
// holds, so the scripts run unchanged. Debian packages come from the real
// mirrors through a caching proxy (apt's Acquire::http::Proxy).
package firstboot

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// The services namespace's bridge addresses: the VMs' default gateway and
// every stand-in, and the link-local instance metadata address.
const (
	ServicesIP = "10.0.1.1"
	IMDSIP     = "169.254.169.254"
	subnetBits = "/24"
)

// Netns is a named network namespace (ip netns add).
type Netns struct{ Name string }

// Path is the namespace's file, for nsenter --net= and setns.
func (n Netns) Path() string { return "/run/netns/" + n.Name }

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("firstboot: ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Network is the services namespace with its bridge, and one namespace per
// VM attached to it.
type Network struct {
	Services Netns
	VMs      map[string]Netns
	suffix   string
	created  []Netns
}

// NewNetwork creates the services namespace: bridge br0 with ServicesIP,
// the metadata address on lo.
func NewNetwork(suffix string) (*Network, error) {
	n := &Network{VMs: map[string]Netns{}, suffix: suffix}
	svc, err := n.add("bsfb-svc-" + suffix)
	if err != nil {
		return nil, err
	}
	n.Services = svc
	steps := [][]string{
		{"-n", svc.Name, "link", "add", "br0", "type", "bridge"},
		{"-n", svc.Name, "addr", "add", ServicesIP + subnetBits, "dev", "br0"},
		{"-n", svc.Name, "link", "set", "br0", "up"},
		{"-n", svc.Name, "addr", "add", IMDSIP + "/32", "dev", "lo"},
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			n.Close()
			return nil, err
		}
	}
	return n, nil
}

func (n *Network) add(name string) (Netns, error) {
	if err := ipCmd("netns", "add", name); err != nil {
		return Netns{}, err
	}
	ns := Netns{Name: name}
	n.created = append(n.created, ns)
	return ns, ipCmd("-n", name, "link", "set", "lo", "up")
}

// AddVM creates a VM's namespace: eth0 on the bridge with ip (10.0.1.X),
// default route via the services, and extra addresses on lo (the proxy's
// Elastic IP, which AWS NATs to the instance); the services route those
// extra addresses to the VM.
func (n *Network) AddVM(name, ip string, extra ...string) (Netns, error) {
	ns, err := n.add("bsfb-" + name + "-" + n.suffix)
	if err != nil {
		return Netns{}, err
	}
	host, peer := "fb"+name[:1]+"h"+n.suffix, "fb"+name[:1]+"v"+n.suffix
	steps := [][]string{
		{"link", "add", host, "type", "veth", "peer", "name", peer},
		{"link", "set", host, "netns", n.Services.Name},
		{"-n", n.Services.Name, "link", "set", host, "master", "br0", "up"},
		{"link", "set", peer, "netns", ns.Name},
		{"-n", ns.Name, "link", "set", peer, "name", "eth0"},
		{"-n", ns.Name, "addr", "add", ip + subnetBits, "dev", "eth0"},
		{"-n", ns.Name, "link", "set", "eth0", "up"},
		{"-n", ns.Name, "route", "add", "default", "via", ServicesIP},
	}
	for _, e := range extra {
		steps = append(steps,
			[]string{"-n", ns.Name, "addr", "add", e + "/32", "dev", "lo"},
			[]string{"-n", n.Services.Name, "route", "add", e + "/32", "via", ip})
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			return Netns{}, err
		}
	}
	n.VMs[name] = ns
	return ns, nil
}

// Close deletes every namespace it created (their veths go with them).
func (n *Network) Close() error {
	var first error
	for i := len(n.created) - 1; i >= 0; i-- {
		if err := ipCmd("netns", "del", n.created[i].Name); err != nil && first == nil {
			first = err
		}
	}
	n.created = nil
	return first
}

// inNetns runs f on an OS thread switched into ns. The thread is thrown
// away afterwards (the goroutine exits locked), so no other goroutine ever
// runs in the namespace; sockets f creates stay in it.
func inNetns(ns Netns, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		fd, err := os.Open(ns.Path())
		if err != nil {
			errc <- err
			return
		}
		defer fd.Close()
		if err := unix.Setns(int(fd.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("firstboot: setns %s: %w", ns.Name, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// Listen listens on addr inside ns.
func (ns Netns) Listen(addr string) (net.Listener, error) {
	var l net.Listener
	err := inNetns(ns, func() (err error) {
		l, err = net.Listen("tcp", addr)
		return err
	})
	return l, err
}

// DialContext dials from inside ns (an http.Transport's DialContext).
func (ns Netns) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := inNetns(ns, func() (err error) {
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}
