package main

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/wringcap/wring/capture/packet"
)

// TestFlowHashMatchesRecord: the analyzer's copy of the flow hash equals
// capture/packet's for random 5-tuples, equal addresses and ports included.
func TestFlowHashMatchesRecord(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 100000 {
		var a, b [16]byte
		ver := uint8(4)
		if i%2 == 1 {
			ver = 6
			binary.BigEndian.PutUint64(a[:], r.Uint64())
			binary.BigEndian.PutUint64(a[8:], r.Uint64())
			binary.BigEndian.PutUint64(b[8:], r.Uint64())
		} else {
			binary.BigEndian.PutUint32(a[:], r.Uint32())
			binary.BigEndian.PutUint32(b[:], r.Uint32())
		}
		if i%7 == 0 {
			b = a
		}
		sp, dp := uint16(r.Uint32()), uint16(r.Uint32())
		proto := []uint8{6, 17, 132}[i%3]
		if got, want := flowHash(ver, proto, &a, &b, sp, dp), packet.FlowHash(ver, proto, &a, &b, sp, dp); got != want {
			t.Fatalf("%d: flowHash %#x, packet.FlowHash %#x", i, got, want)
		}
	}
}

// TestFragID reads the identification of IPv4 fragments and of IPv6
// fragment headers behind other extension headers, and refuses cut ones.
func TestFragID(t *testing.T) {
	v4 := make([]byte, 34)
	v4[14], v4[18], v4[19] = 0x45, 0xbe, 0xef
	if id, ok := fragID(v4, 14, 4); !ok || id != 0xbeef {
		t.Fatalf("IPv4: %#x %v", id, ok)
	}
	// IPv6, hop-by-hop (8 bytes), destination options (16), fragment.
	v6 := make([]byte, 14+40+8+16+8)
	v6[14] = 0x60
	v6[14+6] = 0
	v6[54] = 60
	v6[62], v6[63] = 44, 1
	binary.BigEndian.PutUint32(v6[78+4:], 0xdeadbeef)
	if id, ok := fragID(v6, 14, 6); !ok || id != 0xdeadbeef {
		t.Fatalf("IPv6: %#x %v", id, ok)
	}
	for n := range len(v6) {
		if id, ok := fragID(v6[:n], 14, 6); ok {
			t.Fatalf("IPv6 cut at %d: %#x", n, id)
		}
	}
	if _, ok := fragID(v4[:19], 14, 4); ok {
		t.Fatal("a cut IPv4 header")
	}
}

// TestFragTable: a later fragment takes its first fragment's ports, not
// another datagram's, and not after the timeout.
func TestFragTable(t *testing.T) {
	var ft fragTable
	k := fragKey{version: 4, proto: 17, id: 7}
	k.src[0], k.dst[0] = 10, 11
	ft.first(&k, 53, 4000, 1e9)
	if sp, dp, ok := ft.later(&k, 2e9); !ok || sp != 53 || dp != 4000 {
		t.Fatalf("%d %d %v", sp, dp, ok)
	}
	other := k
	other.id = 8
	if _, _, ok := ft.later(&other, 2e9); ok {
		t.Fatal("another datagram took the ports")
	}
	if _, _, ok := ft.later(&k, 1e9+fragTimeout+1); ok {
		t.Fatal("ports kept past the timeout")
	}
}

// FuzzFragID: any bytes, any offset: no panic.
func FuzzFragID(f *testing.F) {
	f.Add(make([]byte, 80), 14, true)
	f.Fuzz(func(t *testing.T, b []byte, l3 int, v6 bool) {
		if l3 < 0 || l3 > 1<<16 {
			return
		}
		ver := uint8(4)
		if v6 {
			ver = 6
		}
		fragID(b, l3, ver)
	})
}
