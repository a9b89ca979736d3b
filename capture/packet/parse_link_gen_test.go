package packet_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

// udp4 is an IPv4/UDP datagram 192.0.2.1:1234 > 198.51.100.2:5678 with 8
// bytes of payload.
func udp4() []byte {
	b := []byte{0x45, 0, 0, 36, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2,
		0x04, 0xd2, 0x16, 0x2e, 0, 16, 0, 0, 'p', 'a', 'y', 'l', 'o', 'a', 'd', '!'}
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(b[10:], ^uint16(sum))
	return b
}

// linkFrames wraps udp4 in each link-layer header the parser walks since
// issue 15, in the variants the walkers distinguish.
func linkFrames() []struct {
	name string
	lt   spec.LinkType
	data []byte
} {
	ip := udp4()
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	snap := []byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}
	wifiData := []byte{0x08, 0x02, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 0x10, 0}                      // FromDS data
	wifiQoS := []byte{0x88, 0x01, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 0x20, 0, 0, 0}                 // ToDS QoS data
	wifi4 := []byte{0x08, 0x03, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 0x30, 0, 21, 22, 23, 24, 25, 26} // WDS
	radiotap := []byte{0, 0, 8, 0, 0, 0, 0, 0}
	// TSFT and flags (FCS at end): 8 + 8 + 1, padded.
	radiotapFCS := []byte{0, 0, 18, 0, 0x03, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0x10, 0}
	// flags with data padding, on a QoS frame (26 bytes, padded to 28).
	radiotapPad := []byte{0, 0, 10, 0, 0x02, 0, 0, 0, 0x20, 0}
	ppi := []byte{0, 0, 8, 0, 105, 0, 0, 0}
	return []struct {
		name string
		lt   spec.LinkType
		data []byte
	}{
		{"ppp", spec.LinkPPP, cat([]byte{0xff, 0x03, 0x00, 0x21}, ip)},
		{"ppp_no_address", spec.LinkPPP, cat([]byte{0x00, 0x21}, ip)},
		{"ppp_hdlc", spec.LinkPPPHDLC, cat([]byte{0xff, 0x03, 0x00, 0x21}, ip)},
		{"ppp_hdlc_cisco", spec.LinkPPPHDLC, cat([]byte{0x0f, 0x00, 0x08, 0x00}, ip)},
		{"ppp_pppd", spec.LinkPPPPPPD, cat([]byte{0x01, 0x03, 0x00, 0x21}, ip)},
		{"ppp_ether", spec.LinkPPPEther, cat([]byte{0x11, 0x00, 0x12, 0x34, 0x00, 38, 0x00, 0x21}, ip)},
		{"pppoe_on_ethernet", spec.LinkEthernet, cat([]byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0x64, 0x11, 0x00, 0x12, 0x34, 0x00, 38, 0x00, 0x21}, ip)},
		{"c_hdlc", spec.LinkCHDLC, cat([]byte{0x0f, 0x00, 0x08, 0x00}, ip)},
		{"frelay_nlpid", spec.LinkFrelay, cat([]byte{0x18, 0x41, 0x03, 0xcc}, ip)},
		{"frelay_snap", spec.LinkFrelay, cat([]byte{0x18, 0x41, 0x03, 0x00, 0x80, 0, 0, 0, 0x08, 0x00}, ip)},
		{"frelay_cisco", spec.LinkFrelay, cat([]byte{0x18, 0x41, 0x08, 0x00}, ip)},
		{"nflog", spec.LinkNFLog, cat([]byte{2, 0, 0, 1, 8, 0, 1, 0, 0x08, 0x00, 3, 0, byte(4 + len(ip)), 0, 9, 0}, ip)},
		{"pktap", spec.LinkPKTAP, cat([]byte{108, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0}, make([]byte, 96), []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00}, ip)},
		{"ieee802_11", spec.LinkIEEE802_11, cat(wifiData, snap, ip)},
		{"ieee802_11_qos", spec.LinkIEEE802_11, cat(wifiQoS, snap, ip)},
		{"ieee802_11_wds", spec.LinkIEEE802_11, cat(wifi4, snap, ip)},
		{"radiotap", spec.LinkIEEE802_11Radio, cat(radiotap, wifiData, snap, ip)},
		{"radiotap_fcs", spec.LinkIEEE802_11Radio, cat(radiotapFCS, wifiData, snap, ip, []byte{1, 2, 3, 4})},
		{"radiotap_pad", spec.LinkIEEE802_11Radio, cat(radiotapPad, wifiQoS, []byte{0, 0}, snap, ip)},
		{"ppi", spec.LinkPPI, cat(ppi, wifiData, snap, ip)},
		{"arcnet_bsd", spec.LinkArcnetBSD, cat([]byte{1, 2, 0xd4, 0, 0, 0}, ip)},
		{"arcnet_bsd_rfc1051", spec.LinkArcnetBSD, cat([]byte{1, 2, 0xf0}, ip)},
		{"arcnet_linux", spec.LinkArcnetLinux, cat([]byte{1, 2, 0, 0, 0xd4, 0, 0, 0}, ip)},
		{"slip", spec.LinkSLIP, cat(make([]byte, 16), ip)},
		{"ipoib", spec.LinkIPoIB, cat(make([]byte, 40), []byte{0x08, 0x00, 0, 0}, ip)},
	}
}

// TestDeepLinkTypesGenerated: the same UDP datagram in every link-layer
// header above: the record finds it (addresses, ports, payload), and
// tcpdump, reading each as a capture file, prints the same addresses and
// ports.
func TestDeepLinkTypesGenerated(t *testing.T) {
	haveTcpdump := true
	if _, err := exec.LookPath("tcpdump"); err != nil {
		corpus.Unavailable(t, "tcpdump is not installed")
		haveTcpdump = false
	}
	dir := t.TempDir()
	for _, c := range linkFrames() {
		t.Run(c.name, func(t *testing.T) {
			var rec packet.Record
			info := packet.Info{CapLen: uint32(len(c.data)), WireLen: uint32(len(c.data)), LinkType: c.lt}
			packet.Parse(info, c.data, &rec)
			src, dst := rec.SrcAddr(), rec.DstAddr()
			if rec.IPVersion() != 4 || rec.IPProto() != 17 || src.String() != "192.0.2.1" || dst.String() != "198.51.100.2" ||
				rec.SrcPort() != 1234 || rec.DstPort() != 5678 || rec.Flags()&(spec.RecFlagMalformed|spec.RecFlagTruncated) != 0 {
				t.Fatalf("record: IPv%d proto %d %v:%d > %v:%d flags %#x", rec.IPVersion(), rec.IPProto(), src, rec.SrcPort(), dst, rec.DstPort(), rec.Flags())
			}
			if pay := rec.PayloadOff(); pay == spec.NoOffset || string(c.data[pay:pay+8]) != "payload!" {
				t.Fatalf("payload at %d", pay)
			}
			// Every cut of the frame parses without a panic and never
			// claims more than the bytes hold.
			for n := 0; n < len(c.data); n++ {
				var r packet.Record
				packet.Parse(packet.Info{CapLen: uint32(n), WireLen: uint32(len(c.data)), LinkType: c.lt}, c.data[:n], &r)
				if r.L3Off() != spec.NoOffset && int(r.L3Off()) > n || r.Flags()&spec.RecFlagTruncated == 0 {
					t.Fatalf("cut at %d: l3 %d flags %#x", n, r.L3Off(), r.Flags())
				}
			}
			if !haveTcpdump {
				return
			}
			var buf bytes.Buffer
			w, err := pcapfile.NewWriter(&buf, pcapfile.Header{LinkType: uint32(c.lt), Snaplen: 65535})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WritePacket(&info, c.data); err != nil {
				t.Fatal(err)
			}
			w.Flush()
			f := filepath.Join(dir, c.name+".pcap")
			if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("tcpdump", "-nn", "-r", f).CombinedOutput()
			want := fmt.Sprintf("IP %s.%d > %s.%d: UDP, length 8", src, rec.SrcPort(), dst, rec.DstPort())
			if err != nil || !strings.Contains(string(out), want) {
				t.Errorf("tcpdump: %v\n%s\nwant %q", err, out, want)
			}
		})
	}
}

// TestDeepLinkTypesAllocateNothing: walking the new link layers allocates
// nothing per packet.
func TestDeepLinkTypesAllocateNothing(t *testing.T) {
	frames := linkFrames()
	var rec packet.Record
	if n := testing.AllocsPerRun(100, func() {
		for _, c := range frames {
			packet.Parse(packet.Info{CapLen: uint32(len(c.data)), WireLen: uint32(len(c.data)), LinkType: c.lt}, c.data, &rec)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per run of %d frames", n, len(frames))
	}
}
