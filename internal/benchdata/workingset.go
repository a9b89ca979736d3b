package benchdata

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/trafficgen"
	"github.com/wringcap/wring/spec"
)

// Packet is one packet of the working set.
type Packet struct {
	Data    []byte // captured bytes (do not modify: the set is shared)
	WireLen uint32 // length on the wire
}

// Sizes of the working set.
const (
	// WorkingSetSize is the number of packets WorkingSet returns.
	WorkingSetSize = 4096
	// CorpusShare is how many of them come from the corpus captures; the
	// rest are generated.
	CorpusShare = 3072
	// extraVLANSyns is how many 802.1Q-tagged IPv4 TCP SYNs the top-up adds
	// beyond the generator's mix.
	extraVLANSyns = 48
	// generatorSeed selects the generated top-up.
	generatorSeed = 4096
)

var (
	wsOnce sync.Once
	ws     []Packet
	wsErr  string
)

// WorkingSet returns the shared warm working set: WorkingSetSize Ethernet
// packets, CorpusShare of them drawn deterministically from the EN10MB
// captures of the corpus (libpcap/filter and tcpdump; files pcapgo cannot
// read whole are left out), the rest made by internal/trafficgen (seed
// 4096), which guarantees every benchmark filter matches some packets
// (VLAN-tagged TCP SYNs, IPv6 TCP to 443, DNS, host 192.0.2.7). The order
// is shuffled. The slice and the packets are shared: do not modify them.
// Without the corpus the test fails in CI and skips elsewhere.
func WorkingSet(tb testing.TB) []Packet {
	tb.Helper()
	root := corpus.Root()
	if root == "" {
		corpus.Unavailable(tb, "the shared corpus (../shared/corpus) is not present")
	}
	wsOnce.Do(func() { ws, wsErr = buildWorkingSet(root) })
	if wsErr != "" {
		tb.Fatalf("benchdata: %s", wsErr)
	}
	return ws
}

func buildWorkingSet(root string) ([]Packet, string) {
	var pool []Packet
	for _, sub := range []string{"libpcap/filter", "tcpdump"} {
		files, err := filepath.Glob(filepath.Join(root, sub, "*"))
		if err != nil {
			return nil, err.Error()
		}
		for _, f := range files { // Glob sorts
			c, err := corpus.ReadCapture(f)
			if err != nil || c.LinkType != spec.LinkEthernet {
				continue
			}
			for _, p := range c.Packets {
				if len(p.Data) == 0 {
					continue
				}
				pool = append(pool, Packet{Data: p.Data, WireLen: max(p.WireLen, uint32(len(p.Data)))})
			}
		}
	}
	if len(pool) < CorpusShare {
		return nil, fmt.Sprintf("the corpus has only %d readable EN10MB packets, the working set needs %d", len(pool), CorpusShare)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	out := make([]Packet, 0, WorkingSetSize)
	out = append(out, pool[:CorpusShare]...)
	// The generated top-up: the generator's mix as it comes, plus extra
	// 802.1Q-tagged IPv4 TCP SYNs, which the mix makes too rarely for the
	// vlan_tcp_syn filter (about 0.5%).
	g := trafficgen.New(trafficgen.Config{Seed: generatorSeed})
	plain, syns := WorkingSetSize-CorpusShare-extraVLANSyns, 0
	for len(out) < WorkingSetSize {
		p := g.Next()
		switch {
		case plain > 0:
			plain--
		case syns < extraVLANSyns && isVLANTCPSyn(p.Data):
			syns++
		default:
			continue
		}
		out = append(out, Packet{Data: p.Data, WireLen: p.WireLen})
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, ""
}

// isVLANTCPSyn reports whether an Ethernet frame is an 802.1Q-tagged IPv4
// TCP segment (first fragment) with SYN set.
func isVLANTCPSyn(d []byte) bool {
	if len(d) < 18+20 || binary.BigEndian.Uint16(d[12:]) != 0x8100 || binary.BigEndian.Uint16(d[16:]) != 0x0800 {
		return false
	}
	ip := d[18:]
	ihl := int(ip[0]&0xf) * 4
	if ip[9] != 6 || binary.BigEndian.Uint16(ip[6:])&0x1fff != 0 || len(ip) < ihl+14 {
		return false
	}
	return ip[ihl+13]&0x02 != 0
}
