package pcapfile_test

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
)

// swapPcap rewrites a little-endian pcap file in big-endian byte order
// (file and record headers; packet bytes unchanged), as a big-endian host
// would have written the same capture. It returns nil for other files.
func swapPcap(b []byte) []byte {
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 && binary.LittleEndian.Uint32(b) != 0xa1b23c4d {
		return nil
	}
	le, be := binary.LittleEndian, binary.BigEndian
	out := make([]byte, 0, len(b))
	out = be.AppendUint32(out, le.Uint32(b))
	out = be.AppendUint16(out, le.Uint16(b[4:]))
	out = be.AppendUint16(out, le.Uint16(b[6:]))
	for o := 8; o < 24; o += 4 {
		out = be.AppendUint32(out, le.Uint32(b[o:]))
	}
	p := 24
	for p+16 <= len(b) {
		for o := 0; o < 16; o += 4 {
			out = be.AppendUint32(out, le.Uint32(b[p+o:]))
		}
		n := int(le.Uint32(b[p+8:]))
		end := min(p+16+n, len(b))
		out = append(out, b[p+16:end]...)
		p = end
	}
	return append(out, b[p:]...)
}

// TestByteSwappedLikeTcpdump converts every little-endian pcap file of the
// corpora to big-endian and checks the rewrite against tcpdump's: the same
// packets, and the same pseudo-header fields converted to host order
// (NFLOG TLVs, SocketCAN IDs, pflog and USB headers), as libpcap converts
// them.
func TestByteSwappedLikeTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "tcpdump is not installed")
	}
	dir := t.TempDir()
	var files []string
	for _, sub := range []string{"tcpdump", "libpcap/filter"} {
		files = append(files, corpus.Files(t, sub)...)
	}
	n, same, pseudo := 0, 0, 0
	for _, f := range files {
		b, _ := os.ReadFile(f)
		sw := swapPcap(b)
		if sw == nil {
			continue
		}
		n++
		path := filepath.Join(dir, filepath.Base(f))
		os.WriteFile(path, sw, 0o644)
		want, _, ok := tcpdumpRewrite(t, path)
		got, err := rewrite(path)
		if ok != (err == nil) {
			t.Errorf("%s: tcpdump ok %v, reader error %v", filepath.Base(f), ok, err)
			continue
		}
		if !bytes.Equal(got, want) && (ok || len(want) > 0) {
			t.Errorf("%s (byte-swapped): output differs from tcpdump's at byte %d", filepath.Base(f), firstDiff(got, want))
			continue
		}
		// Did libpcap change packet bytes (a pseudo-header)?
		orig, _, _ := tcpdumpRewrite(t, f)
		if ok && !bytes.Equal(orig, want) {
			pseudo++
		}
		same++
	}
	t.Logf("%d files byte-swapped: %d handled as tcpdump does (%d with pseudo-header fields converted)", n, same, pseudo)
	if n < 700 {
		t.Errorf("only %d files converted", n)
	}
}

// TestPseudoHeadersSwappedLikeTcpdump writes big-endian files of the link
// types whose pseudo-headers libpcap converts (pflog, Linux cooked capture
// carrying CAN, Linux USB in both header sizes, NFLOG), with packets of
// pseudo-random bytes and lengths, and compares the rewrite with tcpdump's.
func TestPseudoHeadersSwappedLikeTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "tcpdump is not installed")
	}
	dir := t.TempDir()
	rng := uint64(12345)
	next := func() byte {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		return byte(rng)
	}
	for _, lt := range []uint32{117, 113, 276, 189, 220, 239} {
		var f bytes.Buffer
		be := binary.BigEndian
		f.Write(be.AppendUint32(nil, 0xa1b2c3d4))
		f.Write(be.AppendUint16(nil, 2))
		f.Write(be.AppendUint16(nil, 4))
		f.Write(make([]byte, 8))
		f.Write(be.AppendUint32(nil, 65535))
		f.Write(be.AppendUint32(nil, lt))
		for i := 0; i < 300; i++ {
			n := i % 120
			p := make([]byte, n)
			for j := range p {
				p[j] = next()
			}
			switch lt {
			case 113:
				if n >= 16 {
					p[14], p[15] = 0, byte(0x0c+i%3) // CAN, CAN FD, other
				}
			case 276:
				if n >= 2 {
					p[0], p[1] = 0, byte(0x0c+i%3)
				}
			case 239:
				if n >= 2 {
					p[1] = byte(i % 2) // version 0 or not
				}
				for o := 4; o+4 <= n; o += 8 {
					p[o], p[o+1] = 8, 0 // TLV lengths of 8 (as the writer's host wrote them)
				}
			case 189, 220:
				if n >= 10 {
					p[9] = byte(i % 2) // isochronous or not
				}
				if n >= 64 {
					p[60], p[61], p[62], p[63] = 0, 0, 0, byte(i%4) // ndesc, big-endian
				}
			case 117:
				if n >= 1 {
					p[0] = byte(40 + i%24) // header length
				}
			}
			wire := uint32(n + i%3)
			f.Write(be.AppendUint32(nil, uint32(1000+i)))
			f.Write(be.AppendUint32(nil, uint32(i)))
			f.Write(be.AppendUint32(nil, uint32(n)))
			f.Write(be.AppendUint32(nil, wire))
			f.Write(p)
		}
		path := filepath.Join(dir, "lt"+strconv.Itoa(int(lt))+".pcap")
		os.WriteFile(path, f.Bytes(), 0o644)
		want, stderr, ok := tcpdumpRewrite(t, path)
		got, err := rewrite(path)
		if !ok || err != nil {
			t.Errorf("link type %d: tcpdump ok %v (%s), reader error %v", lt, ok, lastLine(stderr), err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("link type %d: output differs from tcpdump's at byte %d", lt, firstDiff(got, want))
		}
		// tcpdump must have changed some packet bytes, or the case tests
		// nothing: compare the packet data, past each 16-byte header.
		in, out, changed := f.Bytes(), want, 0
		for p := 24; p+16 <= len(in) && p+16 <= len(out); {
			n := int(binary.BigEndian.Uint32(in[p+8:]))
			if !bytes.Equal(in[p+16:p+16+n], out[p+16:p+16+n]) {
				changed++
			}
			p += 16 + n
		}
		if changed == 0 {
			t.Errorf("link type %d: tcpdump changed no packet, the case tests nothing", lt)
		}
		t.Logf("link type %d: %d packets with converted pseudo-header fields", lt, changed)
	}
}

// TestUSBMmappedLengthLikeTcpdump writes memory-mapped Linux USB
// isochronous completion events whose wire length is, for half of them,
// the old miscalculation libpcap corrects, and compares the rewrite with
// tcpdump's.
func TestUSBMmappedLengthLikeTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "tcpdump is not installed")
	}
	le := binary.LittleEndian
	var f bytes.Buffer
	f.Write(le.AppendUint32(nil, 0xa1b2c3d4))
	f.Write(le.AppendUint16(nil, 2))
	f.Write(le.AppendUint16(nil, 4))
	f.Write(make([]byte, 8))
	f.Write(le.AppendUint32(nil, 65535))
	f.Write(le.AppendUint32(nil, 220))
	for i := 0; i < 400; i++ {
		n := []int{40, 64, 80, 96, 128, 200}[i%6]
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(i*7 + j*13)
		}
		if n >= 64 {
			p[8], p[9], p[10], p[15] = 'C', byte(i/6%2), 0x81, byte(i/12%2)
			nd := uint32(i % 5)
			le.PutUint32(p[60:], nd)
			le.PutUint32(p[32:], uint32(i%90))
			for d := uint32(0); d < nd; d++ {
				if o := 64 + 16*int(d); o+16 <= n {
					le.PutUint32(p[o+4:], d*10)
					le.PutUint32(p[o+8:], uint32((i+int(d))%40))
				}
			}
		}
		wire := uint32(n + i%300)
		if i%2 == 0 && n >= 64 {
			wire = 64 + le.Uint32(p[60:])*16 + le.Uint32(p[32:])
		}
		f.Write(le.AppendUint32(nil, uint32(1000+i)))
		f.Write(le.AppendUint32(nil, uint32(i)))
		f.Write(le.AppendUint32(nil, uint32(n)))
		f.Write(le.AppendUint32(nil, wire))
		f.Write(p)
	}
	path := filepath.Join(t.TempDir(), "usbmm.pcap")
	os.WriteFile(path, f.Bytes(), 0o644)
	want, stderr, ok := tcpdumpRewrite(t, path)
	got, err := rewrite(path)
	if !ok || err != nil {
		t.Fatalf("tcpdump ok %v (%s), reader error %v", ok, lastLine(stderr), err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from tcpdump's at byte %d", firstDiff(got, want))
	}
	if bytes.Equal(want, f.Bytes()) {
		t.Error("tcpdump corrected no length: the case tests nothing")
	}
}
