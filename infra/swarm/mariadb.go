package swarm

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MariaDB is a private mariadbd for the swarm's services, on the bridge
// address so containers on every node reach it: never the machine's shared
// server, so a test may stop it for an outage and start it again.
type MariaDB struct {
	Addr string // BridgeIP:PORT
	dir  string
	log  io.Writer
	cmd  *exec.Cmd
	done chan struct{}
}

// StartMariaDB initializes a data directory under dir and starts mariadbd
// listening on ip at a free port.
func StartMariaDB(ctx context.Context, dir, ip string, log io.Writer) (*MariaDB, error) {
	for _, tool := range []string{"mariadbd", "mariadb-install-db"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("swarm: %s not found (Debian: apt-get install mariadb-server): %w", tool, err)
		}
	}
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		return nil, fmt.Errorf("swarm: a port for MariaDB on %s: %w", ip, err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	m := &MariaDB{Addr: net.JoinHostPort(ip, strconv.Itoa(port)), dir: dir, log: log}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, "mariadb-install-db", "--no-defaults", "--user=root", "--datadir="+filepath.Join(dir, "data"),
		"--auth-root-authentication-method=normal", "--skip-test-db").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("swarm: mariadb-install-db: %w: %s", err, out)
	}
	if err := m.Start(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// Start (re)starts mariadbd on the same port and data, and waits until it
// answers.
func (m *MariaDB) Start(ctx context.Context) error {
	_, port, _ := net.SplitHostPort(m.Addr)
	host, _, _ := net.SplitHostPort(m.Addr)
	cmd := exec.Command("mariadbd", "--no-defaults", "--user=root", "--datadir="+filepath.Join(m.dir, "data"),
		"--socket="+m.socket(), "--pid-file="+filepath.Join(m.dir, "mariadbd.pid"), "--port="+port, "--bind-address="+host,
		"--skip-name-resolve", "--innodb-buffer-pool-size=32M", "--max-connections=500")
	cmd.Stdout, cmd.Stderr = m.log, m.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("swarm: start mariadbd: %w", err)
	}
	m.cmd, m.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(m.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		db, err := m.root()
		if err == nil {
			err = db.PingContext(ctx)
			db.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-m.done:
			return fmt.Errorf("swarm: mariadbd exited while starting")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("swarm: mariadbd not answering after 60s: %v", err)
		}
	}
}

func (m *MariaDB) socket() string { return filepath.Join(m.dir, "mariadbd.sock") }

func (m *MariaDB) root() (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "unix", m.socket()
	cfg.Timeout = 3 * time.Second
	return sql.Open("mysql", cfg.FormatDSN())
}

// Database creates a database and a user that may use only it, and returns
// the store's DSN for it (mysql://USER:PASS@ADDR/NAME).
func (m *MariaDB) Database(ctx context.Context, name, password string) (string, error) {
	db, err := m.root()
	if err != nil {
		return "", err
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
		"CREATE USER '" + name + "'@'%' IDENTIFIED BY '" + password + "'",
		"GRANT ALL ON `" + name + "`.* TO '" + name + "'@'%'",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return "", fmt.Errorf("swarm: database %s: %w", name, err)
		}
	}
	return "mysql://" + name + ":" + password + "@" + m.Addr + "/" + name, nil
}

// Stop stops mariadbd (SIGTERM, SIGKILL after 30s); Start brings it back.
func (m *MariaDB) Stop() {
	if m.cmd == nil {
		return
	}
	select {
	case <-m.done:
		return
	default:
	}
	_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.done
	}
}
