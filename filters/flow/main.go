// Command flow is wring's bundled flow-statistics analyzer (PF_RING's
// in-kernel NetFlow cache idea, in a sandbox). Built for WASI (filters/bundled
// embeds the result), it reads only the parse records and keeps, per flow
// (both directions of an IP 5-tuple), packets, bytes, first and last seen.
// It exports a "flow" event when a TCP flow ends (FIN or RST), when a flow
// has been idle for idle= seconds or active for active= seconds (on the
// host's tick, in capture time), and for every flow still open when the
// host closes.
//
// Configuration: idle=SECONDS (default 30), active=SECONDS (default 300),
// max_flows=N (default 65536; new flows beyond it are counted, not tracked).
package main

import "github.com/wringcap/wring/wasm/guest"

var (
	cStarted  = guest.NewCounter("flows_started")
	cExported = guest.NewCounter("flows_exported")
	cPackets  = guest.NewCounter("packets")
	cBytes    = guest.NewCounter("bytes")
	cNonIP    = guest.NewCounter("non_ip")
	cFull     = guest.NewCounter("table_full")
	cActive   = guest.NewCounter("active_flows")
)

// key is a flow's identity with the lower (address, port) end first.
type key struct {
	ver, proto uint8
	a, b       [16]byte
	pa, pb     uint16
}

// flow is one tracked flow; src is the end that sent its first packet.
type flow struct {
	k           key
	srcIsA      bool
	packets     uint64
	bytes       uint64
	first, last int64
	fin         bool
	live        bool
}

type analyzer struct {
	idle, active int64
	max          int
	index        map[key]int32
	flows        []flow
	free         []int32
	cursor       int // tick export position, for flushes that take several calls
}

var a = &analyzer{}

func (f *analyzer) Init(cfg guest.Config) error {
	f.idle = seconds(cfg, "idle", 30)
	f.active = seconds(cfg, "active", 300)
	f.max = int(number(cfg, "max_flows", 65536))
	f.index = make(map[key]int32, 1024)
	return nil
}

func seconds(cfg guest.Config, k string, def int64) int64 { return number(cfg, k, def) * 1e9 }

func number(cfg guest.Config, k string, def int64) int64 {
	v, ok := cfg.Get(k)
	if !ok || v == "" {
		return def
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return def
		}
		n = n*10 + int64(c-'0')
	}
	if n <= 0 {
		return def
	}
	return n
}

func (f *analyzer) Packet(p *guest.Packet, v *guest.Verdict) {
	ver := p.IPVersion()
	if ver == 0 {
		cNonIP.Add(1)
		return
	}
	cPackets.Add(1)
	cBytes.Add(uint64(p.WireLen()))
	src, dst := p.SrcAddr(), p.DstAddr()
	sp, dp := p.SrcPort(), p.DstPort()
	var k key
	k.ver, k.proto = ver, p.IPProto()
	srcIsA := less(src, sp, dst, dp)
	if srcIsA {
		copy(k.a[:], src)
		copy(k.b[:], dst)
		k.pa, k.pb = sp, dp
	} else {
		copy(k.a[:], dst)
		copy(k.b[:], src)
		k.pa, k.pb = dp, sp
	}
	now := p.Timestamp()
	i, ok := f.index[k]
	if !ok {
		if len(f.index) >= f.max {
			cFull.Add(1)
			return
		}
		if n := len(f.free); n > 0 {
			i = f.free[n-1]
			f.free = f.free[:n-1]
		} else {
			f.flows = append(f.flows, flow{})
			i = int32(len(f.flows) - 1)
		}
		f.flows[i] = flow{k: k, srcIsA: srcIsA, first: now, live: true}
		f.index[k] = i
		cStarted.Add(1)
		cActive.Add(1)
	}
	fl := &f.flows[i]
	fl.packets++
	fl.bytes += uint64(p.WireLen())
	fl.last = now
	if k.proto == 6 && p.TCPFlags()&0x05 != 0 { // FIN or RST
		reason := "fin"
		if p.TCPFlags()&0x04 != 0 {
			reason = "rst"
		}
		if fl.fin || reason == "rst" {
			f.export(i, reason)
		} else {
			fl.fin = true
		}
	}
}

func less(a []byte, pa uint16, b []byte, pb uint16) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return pa <= pb
}

// flowEventBytes bounds one flow event's size.
const flowEventBytes = 200

// export writes the flow's event and forgets it.
func (f *analyzer) export(i int32, reason string) {
	fl := &f.flows[i]
	ln := 4
	if fl.k.ver == 6 {
		ln = 16
	}
	a, b, pa, pb := fl.k.a[:ln], fl.k.b[:ln], fl.k.pa, fl.k.pb
	if !fl.srcIsA {
		a, b, pa, pb = b, a, pb, pa
	}
	guest.TickEvent("flow").Addr("src", a).Addr("dst", b).Uint("sport", uint64(pa)).Uint("dport", uint64(pb)).
		Uint("proto", uint64(fl.k.proto)).Uint("packets", fl.packets).Uint("bytes", fl.bytes).
		Int("first", fl.first).Int("last", fl.last).String("reason", reason).Done()
	cExported.Add(1)
	cActive.Add(^uint64(0))
	delete(f.index, fl.k)
	fl.live = false
	f.free = append(f.free, i)
}

// Tick exports idle and long-active flows, or all of them when final. When
// the event area fills up it asks to be called again and resumes where it
// stopped.
func (f *analyzer) Tick(now int64, final bool) {
	for ; f.cursor < len(f.flows); f.cursor++ {
		fl := &f.flows[f.cursor]
		if !fl.live {
			continue
		}
		reason := ""
		switch {
		case final:
			reason = "end"
		case now-fl.last >= f.idle:
			reason = "idle"
		case now-fl.first >= f.active:
			reason = "active"
		}
		if reason == "" {
			continue
		}
		if guest.EventRoom() < flowEventBytes {
			guest.TickMore()
			return
		}
		f.export(int32(f.cursor), reason)
	}
	f.cursor = 0
}

func init() {
	guest.Register(a, guest.Options{Need: guest.NeedRecord, EventBytes: 256 << 10})
}

func main() {}
