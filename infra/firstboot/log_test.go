package firstboot_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
)

// syncWriter serialises writes from the containers, pebble and the test.
type syncWriter struct {
	mu sync.Mutex
	f  *os.File
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f.Write(b)
}

// prefixWriter labels every line with the machine's name.
type prefixWriter struct {
	w    io.Writer
	name string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(line) > 0 {
			fmt.Fprintf(p.w, "[%s] %s", p.name, line)
		}
	}
	return len(b), nil
}
