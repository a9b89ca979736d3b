package stream

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// FuzzReassembler feeds arbitrary segment sequences (endpoints from a
// small set, any sequence numbers, flags and payloads) to a reassembler
// with small bounds. It must not panic; offsets handed to the handler must
// be contiguous per direction; and after Flush every payload byte given
// must be accounted for exactly once: delivered, retransmitted, kept as an
// overlap, or refused.
func FuzzReassembler(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x00\x02\x00\x00\x00\x00\x01\x10\x03abc\x00\x00\x00\x00\x05\x10\x02de"))
	f.Add([]byte("\x01\x00\x00\x10\x00\x12\x00\x00\x00\x00\x00\x10\x00\x00\x00\x08\x10\x04abcd\x01\x00\x00\x00\x00\x11\x00"))
	ends := []netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:80"),
		netip.MustParseAddrPort("[2001:db8::1]:5000"), netip.MustParseAddrPort("10.0.0.3:80"),
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		rec := newRecorder(t)
		rec.noData = true
		r := New(Config{MaxFlows: 3, Window: 64, MaxBytes: 128, Ranges: 3, Idle: 100}, rec)
		var given uint64
		ts := int64(0)
		for len(in) >= 7 {
			who := in[0]
			seq := binary.BigEndian.Uint32(in[1:5])
			flags := in[5]
			n := int(in[6]) % 40
			in = in[7:]
			n = min(n, len(in))
			payload := in[:n]
			in = in[n:]
			src, dst := ends[who&3], ends[(who>>2)&3]
			if who&0x80 != 0 {
				ts += 60
				r.Expire(ts)
			}
			given += uint64(len(payload))
			r.Add(src, dst, uint16(who>>4&1), seq, flags, payload, ts)
		}
		r.Flush()
		for _, e := range rec.errors {
			t.Error(e)
		}
		st := r.Stats()
		if got := st.Delivered + st.Retransmitted + st.OverlapKept + st.Refused; got != given {
			t.Errorf("%d payload bytes given, %d accounted for: %+v", given, got, st)
		}
		if r.Flows() != 0 {
			t.Errorf("%d flows held after Flush", r.Flows())
		}
	})
}
