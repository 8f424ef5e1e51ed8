package firstboot

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RootfsPackages are added to debootstrap's minbase: what Debian's cloud
// image has that the scripts rely on before their own apt-get install
// (systemd as init, curl for the metadata service, CA certificates).
var RootfsPackages = []string{"systemd", "systemd-sysv", "dbus", "ca-certificates", "curl", "iproute2"}

// EnsureRootfs returns dir/rootfs-bookworm, running debootstrap into it
// once; later runs reuse it (each boot writes to an overlay on top).
func EnsureRootfs(ctx context.Context, dir string, log io.Writer) (string, error) {
	root := filepath.Join(dir, "rootfs-bookworm")
	if _, err := os.Stat(filepath.Join(root, ".bookstore-complete")); err == nil {
		return root, nil
	}
	tmp := root + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "debootstrap", "--variant=minbase", "--include="+strings.Join(RootfsPackages, ","),
		"bookworm", tmp, "http://deb.debian.org/debian")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("firstboot: debootstrap bookworm: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".bookstore-complete"), nil, 0o644); err != nil {
		return "", err
	}
	return root, os.Rename(tmp, root)
}

// File is one file written into a machine before it boots.
type File struct {
	Path string
	Mode os.FileMode
	Data string
}

// Machine is one booted system container.
type Machine struct {
	Name   string
	Merged string // the container's root as seen from the host
	dir    string
	cmd    *exec.Cmd
	done   chan struct{}
}

// resultFile is written by the first-boot unit when the user data ends.
const resultFile = "/var/lib/cloud/instance/result"

// firstBootUnit runs the user data once, after the network is up, as
// cloud-init's final stage (cloud-final.service) runs a user-data script.
const firstBootUnit = `[Unit]
Description=Run the instance's user data once, as cloud-init does at first boot
After=network-online.target
Wants=network-online.target
ConditionPathExists=!/var/lib/cloud/instance/boot-finished

[Service]
Type=oneshot
# Like cloud-init: run the script as a child, record how it ended, leave
# whatever it started running.
ExecStart=/bin/sh -c 'status=0; /var/lib/cloud/instance/user-data.txt || status=$$?; echo "exit $$status" > ` + resultFile + `; touch /var/lib/cloud/instance/boot-finished; exit $$status'
RemainAfterExit=yes
TimeoutStartSec=0
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
`

// Boot mounts an overlay of rootfs under dir, writes files and the user
// data with its first-boot unit into it, and boots it with systemd-nspawn
// in ns. Output (the console) goes to log.
func Boot(name, rootfs, dir string, ns Netns, userData string, files []File, log io.Writer) (*Machine, error) {
	m := &Machine{Name: name, dir: dir, Merged: filepath.Join(dir, "merged")}
	for _, d := range []string{"upper", "work", "merged"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", rootfs, filepath.Join(dir, "upper"), filepath.Join(dir, "work"))
	if err := syscall.Mount("overlay", m.Merged, "overlay", 0, opts); err != nil {
		return nil, fmt.Errorf("firstboot: mount overlay for %s: %w", name, err)
	}
	files = append(files,
		File{"/etc/hostname", 0o644, name + "\n"},
		File{"/var/lib/cloud/instance/user-data.txt", 0o700, userData},
		File{"/etc/systemd/system/bookstore-first-boot.service", 0o644, firstBootUnit},
	)
	for _, f := range files {
		if err := m.WriteFile(f); err != nil {
			m.unmount()
			return nil, err
		}
	}
	wants := filepath.Join(m.Merged, "etc/systemd/system/multi-user.target.wants")
	if err := os.MkdirAll(wants, 0o755); err != nil {
		m.unmount()
		return nil, err
	}
	if err := os.Symlink("../bookstore-first-boot.service", filepath.Join(wants, "bookstore-first-boot.service")); err != nil {
		m.unmount()
		return nil, err
	}
	// --register=no --keep-unit: this machine's init is not systemd, so
	// there is no machined or manager to register a scope with.
	m.cmd = exec.Command("systemd-nspawn", "--quiet", "--boot", "--register=no", "--keep-unit",
		"--directory="+m.Merged, "--machine="+name, "--network-namespace-path="+ns.Path(),
		"--resolv-conf=off", "--timezone=off", "--link-journal=no")
	m.cmd.Stdout, m.cmd.Stderr = log, log
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := m.cmd.Start(); err != nil {
		m.unmount()
		return nil, fmt.Errorf("firstboot: systemd-nspawn %s: %w", name, err)
	}
	m.done = make(chan struct{})
	go func() { _ = m.cmd.Wait(); close(m.done) }()
	return m, nil
}

// WriteFile writes f into the machine's root (mkdir -p its directory).
func (m *Machine) WriteFile(f File) error {
	p := filepath.Join(m.Merged, f.Path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(f.Data), f.Mode)
}

// WaitFirstBoot waits until the user data has run, and returns its result
// ("exit 0" when it exited 0).
func (m *Machine) WaitFirstBoot(ctx context.Context) (string, error) {
	for {
		if b, err := os.ReadFile(filepath.Join(m.Merged, resultFile)); err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b)), nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("firstboot: %s: user data still running: %w", m.Name, ctx.Err())
		case <-m.done:
			return "", fmt.Errorf("firstboot: %s: the container exited before its user data finished", m.Name)
		case <-time.After(time.Second):
		}
	}
}

// leader is the container's PID 1 as seen from the host.
func (m *Machine) leader() (int, error) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if strings.Contains(string(stat), "(systemd)") && descends(pid, m.cmd.Process.Pid) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("firstboot: %s: no systemd below systemd-nspawn %d", m.Name, m.cmd.Process.Pid)
}

// Exec runs a command inside the running container (all its namespaces).
func (m *Machine) Exec(ctx context.Context, argv ...string) (string, error) {
	pid, err := m.leader()
	if err != nil {
		return "", err
	}
	args := append([]string{"-t", strconv.Itoa(pid), "-m", "-u", "-i", "-n", "-p", "--"}, argv...)
	out, err := exec.CommandContext(ctx, "nsenter", args...).CombinedOutput()
	return string(out), err
}

// Stop powers the container off (SIGTERM makes nspawn ask systemd to shut
// down; SIGKILL after a grace period) and unmounts its root. Its files stay
// in dir for the caller to remove.
func (m *Machine) Stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = m.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-m.done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
			<-m.done
		}
	}
	m.unmount()
}

func (m *Machine) unmount() {
	_ = syscall.Unmount(m.Merged, syscall.MNT_DETACH)
}

// descends reports whether pid is below ancestor (nspawn forks twice).
func descends(pid, ancestor int) bool {
	for range 4 {
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			return false
		}
		// pid (comm) state ppid ...
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 2 {
			return false
		}
		ppid, _ := strconv.Atoi(fields[1])
		if ppid == ancestor {
			return true
		}
		pid = ppid
	}
	return false
}
