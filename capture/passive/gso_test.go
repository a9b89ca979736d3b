package passive

import (
	"encoding/binary"
	"errors"
	"testing"
)

// gsoTCP returns an Ethernet frame holding an IPv4 TCP GSO packet of
// payload bytes with a partial checksum, and its header: segment size
// mss, device features dev (checksum) and gso (segmentation).
func gsoTCP(payload int, mss uint16, dev, gso uint8, flags byte) (Header, []byte) {
	h, f := partialTCP(payload, dev)
	ip := f[14:]
	binary.BigEndian.PutUint16(ip[4:], 0xfffe) // the ID wraps within the segments
	binary.BigEndian.PutUint32(ip[20+4:], 0xfffff000)
	ip[20+13] = flags
	h.GSOSize, h.GSODev = mss, gso
	return h, f
}

// checkSegments verifies segments cut from frame f independently: lengths,
// IPv4 header and TCP checksums, sequence numbers, IDs, payload in order,
// flags.
func checkSegments(t *testing.T, f []byte, out []byte, lens []int, mss int, complete bool) {
	t.Helper()
	payload := f[14+40:]
	want := (len(payload) + mss - 1) / mss
	if len(lens) != want {
		t.Fatalf("%d segments, want %d", len(lens), want)
	}
	var joined []byte
	off := 0
	for i, l := range lens {
		s := out[off : off+l]
		off += l
		ip, tcp := s[14:], s[34:]
		n := min(mss, len(payload)-i*mss)
		if l != 54+n || int(binary.BigEndian.Uint16(ip[2:])) != l-14 {
			t.Fatalf("segment %d: %d bytes, IP length %d, want %d", i, l, binary.BigEndian.Uint16(ip[2:]), 54+n)
		}
		if id := binary.BigEndian.Uint16(ip[4:]); id != uint16(0xfffe+i) {
			t.Errorf("segment %d: IP ID %#x", i, id)
		}
		if onesSum(ip[:20]) != 0xffff {
			t.Errorf("segment %d: the IPv4 header checksum does not verify", i)
		}
		if seq := binary.BigEndian.Uint32(tcp[4:]); seq != 0xfffff000+uint32(i*mss) {
			t.Errorf("segment %d: sequence %#x", i, seq)
		}
		last := i == len(lens)-1
		if fl := tcp[13]; (fl&tcpFIN != 0) != (last && f[34+13]&tcpFIN != 0) || (fl&tcpPSH != 0) != (last && f[34+13]&tcpPSH != 0) ||
			(fl&tcpCWR != 0) != (i == 0 && f[34+13]&tcpCWR != 0) || fl&0x10 == 0 {
			t.Errorf("segment %d: flags %#x from %#x", i, fl, f[34+13])
		}
		if complete != verifies(s) {
			t.Errorf("segment %d: checksum verifies %v, want %v", i, !complete, complete)
		}
		if !complete {
			// Partial: the field holds the segment's pseudo-header sum.
			var ps [12]byte
			copy(ps[:], ip[12:20])
			ps[9] = 6
			binary.BigEndian.PutUint16(ps[10:], uint16(len(tcp)))
			if c := binary.BigEndian.Uint16(tcp[16:]); uint32(c) != onesSum(ps[:]) {
				t.Errorf("segment %d: partial checksum %#x, want the pseudo-header sum %#x", i, c, onesSum(ps[:]))
			}
		}
		joined = append(joined, tcp[20:]...)
	}
	if off != len(out) || string(joined) != string(payload) {
		t.Fatal("the segments' payloads are not the packet's")
	}
}

func TestAppendSegments(t *testing.T) {
	for _, tc := range []struct {
		name     string
		payload  int
		mss      uint16
		dev, gso uint8
		flags    byte
		segment  bool // the kernel segments in software
		complete bool // and completes the segments' checksums
	}{
		{name: "tun: no offload", payload: 5000, mss: 1448, flags: 0x18, segment: true, complete: true},
		{name: "FIN, CWR, exact multiple", payload: 2896, mss: 1448, flags: 0x80 | 0x19, segment: true, complete: true},
		{name: "checksum offload, no TSO", payload: 3001, mss: 1000, dev: FlagDevHWCsum, flags: 0x10, segment: true},
		{name: "TSO", payload: 5000, mss: 1448, dev: FlagDevHWCsum, gso: GSODevTSO, flags: 0x10},
		{name: "TSO6 only, IPv4", payload: 5000, mss: 1448, gso: GSODevTSO6, flags: 0x10, segment: true, complete: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, f := gsoTCP(tc.payload, tc.mss, tc.dev, tc.gso, tc.flags)
			if got := h.SoftwareSegments(f, true); got != tc.segment {
				t.Fatalf("SoftwareSegments = %v, want %v", got, tc.segment)
			}
			if !tc.segment {
				return
			}
			orig := string(f)
			out, lens, err := h.AppendSegments(nil, nil, f, true)
			if err != nil {
				t.Fatal(err)
			}
			if string(f) != orig {
				t.Fatal("AppendSegments changed the copy it was given")
			}
			checkSegments(t, f, out, lens, int(tc.mss), tc.complete)
		})
	}
	h, f := gsoTCP(3000, 1448, 0, 0, 0x10)
	if _, _, err := h.AppendSegments(nil, nil, f[:200], true); !errors.Is(err, ErrChecksumCut) {
		t.Errorf("a cut copy: %v, want ErrChecksumCut", err)
	}
	f[14+9] = 17
	if out, lens, err := h.AppendSegments([]byte("x"), []int{7}, f, true); !errors.Is(err, ErrGSOUnsupported) || string(out) != "x" || len(lens) != 1 {
		t.Errorf("UDP: %v, %d bytes, %d lengths; want ErrGSOUnsupported and nothing appended", err, len(out), len(lens))
	}
}

func TestAppendSegmentsAllocs(t *testing.T) {
	h, f := gsoTCP(20000, 1448, 0, 0, 0x10)
	dst, lens := make([]byte, 0, 1<<16), make([]int, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		out, l, err := h.AppendSegments(dst[:0], lens[:0], f, true)
		if err != nil || len(l) != 14 || len(out) == 0 {
			t.Fatal("not segmented")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per packet, want 0", allocs)
	}
}

// FuzzAppendSegments: any record Parse accepts is segmented or refused
// without a panic; the segments add up to the headers repeated plus the
// payload, and each is at most the headers plus GSOSize bytes.
func FuzzAppendSegments(f *testing.F) {
	h, fr := gsoTCP(3000, 1448, 0, 0, 0x18)
	rec := make([]byte, HeaderLen)
	binary.LittleEndian.PutUint32(rec[offWireLen:], h.WireLen)
	rec[offFlags] = FlagCsumPartial
	rec = append(append(rec, fr...), 34, 0, tcpCheck, 0, byte(h.GSOSize), byte(h.GSOSize>>8), 0, 0)
	f.Add(rec, true)
	f.Fuzz(func(t *testing.T, rec []byte, ethernet bool) {
		h, data, err := Parse(rec)
		if err != nil || !h.SoftwareSegments(data, ethernet) {
			return
		}
		out, lens, err := h.AppendSegments(nil, nil, data, ethernet)
		if err != nil {
			if len(out) != 0 || len(lens) != 0 {
				t.Fatal("appended with an error")
			}
			return
		}
		typ, l3 := networkType(data, ethernet)
		_, l4 := transport(data, typ, l3)
		hdr := l4 + int(data[l4+12]>>4)*4
		total := 0
		for _, l := range lens {
			if l < hdr || l > hdr+int(h.GSOSize) {
				t.Fatalf("segment of %d bytes: headers %d, segment size %d", l, hdr, h.GSOSize)
			}
			total += l
		}
		if total != len(out) || total != len(lens)*hdr+len(data)-hdr {
			t.Fatalf("segments total %d bytes for %d segments of a %d-byte packet with %d bytes of headers", total, len(lens), len(data), hdr)
		}
	})
}

// TestParseTrailer: a record with FlagCsumPartial ends in the trailer,
// which Parse reads and keeps out of the packet bytes.
func TestParseTrailer(t *testing.T) {
	rec := make([]byte, HeaderLen)
	rec[offFlags] = FlagCsumPartial | FlagDevIPCsum
	binary.LittleEndian.PutUint32(rec[offWireLen:], 3)
	rec = append(rec, 0xaa, 0xbb, 0xcc, 34, 0, 16, 0, 0xa8, 0x05, GSODevTSO6|0x80, 0)
	h, data, err := Parse(rec)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "\xaa\xbb\xcc" || cap(data) != 3 {
		t.Errorf("packet bytes % x (capacity %d), want aa bb cc", data, cap(data))
	}
	want := Header{WireLen: 3, Csum: FlagCsumPartial | FlagDevIPCsum, CsumStart: 34, CsumOffset: 16, GSOSize: 1448, GSODev: GSODevTSO6}
	if h != want {
		t.Errorf("header %+v, want %+v", h, want)
	}
	if _, _, err := Parse(rec[:HeaderLen+TrailerLen-1]); !errors.Is(err, ErrShortRecord) {
		t.Errorf("a record too short for its trailer: %v, want ErrShortRecord", err)
	}
}

// TestSegmentChecksumZero: a segment whose TCP checksum comes out as zero
// keeps zero, as tcp_gso_segment writes it (gso_make_checksum folds
// without CSUM_MANGLED_0), while a whole packet completed by
// skb_checksum_help gets 0xffff. Two payload bytes of the first segment
// are chosen so that its sum is 0xffff.
func TestSegmentChecksumZero(t *testing.T) {
	const mss = 1000
	h, f := gsoTCP(2500, mss, 0, 0, 0x10)
	at := 14 + 40 + 10 // two bytes inside the first segment's payload
	f[at], f[at+1] = 0, 0
	out, lens, err := h.AppendSegments(nil, nil, f, true)
	if err != nil {
		t.Fatal(err)
	}
	c := binary.BigEndian.Uint16(out[34+16:])
	if c == 0 {
		t.Fatal("the unadjusted first segment's checksum is already zero: pick other bytes")
	}
	// Adding ~sum to the sum makes it 0xffff: the checksum becomes zero.
	binary.BigEndian.PutUint16(f[at:], c)
	out, lens, err = h.AppendSegments(nil, nil, f, true)
	if err != nil {
		t.Fatal(err)
	}
	if c := binary.BigEndian.Uint16(out[34+16:]); c != 0 {
		t.Errorf("first segment's checksum %#x, want 0 (not mangled to 0xffff)", c)
	}
	checkSegments(t, f, out, lens, mss, true)

	// The same segment as one packet with a partial checksum, completed
	// as skb_checksum_help does.
	seg := append([]byte(nil), out[:lens[0]]...)
	binary.BigEndian.PutUint16(seg[34+16:], uint16(pseudoSum(seg, 0x0800, 14, len(seg)-34)))
	p := Header{WireLen: uint32(len(seg)), Csum: FlagCsumPartial, CsumStart: 34, CsumOffset: tcpCheck}
	got, err := p.AppendCompleted(nil, seg, true)
	if err != nil {
		t.Fatal(err)
	}
	if c := binary.BigEndian.Uint16(got[34+16:]); c != 0xffff {
		t.Errorf("whole packet's checksum %#x, want 0xffff (CSUM_MANGLED_0)", c)
	}
}
