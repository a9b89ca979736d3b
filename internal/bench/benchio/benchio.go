// Package benchio holds what the whole-process benchmarks (internal/bench/live,
// internal/bench/xdpwake) share: watching a child's output for the line that
// says it is ready, and the median of a series.
package benchio

import (
	"bytes"
	"sort"
	"sync"
)

// WatchBuffer collects a child process's output; Ready is closed once the
// output holds the wanted text.
type WatchBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	want  []byte
	Ready chan struct{}
	seen  bool
}

// NewWatchBuffer returns a buffer that watches for want.
func NewWatchBuffer(want string) *WatchBuffer {
	return &WatchBuffer{want: []byte(want), Ready: make(chan struct{})}
}

// Write appends p and closes Ready when the wanted text first appears.
func (w *WatchBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if !w.seen && bytes.Contains(w.buf.Bytes(), w.want) {
		w.seen = true
		close(w.Ready)
	}
	return n, err
}

// String returns the output so far.
func (w *WatchBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// Median returns the median of v (the mean of the middle two for an even
// count), 0 for none.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
