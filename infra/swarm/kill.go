package swarm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Kill loses a node the way a crashed VM is lost: its network goes silent
// (no FIN, no RST, no answer to a connect, as from a machine without
// power), then every process of the node is killed at once: dockerd,
// containerd and the containers. The containers' processes live in
// network namespaces of their own, so the node's namespace alone does not
// name them; they are its processes' descendants. (Killing only the
// namespace's processes left every task running as an orphan, still
// accepting connections that nothing on the node could serve: a gateway
// whose DNS server, dockerd, was gone, so each request waited out NGINX's
// resolver timeout.)
func (c *Cluster) Kill(n *Node) error {
	ns := filepath.Base(n.NetNS)
	if err := exec.Command("ip", "-n", ns, "link", "set", "eth0", "down").Run(); err != nil {
		return fmt.Errorf("swarm: take %s off the network: %w", n.Name, err)
	}
	// Until none is left: a process may fork while the tree is read.
	for range 10 {
		out, err := exec.Command("ip", "netns", "pids", ns).Output()
		if err != nil {
			return fmt.Errorf("swarm: pids in %s: %w", n.NetNS, err)
		}
		var roots []int
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				roots = append(roots, pid)
			}
		}
		if len(roots) == 0 {
			break
		}
		for _, pid := range descendants(roots) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n.done != nil {
		select {
		case <-n.done:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("swarm: dockerd of %s survived SIGKILL", n.Name)
		}
	}
	return nil
}

// descendants is roots and every process below them (from /proc's parent
// ids), children first.
func descendants(roots []int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at its ')'.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b)[i+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			children[ppid] = append(children[ppid], pid)
		}
	}
	var out []int
	seen := map[int]bool{}
	var walk func(int)
	walk = func(pid int) {
		if seen[pid] {
			return
		}
		seen[pid] = true
		for _, c := range children[pid] {
			walk(c)
		}
		out = append(out, pid)
	}
	for _, r := range roots {
		walk(r)
	}
	return out
}
