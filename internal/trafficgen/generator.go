// Package trafficgen generates deterministic mixed Ethernet traffic for
// tests and benchmarks: plain, 802.1Q and QinQ-tagged and MPLS frames;
// IPv4 (some with options, some fragmented) and IPv6 (some with extension
// headers); TCP carrying HTTP requests and responses and TLS ClientHellos
// with SNI, plus handshake segments; UDP carrying DNS queries and responses,
// SIP and RTP; ICMP and ICMPv6; ARP. A share of packets is cut short as a
// small snap length would (caplen < wirelen). Addresses come from a small
// pool (192.0.2.7, 2001:db8::/32, ...) so that filters match a useful
// fraction. The same Config always gives the same packets.
package trafficgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Config says what to generate.
type Config struct {
	// Seed selects the traffic; the same seed gives the same packets.
	Seed int64
	// Count is the number of packets Generate writes.
	Count int
	// Snaplen is the capture file's snap length; every packet is cut to
	// it. 0 means 262144.
	Snaplen uint32
	// NoTruncate turns off the share of packets (about 4%) cut short to
	// 54–127 bytes, as a capture with a small snap length would.
	NoTruncate bool
}

// DefaultSnaplen is the snap length used when Config.Snaplen is 0.
const DefaultSnaplen = 262144

// Packet is one generated packet.
type Packet struct {
	Data    []byte    // the captured bytes (a fresh slice)
	WireLen uint32    // the length on the wire (>= len(Data))
	Time    time.Time // capture time
	Kind    Kind      // what the packet carries
}

// Kind says what a generated packet carries.
type Kind uint8

// The kinds of generated packets.
const (
	KindHTTPRequest Kind = iota
	KindHTTPResponse
	KindTLSClientHello
	KindTCPHandshake // SYN, SYN-ACK or ACK without payload
	KindDNSQuery
	KindDNSResponse
	KindSIP
	KindRTP
	KindICMPEcho   // ICMP or ICMPv6 echo request or reply
	KindICMPv6ND   // ICMPv6 neighbor solicitation
	KindARP        // ARP request or reply
	KindIPFragment // a fragment of a large UDP datagram (IPv4 or IPv6)
	numKinds
)

var kindNames = [numKinds]string{"http-request", "http-response", "tls-client-hello", "tcp-handshake",
	"dns-query", "dns-response", "sip", "rtp", "icmp-echo", "icmpv6-nd", "arp", "ip-fragment"}

// String names the kind.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Kinds returns every kind, in order.
func Kinds() []Kind {
	out := make([]Kind, numKinds)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// kindWeights is the mix, in parts per 1000.
var kindWeights = [numKinds]int{
	KindHTTPRequest:    130,
	KindHTTPResponse:   110,
	KindTLSClientHello: 100,
	KindTCPHandshake:   170,
	KindDNSQuery:       110,
	KindDNSResponse:    90,
	KindSIP:            40,
	KindRTP:            110,
	KindICMPEcho:       60,
	KindICMPv6ND:       20,
	KindARP:            30,
	KindIPFragment:     30,
}

// Generator produces packets one at a time.
type Generator struct {
	cfg     Config
	rng     *rand.Rand
	now     time.Time
	buf     gopacket.SerializeBuffer
	pending []Packet // later fragments of a datagram already begun
	portSeq int      // ephemeral port sequence
}

// epoch is the time of the first packet.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// New returns a generator for cfg (Count is ignored: call Next as often as
// needed).
func New(cfg Config) *Generator {
	if cfg.Snaplen == 0 {
		cfg.Snaplen = DefaultSnaplen
	}
	seed := uint64(cfg.Seed)
	return &Generator{
		cfg: cfg,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		now: epoch,
		buf: gopacket.NewSerializeBuffer(),
	}
}

// Next returns the next packet.
func (g *Generator) Next() Packet {
	var p Packet
	if len(g.pending) > 0 {
		p = g.pending[0]
		g.pending = g.pending[1:]
	} else {
		p = g.build(g.pickKind())
	}
	g.now = g.now.Add(time.Duration(1+g.rng.IntN(20000)) * time.Nanosecond)
	p.Time = g.now
	p.WireLen = uint32(len(p.Data))
	if !g.cfg.NoTruncate && g.rng.IntN(100) < 4 {
		if cut := 54 + g.rng.IntN(74); cut < len(p.Data) {
			p.Data = p.Data[:cut]
		}
	}
	if uint32(len(p.Data)) > g.cfg.Snaplen {
		p.Data = p.Data[:g.cfg.Snaplen]
	}
	return p
}

func (g *Generator) pickKind() Kind {
	n := g.rng.IntN(1000)
	for k, w := range kindWeights {
		if n < w {
			return Kind(k)
		}
		n -= w
	}
	return KindTCPHandshake
}

// Generate writes cfg.Count packets as a pcap file (LINKTYPE_ETHERNET,
// nanosecond timestamps) to w.
func Generate(w io.Writer, cfg Config) error {
	g := New(cfg)
	bw := bufio.NewWriterSize(w, 1<<20)
	pw, err := pcapgo.NewWriterNanos(bw), error(nil)
	if err = pw.WriteFileHeader(g.cfg.Snaplen, layers.LinkTypeEthernet); err != nil {
		return fmt.Errorf("trafficgen: write pcap header: %w", err)
	}
	for i := 0; i < cfg.Count; i++ {
		p := g.Next()
		ci := gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: int(p.WireLen)}
		if err := pw.WritePacket(ci, p.Data); err != nil {
			return fmt.Errorf("trafficgen: write packet %d: %w", i, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("trafficgen: %w", err)
	}
	return nil
}
