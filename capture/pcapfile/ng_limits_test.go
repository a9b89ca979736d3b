package pcapfile_test

import (
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
)

// idbStream is a pcapng file made on the fly: a section header, n
// Interface Description Blocks (Ethernet, snaplen 65535; with distinct
// set, each with its own if_tsoffset), then one Enhanced Packet Block on
// the last interface. It is never in memory as a whole.
type idbStream struct {
	n, i     int
	distinct bool
	pending  []byte
	done     bool
}

func le32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }

func (s *idbStream) Read(p []byte) (int, error) {
	for len(s.pending) == 0 {
		switch {
		case s.done:
			return 0, io.EOF
		case s.i == 0 && s.pending == nil:
			b := le32(nil, 0x0a0d0d0a)
			b = le32(b, 28)
			b = le32(b, 0x1a2b3c4d)
			b = binary.LittleEndian.AppendUint16(b, 1)
			b = binary.LittleEndian.AppendUint16(b, 0)
			b = binary.LittleEndian.AppendUint64(b, ^uint64(0))
			s.pending = le32(b, 28)
			s.i = -1
		case s.i < 0 || s.i < s.n:
			if s.i < 0 {
				s.i = 0
			}
			var b []byte
			if s.distinct {
				b = le32(nil, 1)
				b = le32(b, 32)
				b = le32(b, 1)     // link type 1, reserved
				b = le32(b, 65535) // snaplen
				b = le32(b, 14|8<<16)
				b = binary.LittleEndian.AppendUint64(b, uint64(s.i))
				b = le32(b, 32)
			} else {
				b = le32(nil, 1)
				b = le32(b, 20)
				b = le32(b, 1)
				b = le32(b, 65535)
				b = le32(b, 20)
			}
			s.pending = b
			s.i++
			if s.i == s.n {
				s.i = s.n + 1
			}
		default:
			b := le32(nil, 6)
			b = le32(b, 32+4)
			b = le32(b, uint32(s.n-1))
			b = le32(b, 0)
			b = le32(b, 0)
			b = le32(b, 4)
			b = le32(b, 4)
			b = append(b, 1, 2, 3, 4)
			s.pending = le32(b, 32+4)
			s.done = true
		}
	}
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	return n, nil
}

// libpcapIDBMemory is what tcpdump 4.99 (libpcap 1.10.3) needs for a
// pcapng file of 10M Interface Description Blocks (issue 11: 397 MB RSS).
const libpcapIDBMemory = 397 << 20

// TestPcapNGManyInterfaces reads a pcapng file of 10M Interface
// Description Blocks and one packet within libpcap's memory, and refuses
// one with more than MaxInterfaceKinds distinct descriptions at the
// block that adds one too many.
func TestPcapNGManyInterfaces(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 10M blocks")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 10_000_000
	r, err := pcapfile.NewReader(&idbStream{n: n}, "idbs.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	var info packet.Info
	data, err := r.ReadPacket(&info)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	// HeapSys is the heap obtained from the system, which the runtime
	// keeps: the peak of the heap, where TotalAlloc counts garbage too.
	t.Logf("%d interfaces, packet on interface %d (%d bytes): heap peak (HeapSys) %.1f MB, in use %.1f MB, allocated in all %.1f MB",
		n, info.Interface, len(data), float64(after.HeapSys)/(1<<20), float64(after.HeapInuse)/(1<<20), float64(alloc)/(1<<20))
	if after.HeapSys > libpcapIDBMemory {
		t.Errorf("heap peak %d bytes, libpcap needs %d", after.HeapSys, libpcapIDBMemory)
	}
	if info.Interface != n-1 || len(data) != 4 {
		t.Errorf("packet on interface %d with %d bytes, want %d and 4", info.Interface, len(data), n-1)
	}

	r, err = pcapfile.NewReader(&idbStream{n: pcapfile.MaxInterfaceKinds + 1, distinct: true}, "distinct.pcapng")
	if err == nil {
		_, err = r.ReadPacket(&info)
	}
	var pe *pcapfile.Error
	if !errors.As(err, &pe) || !errors.Is(err, pcapfile.ErrInterface) {
		t.Fatalf("error %v, want a *pcapfile.Error wrapping ErrInterface", err)
	}
	if want := int64(28 + 32*pcapfile.MaxInterfaceKinds); pe.Offset != want {
		t.Errorf("error at offset %d, want %d: %v", pe.Offset, want, err)
	}
	t.Log(err)
}
