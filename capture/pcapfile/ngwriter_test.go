package pcapfile_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

// pcapgoNg writes what NgWriter wrote before it had its own encoder: the
// same calls through gopacket's pcapgo NgWriter.
type pcapgoNg struct {
	w       *pcapgo.NgWriter
	snaplen uint32
	ifaces  map[[2]uint32]int
}

func newPcapgoNg(t *testing.T, out *bytes.Buffer, lt spec.LinkType, snaplen uint32) *pcapgoNg {
	intf := func(id uint32, lt spec.LinkType) pcapgo.NgInterface {
		return pcapgo.NgInterface{Name: fmt.Sprintf("if%d", id), LinkType: layers.LinkType(lt), SnapLength: snaplen, TimestampResolution: 9}
	}
	w, err := pcapgo.NewNgWriterInterface(out, intf(0, lt), pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "wring"}})
	if err != nil {
		t.Fatal(err)
	}
	return &pcapgoNg{w: w, snaplen: snaplen, ifaces: map[[2]uint32]int{{0, uint32(lt)}: 0}}
}

func (g *pcapgoNg) write(t *testing.T, info *packet.Info, data []byte) error {
	k := [2]uint32{info.Interface, uint32(info.LinkType)}
	id, ok := g.ifaces[k]
	if !ok {
		var err error
		id, err = g.w.AddInterface(pcapgo.NgInterface{Name: fmt.Sprintf("if%d", info.Interface), LinkType: layers.LinkType(info.LinkType), SnapLength: g.snaplen, TimestampResolution: 9})
		if err != nil {
			t.Fatal(err)
		}
		g.ifaces[k] = id
	}
	sec, frac := info.Stamp.Scaled(1_000_000_000)
	if info.Stamp.Res == 0 {
		sec, frac = info.Timestamp/1e9, uint64(info.Timestamp%1e9)
	}
	return g.w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(sec, int64(frac)), CaptureLength: len(data), Length: int(info.WireLen), InterfaceIndex: id}, data)
}

// TestNgWriterLikePcapgo: the pcapng writer writes the bytes gopacket's
// pcapgo writes for the same packets (several interfaces and link types,
// every padding, stored stamps of each resolution). TestNgWriterLongRecord
// covers what pcapgo refuses.
func TestNgWriterLikePcapgo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var got, want bytes.Buffer
	w, err := pcapfile.NewNgWriter(&got, spec.LinkEthernet, 65535)
	if err != nil {
		t.Fatal(err)
	}
	g := newPcapgoNg(t, &want, spec.LinkEthernet, 65535)
	lts := []spec.LinkType{spec.LinkEthernet, spec.LinkRaw, spec.LinkLinuxSLL}
	for i := 0; i < 3000; i++ {
		data := make([]byte, rng.IntN(200))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		info := packet.Info{Timestamp: rng.Int64N(4e18), WireLen: uint32(len(data) + rng.IntN(3)), LinkType: lts[rng.IntN(len(lts))], Interface: uint32(rng.IntN(12))}
		switch i % 3 {
		case 1:
			info.Stamp = packet.Stamp{Sec: rng.Int64N(1 << 32), Frac: uint64(rng.IntN(1e6)), Res: 1e6}
		case 2:
			info.Stamp = packet.Stamp{Sec: rng.Int64N(1 << 32), Frac: uint64(rng.IntN(1e9)), Res: 1e9}
		}
		info.CapLen = uint32(len(data))
		if err := w.WritePacket(&info, data); err != nil {
			t.Fatal(err)
		}
		if err := g.write(t, &info, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := g.w.Flush(); err != nil {
		t.Fatal(err)
	}
	if w.Written() != int64(got.Len()) {
		t.Errorf("Written %d, wrote %d", w.Written(), got.Len())
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		n := 0
		for n < min(got.Len(), want.Len()) && got.Bytes()[n] == want.Bytes()[n] {
			n++
		}
		t.Fatalf("%d bytes, pcapgo wrote %d; first difference at %d", got.Len(), want.Len(), n)
	}
	// And the reader reads it back.
	r, err := pcapfile.NewReaderBytes(got.Bytes(), "ng")
	if err != nil {
		t.Fatal(err)
	}
	if r.Format() != pcapfile.FormatPcapNG {
		t.Errorf("format %v", r.Format())
	}
}

// TestNgWriterLongRecord is issue 15's reproducer: a record whose captured
// length exceeds its wire length (three tcpdump corpus files hold one) is
// written as editcap writes it, both lengths as they are, and the packets
// after it are written too; the file reads back packet for packet.
func TestNgWriterLongRecord(t *testing.T) {
	for _, name := range []string{"rsvp-rsvp_obj_print-oobr.pcap", "pim_header_asan-2.pcap", "icmp-icmp_print-oobr-2.pcap"} {
		t.Run(name, func(t *testing.T) {
			var path string
			for _, f := range corpus.Files(t, "tcpdump") {
				if filepath.Base(f) == name {
					path = f
				}
			}
			if path == "" {
				corpus.Unavailable(t, name+" is not in the tcpdump corpus")
			}
			in, err := pcapfile.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			var out bytes.Buffer
			w, err := pcapfile.NewNgWriter(&out, in.LinkType(), 262144)
			if err != nil {
				t.Fatal(err)
			}
			type rec struct {
				capLen, wireLen uint32
				data            string
			}
			var want []rec
			long := 0
			for {
				var info packet.Info
				data, err := in.ReadPacket(&info)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if info.CapLen > info.WireLen {
					long++
				}
				want = append(want, rec{info.CapLen, info.WireLen, string(data)})
				if err := w.WritePacket(&info, data); err != nil {
					t.Fatalf("packet %d: %v", len(want), err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if long == 0 || long == len(want) {
				t.Fatalf("%d of %d records longer than their wire length: not the case this file was chosen for", long, len(want))
			}
			back, err := pcapfile.NewReaderBytes(out.Bytes(), name+".pcapng")
			if err != nil {
				t.Fatal(err)
			}
			var got []rec
			for {
				var info packet.Info
				data, err := back.ReadPacket(&info)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("reading back after %d packets: %v", len(got), err)
				}
				got = append(got, rec{info.CapLen, info.WireLen, string(data)})
			}
			if !slices.Equal(got, want) {
				t.Fatalf("read back %d packets %v, wrote %d %v", len(got), got, len(want), want)
			}
			if p, err := exec.LookPath("capinfos"); err == nil {
				f := filepath.Join(t.TempDir(), "out.pcapng")
				if err := os.WriteFile(f, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				o, err := exec.Command(p, "-c", "-M", f).CombinedOutput()
				if err != nil || !bytes.Contains(o, []byte(fmt.Sprintf("Number of packets:   %d\n", len(want)))) {
					t.Fatalf("capinfos: %v\n%s", err, o)
				}
			}
		})
	}
}
