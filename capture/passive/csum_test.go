package passive

import (
	"encoding/binary"
	"errors"
	"testing"
)

// partialTCP returns an Ethernet frame holding an IPv4 TCP segment whose
// checksum field holds the pseudo-header sum, as the stack leaves it for
// the device (CHECKSUM_PARTIAL), and the header the egress program would
// write for it with device features dev.
func partialTCP(payload int, dev uint8) (Header, []byte) {
	f := make([]byte, 14+20+20+payload)
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0], ip[9] = 0x45, 6
	binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
	copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	tcp := ip[20:]
	binary.BigEndian.PutUint16(tcp, 7778)
	binary.BigEndian.PutUint16(tcp[2:], 40000)
	tcp[12] = 5 << 4
	for i := range tcp[20:] {
		tcp[20+i] = byte(i*7 + 3)
	}
	var pseudo [12]byte
	copy(pseudo[:], ip[12:20])
	pseudo[9] = 6
	binary.BigEndian.PutUint16(pseudo[10:], uint16(len(tcp)))
	binary.BigEndian.PutUint16(tcp[16:], uint16(onesSum(pseudo[:])))
	return Header{WireLen: uint32(len(f)), Csum: FlagCsumPartial | dev, CsumStart: 34, CsumOffset: tcpCheck}, f
}

// verifies reports whether the TCP checksum of an Ethernet IPv4 frame
// from partialTCP verifies, computed independently of AppendCompleted.
func verifies(f []byte) bool {
	ip := f[14:]
	tcp := ip[20:]
	var sum uint32
	for i := 12; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	sum += 6 + uint32(len(tcp))
	for i := 0; i+1 < len(tcp); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(tcp[i:]))
	}
	if len(tcp)%2 == 1 {
		sum += uint32(tcp[len(tcp)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return sum == 0xffff
}

func TestAppendCompleted(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dev     uint8
		payload int
		mutate  func(*Header, []byte) []byte
		want    string // "completed", "as is", or the error
	}{
		{name: "no checksum offload", want: "completed"},
		{name: "no checksum offload, odd length", payload: 33, want: "completed"},
		{name: "NETIF_F_HW_CSUM", dev: FlagDevHWCsum, want: "as is"},
		{name: "NETIF_F_IP_CSUM", dev: FlagDevIPCsum, want: "as is"},
		{name: "NETIF_F_IPV6_CSUM only, IPv4", dev: FlagDevIPv6Csum, want: "completed"},
		{name: "NETIF_F_IP_CSUM, not TCP or UDP", dev: FlagDevIPCsum, want: "completed",
			mutate: func(h *Header, f []byte) []byte { h.CsumOffset = 2; return f }},
		{name: "cut by the snapshot length", want: ErrChecksumCut.Error(),
			mutate: func(h *Header, f []byte) []byte { return f[:60] }},
		{name: "position past the copy", want: ErrChecksumRange.Error(),
			mutate: func(h *Header, f []byte) []byte { h.CsumOffset = 4000; return f }},
		{name: "SCTP", want: ErrChecksumSCTP.Error(),
			mutate: func(h *Header, f []byte) []byte { f[14+9] = 132; return f }},
		{name: "not partial", want: "as is",
			mutate: func(h *Header, f []byte) []byte { h.Csum = 0; return f }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, f := partialTCP(tc.payload+40, tc.dev)
			if tc.mutate != nil {
				f = tc.mutate(&h, f)
			}
			orig := string(f)
			dst := []byte("prefix")
			got, err := h.AppendCompleted(dst, f, true)
			if string(f) != orig {
				t.Fatal("AppendCompleted changed the copy it was given")
			}
			switch {
			case err != nil:
				if err.Error() != tc.want {
					t.Fatalf("error %v, want %s", err, tc.want)
				}
				if string(got) != "prefix" {
					t.Fatalf("appended %d bytes with an error", len(got)-6)
				}
			case len(got) == len(dst):
				if tc.want != "as is" {
					t.Fatalf("left as is, want %s", tc.want)
				}
			default:
				if tc.want != "completed" {
					t.Fatalf("completed, want %s", tc.want)
				}
				if string(got[:6]) != "prefix" || len(got) != 6+len(f) {
					t.Fatalf("appended %d bytes to a %d-byte prefix, want %d", len(got)-6, 6, len(f))
				}
				at := 6 + int(h.CsumStart) + int(h.CsumOffset)
				if h.CsumOffset == tcpCheck && !verifies(got[6:]) {
					t.Fatalf("the completed checksum does not verify: % x", got[6:])
				}
				if string(got[6:at]) != orig[:at-6] || string(got[at+2:]) != orig[at-6+2:] || string(got[at:at+2]) == orig[at-6:at-6+2] {
					t.Fatal("bytes other than the checksum changed, or the checksum did not")
				}
			}
		})
	}
}

// TestAppendCompletedRaw: a raw IP packet (tun) and a VLAN-tagged frame
// find their network header.
func TestAppendCompletedRaw(t *testing.T) {
	h, f := partialTCP(50, 0)
	raw := f[14:]
	h.CsumStart -= 14
	h.WireLen -= 14
	got, err := h.AppendCompleted(nil, raw, false)
	if err != nil || len(got) != len(raw) {
		t.Fatalf("raw: %d bytes, %v", len(got), err)
	}
	if !verifies(append(make([]byte, 14), got...)) {
		t.Fatal("raw: the completed checksum does not verify")
	}
	// Tagged, device with NETIF_F_IP_CSUM: the tag is skipped, the
	// protocol is IPv4, the checksum is the device's.
	h, f = partialTCP(50, FlagDevIPCsum)
	tagged := append(append(append([]byte(nil), f[:12]...), 0x81, 0x00, 0, 100), f[12:]...)
	h.CsumStart += 4
	h.WireLen += 4
	if got, err := h.AppendCompleted(nil, tagged, true); err != nil || got != nil {
		t.Fatalf("tagged IPv4 on a device with IP checksum offload: %d bytes, %v; want it as is", len(got), err)
	}
}

func TestAppendCompletedAllocs(t *testing.T) {
	h, f := partialTCP(1400, 0)
	dst := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		out, err := h.AppendCompleted(dst[:0], f, true)
		if err != nil || len(out) != len(f) {
			t.Fatal("not completed")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per packet, want 0", allocs)
	}
}

// FuzzAppendCompleted: any record Parse accepts is completed or refused
// without a panic; a completed packet's checksum covers its bytes from
// CsumStart: their sum verifies.
func FuzzAppendCompleted(f *testing.F) {
	h, fr := partialTCP(40, 0)
	rec := make([]byte, HeaderLen)
	binary.LittleEndian.PutUint32(rec[offWireLen:], h.WireLen)
	rec[offFlags] = FlagCsumPartial
	rec = append(append(rec, fr...), 34, 0, tcpCheck, 0)
	f.Add(rec, true)
	f.Add(rec[:HeaderLen+3], false)
	f.Fuzz(func(t *testing.T, rec []byte, ethernet bool) {
		h, data, err := Parse(rec)
		if err != nil {
			if !errors.Is(err, ErrShortRecord) {
				t.Fatal(err)
			}
			return
		}
		got, err := h.AppendCompleted(nil, data, ethernet)
		if err != nil || len(got) == 0 {
			return
		}
		if len(got) != len(data) {
			t.Fatalf("completed %d bytes from %d", len(got), len(data))
		}
		// Only the field changed, and it holds the complement of the
		// sum of the range as it was (0 written as 0xffff).
		at := int(h.CsumStart) + int(h.CsumOffset)
		if string(got[:at]) != string(data[:at]) || string(got[at+2:]) != string(data[at+2:]) {
			t.Fatal("bytes other than the checksum changed")
		}
		want := ^uint16(onesSum(data[h.CsumStart:]))
		if want == 0 {
			want = 0xffff
		}
		if c := binary.BigEndian.Uint16(got[at:]); c != want {
			t.Fatalf("checksum %#x, want %#x", c, want)
		}
	})
}
