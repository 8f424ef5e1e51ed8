package swarm

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Balancer plays objective 3's entry load balancer on loopback: it passes
// each TCP connection to the first node whose gateway accepts it, starting
// with the next node each time, and prepends a PROXY protocol v1 header
// naming the client, as the NLB does (the gateway's port 80 expects one).
type Balancer struct {
	Addr     string
	listener net.Listener
	backends []string
	mu       sync.Mutex
	next     int
	wg       sync.WaitGroup
}

// StartBalancer listens on a free loopback port in front of backends (IP:PORT).
func StartBalancer(backends []string) (*Balancer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Balancer{Addr: l.Addr().String(), listener: l, backends: backends}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go b.serve(conn)
		}
	}()
	return b, nil
}

func (b *Balancer) serve(client net.Conn) {
	defer client.Close()
	b.mu.Lock()
	start := b.next
	b.next = (b.next + 1) % len(b.backends)
	b.mu.Unlock()
	var backend net.Conn
	for i := range b.backends {
		c, err := net.DialTimeout("tcp", b.backends[(start+i)%len(b.backends)], time.Second)
		if err == nil {
			backend = c
			break
		}
	}
	if backend == nil {
		return
	}
	defer backend.Close()
	src, dst := client.RemoteAddr().(*net.TCPAddr), client.LocalAddr().(*net.TCPAddr)
	if _, err := fmt.Fprintf(backend, "PROXY TCP4 %s %s %d %d\r\n", src.IP, dst.IP, src.Port, dst.Port); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(backend, client); done <- struct{}{} }()
	go func() { _, _ = io.Copy(client, backend); done <- struct{}{} }()
	<-done
}

// Close stops accepting connections.
func (b *Balancer) Close() error {
	err := b.listener.Close()
	b.wg.Wait()
	return err
}
