package swarm

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
)

// run runs a command, its output only in the error.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("swarm: %s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func runAll(cmds [][]string) error {
	for _, c := range cmds {
		if err := run(c[0], c[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// freeSubnet is a 192.168.X (100 <= X < 200) no interface of the host uses.
func freeSubnet() (string, error) {
	out, err := exec.Command("ip", "-o", "-4", "addr").Output()
	if err != nil {
		return "", fmt.Errorf("swarm: ip addr: %w", err)
	}
	b := make([]byte, 1)
	for try := 0; try < 100; try++ {
		_, _ = rand.Read(b)
		subnet := fmt.Sprintf("192.168.%d", 100+int(b[0])%100)
		if !strings.Contains(string(out), " "+subnet+".") {
			return subnet, nil
		}
	}
	return "", fmt.Errorf("swarm: no free 192.168.X.0/24 for the nodes' bridge")
}

// unmountUnder lazily unmounts every mount below dir, deepest first.
func unmountUnder(dir string) {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return
	}
	defer f.Close()
	var mounts []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) > 1 && strings.HasPrefix(fields[1], dir+"/") {
			mounts = append(mounts, fields[1])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(mounts)))
	for _, m := range mounts {
		_ = syscall.Unmount(m, syscall.MNT_DETACH)
	}
}
