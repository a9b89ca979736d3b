package packet_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/trafficgen"
	"github.com/wringcap/wring/spec"
)

// linkTypes are the link types the parser decodes, and one it does not.
var linkTypes = []spec.LinkType{spec.LinkEthernet, spec.LinkRaw, spec.LinkIPv4, spec.LinkIPv6,
	spec.LinkLinuxSLL, spec.LinkLinuxSLL2, spec.LinkNull, spec.LinkLoop, spec.LinkType(147)}

// sameAsRef parses data both ways and describes any difference. The
// reference knows only linkTypes: the link types decoded since
// (parse_link.go) are checked against tcpdump instead
// (TestDeepLinkTypesAgainstTcpdump).
func sameAsRef(info packet.Info, data []byte) string {
	if !slices.Contains(linkTypes, info.LinkType) && deepLinks[info.LinkType] {
		return ""
	}
	var got, want packet.Record
	// Different garbage in the two records first: Parse must write every
	// byte.
	for i := range got {
		got[i], want[i] = 0xa5, 0x5a
	}
	packet.Parse(info, data, &got)
	packet.RefParse(info, data, &want)
	if want.EtherType() == packet.EtherTypePPPoESession {
		return "" // PPPoE session data is walked since; the reference stops at it
	}
	if got != want {
		return fmt.Sprintf("link %v, %d bytes (wire %d) %x:\n got  %x\n want %x", info.LinkType, len(data), info.WireLen, data, got[:], want[:])
	}
	return ""
}

type corpusPkt struct {
	lt   spec.LinkType
	wire uint32
	data []byte
}

// corpusPackets returns the packets of the corpus files and of a generated
// capture (VLAN, QinQ, MPLS, IPv6 extension headers, fragments).
func corpusPackets(t *testing.T) []corpusPkt {
	var out []corpusPkt
	var gen bytes.Buffer
	if err := trafficgen.Generate(&gen, trafficgen.Config{Seed: 11, Count: 5000}); err != nil {
		t.Fatal(err)
	}
	add := func(r *pcapfile.Reader) {
		var info packet.Info
		for {
			d, err := r.ReadPacket(&info)
			if err != nil {
				return
			}
			out = append(out, corpusPkt{info.LinkType, info.WireLen, append([]byte(nil), d...)})
		}
	}
	r, err := pcapfile.NewReaderBytes(gen.Bytes(), "gen")
	if err != nil {
		t.Fatal(err)
	}
	add(r)
	for _, sub := range []string{"tcpdump", "libpcap/filter"} {
		for _, f := range corpus.Files(t, sub) {
			r, err := pcapfile.Open(f)
			if err != nil {
				continue
			}
			add(r)
			r.Close()
		}
	}
	return out
}

// TestParseSameAsReference: Parse fills exactly the record the reference
// parser fills (the implementation checked against gopacket) on every
// corpus and generated packet, under every link type the parser knows, cut
// at every length up to 128 bytes, with random bytes changed, and with
// other wire lengths and metadata.
func TestParseSameAsReference(t *testing.T) {
	pkts := corpusPackets(t)
	rng := rand.New(rand.NewPCG(1, 2))
	n, fails := 0, 0
	check := func(info packet.Info, d []byte) {
		n++
		if msg := sameAsRef(info, d); msg != "" {
			fails++
			if fails <= 10 {
				t.Error(msg)
			}
		}
	}
	mut := make([]byte, 0, 1<<16)
	for i, p := range pkts {
		info := packet.Info{Timestamp: int64(i) * 1e9, CapLen: uint32(len(p.data)), WireLen: p.wire, LinkType: p.lt,
			Ifindex: uint32(i), Queue: uint16(i * 7)}
		check(info, p.data)
		// Every link type, on a sample.
		if i%4 == 0 {
			for _, lt := range linkTypes {
				info.LinkType = lt
				check(info, p.data)
			}
			info.LinkType = p.lt
		}
		// Cut short: the capture ends inside a header.
		for c := 0; c < len(p.data) && c <= 128; c += 1 + i%3 {
			info.WireLen = p.wire
			check(info, p.data[:c])
			info.WireLen = uint32(c)
			check(info, p.data[:c])
		}
		info.WireLen = p.wire
		// Random bytes changed in the headers.
		for k := 0; k < 4; k++ {
			mut = append(mut[:0], p.data...)
			for j := 0; j < 1+k; j++ {
				if len(mut) == 0 {
					break
				}
				pos := rng.IntN(min(len(mut), 96))
				mut[pos] = byte(rng.Uint32())
			}
			check(info, mut)
		}
	}
	// Random bytes under every link type.
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.IntN(120))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		check(packet.Info{CapLen: uint32(len(b)), WireLen: uint32(len(b) + rng.IntN(2)), LinkType: linkTypes[i%len(linkTypes)]}, b)
	}
	t.Logf("%d packets from the corpora, %d records compared, %d different", len(pkts), n, fails)
	if len(pkts) < 10000 {
		t.Errorf("only %d packets", len(pkts))
	}
}

// FuzzParseReference compares Parse with the reference parser on fuzzed
// packets.
func FuzzParseReference(f *testing.F) {
	f.Add(uint16(spec.LinkEthernet), uint32(0), []byte("\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x81\x00\x00\x64\x88\x47\x00\x3e\x81\x09E\x00\x00\x1c\x00\x00\x00\x00@\x11\x00\x00\xc0\x00\x02\x01\xc0\x00\x02\x02\x00\x01\x00\x02\x00\x08\x00\x00"))
	f.Add(uint16(spec.LinkRaw), uint32(1), []byte("`\x00\x00\x00\x00\x08\x00@ \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01 \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02,\x00\x00\x01\x00\x00\x00\x01"))
	f.Fuzz(func(t *testing.T, lt uint16, extra uint32, data []byte) {
		info := packet.Info{Timestamp: int64(extra) << 20, CapLen: uint32(len(data)), WireLen: uint32(len(data)) + extra%3, LinkType: spec.LinkType(lt),
			Ifindex: extra, Queue: uint16(extra >> 3)}
		if msg := sameAsRef(info, data); msg != "" {
			t.Fatal(msg)
		}
	})
}
