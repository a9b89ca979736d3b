package packet_test

import (
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/spec"
)

// FuzzParse checks that Parse never panics and that the record it fills is
// consistent with the bytes: every offset is absent or inside the capture,
// layers are in order, the payload length fits, and the flow hash is the
// symmetric hash of the record's own fields.
func FuzzParse(f *testing.F) {
	f.Add(uint16(spec.LinkEthernet), []byte("\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00E\x00\x00\x1c\x00\x00\x00\x00@\x11\x00\x00\xc0\x00\x02\x01\xc0\x00\x02\x02\x00\x01\x00\x02\x00\x08\x00\x00"))
	f.Add(uint16(spec.LinkRaw), []byte("`\x00\x00\x00\x00\x08\x00@ \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01 \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02,\x00\x00\x01\x00\x00\x00\x01"))
	for _, c := range linkFrames() { // every link walker of parse_link.go
		f.Add(uint16(c.lt), c.data)
	}
	f.Fuzz(func(t *testing.T, lt uint16, data []byte) {
		var rec packet.Record
		packet.Parse(packet.Info{CapLen: uint32(len(data)), WireLen: uint32(len(data)) + uint32(lt&1), LinkType: spec.LinkType(lt)}, data, &rec)
		n := len(data)
		l3, l4, po := rec.L3Off(), rec.L4Off(), rec.PayloadOff()
		for _, o := range []uint16{l3, l4, po} {
			if o != spec.NoOffset && int(o) > n {
				t.Fatalf("offset %d past capture of %d bytes", o, n)
			}
		}
		if l4 != spec.NoOffset && (l3 == spec.NoOffset || l4 < l3) {
			t.Fatalf("l4 %d without or before l3 %d", l4, l3)
		}
		if po != spec.NoOffset && (l4 == spec.NoOffset || po < l4 || int(po)+int(rec.PayloadLen()) > n) {
			t.Fatalf("payload %d+%d inconsistent (l4 %d, caplen %d)", po, rec.PayloadLen(), l4, n)
		}
		if rec.CapLen() != uint32(n) {
			t.Fatalf("caplen %d, want %d", rec.CapLen(), n)
		}
		if v := rec.IPVersion(); v != 0 && v != 4 && v != 6 {
			t.Fatalf("IP version %d", v)
		}
		if rec.IPVersion() != 0 {
			var s, d [16]byte
			copy(s[:], rec[spec.RecSrcAddr:spec.RecSrcAddr+16])
			copy(d[:], rec[spec.RecDstAddr:spec.RecDstAddr+16])
			var sp, dp uint16
			if rec.Flags()&spec.RecFlagFragment == 0 {
				switch rec.IPProto() {
				case packet.ProtoTCP, packet.ProtoUDP, packet.ProtoSCTP:
					sp, dp = rec.SrcPort(), rec.DstPort()
				}
			}
			if h := packet.FlowHash(rec.IPVersion(), rec.IPProto(), &d, &s, dp, sp); h != rec.FlowHash() {
				t.Fatalf("flow hash %#x, swapped recomputation %#x", rec.FlowHash(), h)
			}
		} else if rec.FlowHash() != 0 {
			t.Fatalf("flow hash %#x without IP", rec.FlowHash())
		}
	})
}
