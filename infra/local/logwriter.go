package local

import (
	"bytes"
	"io"
	"sync"
)

// lockedWriter serialises the children's lines into one writer, so lines
// from several processes never interleave and a test's buffer sees one
// writer at a time.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// prefixWriter labels each line of a child's output with its name.
func prefixWriter(w io.Writer, name string) io.Writer {
	return &lineWriter{w: w, prefix: "[" + name + "] "}
}

type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		line := append([]byte(l.prefix), l.buf[:i+1]...)
		if _, err := l.w.Write(line); err != nil {
			return 0, err
		}
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}
