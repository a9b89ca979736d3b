package sink

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/spec"
)

// Packet builders for the read replay tests.

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func words(v ...uint32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.BigEndian.PutUint32(b[4*i:], x)
	}
	return b
}

func etherFrame(typ uint16, payload []byte) []byte {
	h := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, byte(typ >> 8), byte(typ)}
	return cat(h, payload)
}

// udp4 is an IPv4 header from 10.0.0.1 to 10.0.0.2 (or back with
// reverse) and a UDP header around payload.
func udp4(sport, dport uint16, reverse bool, payload []byte) []byte {
	n := 28 + len(payload)
	src, dst := []byte{10, 0, 0, 1}, []byte{10, 0, 0, 2}
	if reverse {
		src, dst = dst, src
	}
	ip := cat([]byte{0x45, 0, byte(n >> 8), byte(n), 0, 1, 0, 0, 64, 17, 0, 0}, src, dst)
	u := []byte{byte(sport >> 8), byte(sport), byte(dport >> 8), byte(dport), byte((n - 20) >> 8), byte(n - 20), 0, 0}
	return cat(ip, u, payload)
}

// tcp4 is udp4 for a TCP segment (ACK and PSH, no options).
func tcp4(sport, dport uint16, payload []byte) []byte {
	n := 40 + len(payload)
	ip := []byte{0x45, 0, byte(n >> 8), byte(n), 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	h := cat([]byte{byte(sport >> 8), byte(sport), byte(dport >> 8), byte(dport)}, words(1000, 0),
		[]byte{0x50, 0x18, 0x10, 0, 0, 0, 0, 0})
	return cat(ip, h, payload)
}

// readsPacket is one packet of a read replay case: the whole packet and
// how many of its bytes are captured (0: all).
type readsPacket struct {
	data []byte
	cap  int
}

// readsCases are packets whose dump start depends on a replayed decoder,
// whole and cut short: want is where tcpdump's dump of the last packet
// starts (0 after a truncation jump, which also prints " [|proto]").
var readsCases = []struct {
	name string
	lt   spec.LinkType
	o    TextOptions
	pk   []readsPacket
	want int
	own  bool // tcpdump's text line holds a dump of its own (see TestReadReplays)
}{
	// isoclns_print: NLPID PPP, PPP carrying OSI, the null NLPID.
	{"osi ppp osi whole", spec.LinkEthernet, TextOptions{Hex: 1},
		[]readsPacket{{etherFrame(0xfefe, []byte{0, 0xcf, 0xff, 0x03, 0x23, 0x00, 0x01}), 0}}, 14, false},
	{"osi ppp osi cut", spec.LinkEthernet, TextOptions{Hex: 1},
		[]readsPacket{{etherFrame(0xfefe, []byte{0, 0xcf, 0xff, 0x03, 0x23, 0x00, 0x01}), 19}}, 0, false},
	// An FRF.16 first fragment carrying IS-IS: without -v isis_print reads
	// only what it checked, so even a cut header does not jump.
	{"mfr isis whole", ltMFR, TextOptions{Hex: 1},
		[]readsPacket{{cat([]byte{0xc0, 0x01, 0x18, 0x41, 0x03, 0x83, 27, 1, 0, 18, 1, 0, 0}, make([]byte, 19)), 0}}, 2, false},
	{"mfr isis cut", ltMFR, TextOptions{Hex: 1},
		[]readsPacket{{cat([]byte{0xc0, 0x01, 0x18, 0x41, 0x03, 0x83, 27, 1, 0, 18, 1, 0, 0}, make([]byte, 19)), 20}}, 2, false},
	// An unknown NLPID is dumped by fr_print itself unless -x is given.
	{"mfr unknown nlpid whole", ltMFR, TextOptions{Hex: 1, HexASCII: true},
		[]readsPacket{{cat([]byte{0x80, 0x01, 0x18, 0x41, 0x03, 0x99}, make([]byte, 8)), 0}}, 2, true},
	{"mfr unknown nlpid cut -X", ltMFR, TextOptions{Hex: 1, HexASCII: true},
		[]readsPacket{{cat([]byte{0x80, 0x01, 0x18, 0x41, 0x03, 0x99}, make([]byte, 8)), 10}}, 0, true},
	{"mfr unknown nlpid cut -x", ltMFR, TextOptions{Hex: 1},
		[]readsPacket{{cat([]byte{0x80, 0x01, 0x18, 0x41, 0x03, 0x99}, make([]byte, 8)), 10}}, 2, false},
	// ATM: an 802.6 header, then LLC XID; SNAP counts its five bytes.
	{"atm llc xid whole", spec.LinkATMRFC1483, TextOptions{Hex: 1},
		[]readsPacket{{cat(bytes.Repeat([]byte{0x30}, 22), []byte{0xbf}), 0}}, 23, false},
	{"atm llc cut", spec.LinkATMRFC1483, TextOptions{Hex: 1},
		[]readsPacket{{cat(bytes.Repeat([]byte{0x30}, 22), []byte{0xbf}), 2}}, 0, false},
	{"atm snap", spec.LinkATMRFC1483, TextOptions{Hex: 1},
		[]readsPacket{{[]byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x12, 0x34, 1, 2, 3, 4}, 0}}, 8, false},
	// NFS calls: READDIRPLUS whole and cut in its cookie, and a
	// credentials length near 2^32, which moves tcpdump's pointer past
	// the capture.
	{"nfs call whole", spec.LinkEthernet, TextOptions{Hex: 1},
		[]readsPacket{{etherFrame(0x0800, udp4(1023, 2049, false, nfsCall(17, 0, 8))), 0}}, 14, false},
	{"nfs call cut", spec.LinkEthernet, TextOptions{Hex: 1},
		[]readsPacket{{etherFrame(0x0800, udp4(1023, 2049, false, nfsCall(17, 0, 8))), 14 + 28 + 40 + 8 + 12 + 4}}, 0, false},
	{"nfs call credentials length", spec.LinkEthernet, TextOptions{Hex: 1},
		[]readsPacket{{etherFrame(0x0800, udp4(1023, 2049, false, nfsCall(17, 0xffffffff, 8))), 0}}, 0, false},
	// NFS over TCP: a record marker, then the call.
	{"nfs tcp call whole", spec.LinkEthernet, TextOptions{Hex: 1},
		[]readsPacket{{etherFrame(0x0800, tcp4(1023, 2049, cat(words(0x80000000|uint32(len(nfsCall(17, 0, 8)))), nfsCall(17, 0, 8)))), 0}}, 14, false},
	{"nfs tcp call cut", spec.LinkEthernet, TextOptions{Hex: 1},
		[]readsPacket{{etherFrame(0x0800, tcp4(1023, 2049, cat(words(0x80000000|uint32(len(nfsCall(17, 0, 8)))), nfsCall(17, 0, 8)))), 14 + 40 + 4 + 64}}, 0, false},
	// NFS replies: decoded by the call with their XID (ACCESS), so a cut
	// one jumps only after its call.
	{"nfs reply whole", spec.LinkEthernet, TextOptions{Hex: 1}, []readsPacket{
		{etherFrame(0x0800, udp4(1023, 2049, false, nfsCall(4, 0, 8))), 0},
		{etherFrame(0x0800, udp4(2049, 1023, true, nfsAccessReply())), 0}}, 14, false},
	{"nfs reply cut", spec.LinkEthernet, TextOptions{Hex: 1}, []readsPacket{
		{etherFrame(0x0800, udp4(1023, 2049, false, nfsCall(4, 0, 8))), 0},
		{etherFrame(0x0800, udp4(2049, 1023, true, nfsAccessReply())), 14 + 28 + 28 + 84}}, 0, false},
	{"nfs reply cut without its call", spec.LinkEthernet, TextOptions{Hex: 1}, []readsPacket{
		{etherFrame(0x0800, udp4(2049, 1023, true, nfsAccessReply())), 14 + 28 + 28 + 84}}, 14, false},
	// Rx: a Ubik lock call to the protection service.
	{"rx ubik whole", spec.LinkEthernet, TextOptions{Hex: 1},
		[]readsPacket{{etherFrame(0x0800, udp4(7001, 7002, false, rxUbikLock())), 0}}, 14, false},
	{"rx ubik cut", spec.LinkEthernet, TextOptions{Hex: 1},
		[]readsPacket{{etherFrame(0x0800, udp4(7001, 7002, false, rxUbikLock())), 14 + 28 + 28 + 4 + 8 + 12}}, 0, false},
	{"rx ubik version cut", spec.LinkEthernet, TextOptions{Hex: 1},
		[]readsPacket{{etherFrame(0x0800, udp4(7001, 7002, false, rxUbikLock())), 14 + 28 + 28 + 4 + 4}}, 14, false},
}

// nfsCall is an NFSv3 call of proc with credentials of the given length
// (their body is not included when it is near 2^32) and a file handle of
// fh bytes, then six words of arguments.
func nfsCall(proc, credLen uint32, fh int) []byte {
	b := words(0x1234, 0, 2, 100003, 3, proc, 1, credLen)
	if credLen < 64 {
		b = cat(b, make([]byte, (credLen+3)&^3))
	}
	return cat(b, words(0, 0, uint32(fh)), make([]byte, fh), words(0, 0, 0, 0, 512, 4096))
}

// nfsAccessReply is an accepted reply to nfsCall's XID: no verifier,
// success, NFS3_OK, post-operation attributes, the access word.
func nfsAccessReply() []byte {
	return cat(words(0x1234, 1, 0, 0, 0, 0, 0, 1), make([]byte, 84), words(0x1f))
}

// rxUbikLock is an Rx data packet opening a Ubik lock call: the header,
// the operation, a version, file, position, length and lock type.
func rxUbikLock() []byte {
	h := cat(words(1, 2, 3, 1, 1), []byte{1, 1, 0, 0, 0, 0, 0, 0})
	return cat(h, words(20002, 7, 8, 1, 0, 64, 2))
}

// TestReadReplays: the dump of each built packet starts where tcpdump's
// does, whole and cut short; with tcpdump installed the same packets are
// also compared with its output.
func TestReadReplays(t *testing.T) {
	dir := t.TempDir()
	var files, dumps []string
	for _, c := range readsCases {
		pr := printer{o: c.o, loc: time.UTC}
		var buf bytes.Buffer
		w, err := pcapfile.NewWriter(&buf, pcapfile.Header{LinkType: uint32(c.lt), Snaplen: 262144})
		if err != nil {
			t.Fatal(err)
		}
		for i, rp := range c.pk {
			data := rp.data
			if rp.cap > 0 {
				data = data[:rp.cap:rp.cap]
			}
			info := packet.Info{CapLen: uint32(len(data)), WireLen: uint32(len(rp.data)), LinkType: c.lt,
				Timestamp: int64(i+1) * 1e9}
			pr.b = pr.b[:0]
			pr.packet(&info, data)
			if err := w.WritePacket(&info, data); err != nil {
				t.Fatal(err)
			}
		}
		// The replays allocate nothing, the second time round as the first.
		infos := make([]packet.Info, len(c.pk))
		for i, rp := range c.pk {
			infos[i] = packet.Info{CapLen: uint32(len(rp.data)), WireLen: uint32(len(rp.data)), LinkType: c.lt, Timestamp: 1}
			if rp.cap > 0 {
				infos[i].CapLen = uint32(rp.cap)
			}
		}
		if n := testing.AllocsPerRun(10, func() {
			for i, rp := range c.pk {
				pr.b = pr.b[:0]
				pr.packet(&infos[i], rp.data[:infos[i].CapLen])
			}
		}); n != 0 {
			t.Errorf("%s: %v allocations", c.name, n)
		}
		jumped := strings.Contains(string(pr.b[:pr.dumpStart]), " [|")
		if pr.dumpOff != c.want || jumped != (c.want == 0) {
			t.Errorf("%s: dump from %d (truncation mark %v), want %d: %q", c.name, pr.dumpOff, jumped, c.want, pr.b)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".pcap")
		if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		dumps = append(dumps, string(pr.b[pr.dumpStart:]))
	}
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Log("tcpdump is not installed: the packets are not compared with its output")
		return
	}
	for i, c := range readsCases {
		var sets []flagSet
		for _, fs := range flagSets {
			if fs.dump && fs.o == c.o {
				sets = append(sets, fs)
			}
		}
		if len(sets) == 0 {
			t.Fatalf("%s: no flag set with these options", c.name)
		}
		if c.own {
			// The comparison counts dump lines, which tcpdump's own dump
			// in the text line adds to; its last dump, which starts with
			// the line at offset 0, must be this one.
			out := string(tcpdumpOutput(files[i], sets[0].flags))
			if len(dumps[i]) < 2 || !strings.HasSuffix(out, dumps[i]) {
				t.Errorf("%s: tcpdump %q does not end with the dump %q", c.name, out, dumps[i])
			}
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			compareWithTcpdump(t, files[i:i+1], sets, map[string]int{})
		})
	}
}
