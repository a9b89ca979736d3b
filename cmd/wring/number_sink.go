package main

import (
	"bufio"
	"io"
	"strconv"
	"sync"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/sink"
)

// numbered is the text printer behind tcpdump's -#: each packet's output
// starts with its number, right-aligned in five columns and followed by two
// spaces ("    1  12:00:00.000000 IP ..."). It hands the printer one packet
// at a time and flushes it into a shared buffer after the number, so the
// number always precedes its packet whatever the printer prints (hex dumps
// included).
type numbered struct {
	mu   sync.Mutex
	w    *bufio.Writer
	text capture.Sink
	n    uint64
	one  packet.Batch
	pre  []byte
}

func newNumbered(w io.Writer, o sink.TextOptions) *numbered {
	bw := bufio.NewWriterSize(w, 1<<16)
	return &numbered{w: bw, text: newTextSink(bw, o), one: packet.Batch{Packets: make([]packet.Packet, 1), Verdicts: make([]packet.Verdict, 1)}}
}

// Handle prints each packet of the batch after its number.
func (s *numbered) Handle(b *packet.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range b.Packets {
		s.n++
		s.pre = strconv.AppendUint(s.pre[:0], s.n, 10)
		for pad := 5 - len(s.pre); pad > 0; pad-- {
			if err := s.w.WriteByte(' '); err != nil {
				return err
			}
		}
		s.pre = append(s.pre, ' ', ' ')
		if _, err := s.w.Write(s.pre); err != nil {
			return err
		}
		s.one.Packets[0], s.one.Verdicts[0] = b.Packets[i], b.Verdicts[i]
		if err := s.text.Handle(&s.one); err != nil {
			return err
		}
		if err := s.text.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes the buffered lines out.
func (s *numbered) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.text.Flush(); err != nil {
		return err
	}
	return s.w.Flush()
}

// Close flushes.
func (s *numbered) Close() error { return s.Flush() }
