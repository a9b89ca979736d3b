package e2e_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm"
)

// TestDNSOnExtraPorts is issue 15's reproducer for DNS on ports other
// than 53: the mixed capture's DNS packets moved from port 53 to 8053 are
// not seen by default, and with ports=8053 the analyzer reports exactly
// the events it reports for them on port 53 (both UDP and TCP).
func TestDNSOnExtraPorts(t *testing.T) {
	c, err := corpus.ReadCapture(analyzertest.MixedCapture(t, 3000))
	if err != nil {
		t.Fatal(err)
	}
	orig := parsed(c, func(_ int, ts int64) int64 { return ts })
	moved := make([]packet.Packet, len(orig))
	n := 0
	for i, p := range orig {
		moved[i] = p
		moved[i].Data = bytes.Clone(p.Data)
		r := &p.Record
		proto := r[spec.RecIPProto]
		l4 := int(binary.LittleEndian.Uint16(r[spec.RecL4Off:]))
		if proto != 6 && proto != 17 || l4 == 0xffff || l4+4 > len(p.Data) {
			continue
		}
		hit := false
		for _, o := range []int{l4, l4 + 2} {
			if binary.BigEndian.Uint16(p.Data[o:]) == 53 {
				binary.BigEndian.PutUint16(moved[i].Data[o:], 8053)
				hit = true
			}
		}
		if hit {
			n++
			packet.Parse(moved[i].Info, moved[i].Data, &moved[i].Record)
		}
	}
	if n < 100 {
		t.Fatalf("only %d packets on port 53 in the mixed capture", n)
	}
	run := func(pkts []packet.Packet, config string) []string {
		bin, err := bundled.Module("dns")
		if err != nil {
			t.Fatal(err)
		}
		var ev bytes.Buffer
		h, err := wasm.NewHost(context.Background(), analyzertest.Config().WithEvents(&ev), wasm.Analyzer{Name: "dns", Binary: bin, Config: []byte(config)})
		if err != nil {
			t.Fatal(err)
		}
		b := &packet.Batch{Verdicts: make([]packet.Verdict, 256)}
		for i := 0; i < len(pkts); i += 256 {
			b.Packets = pkts[i:min(i+256, len(pkts))]
			b.Verdicts = b.Verdicts[:len(b.Packets)]
			clear(b.Verdicts)
			if err := h.Handle(b); err != nil {
				t.Fatal(err)
			}
		}
		h.Close(context.Background())
		fields := []string{"name", "type", "id", "rcode", "answers", "answer"}
		return append(eventTuples(t, ev.Bytes(), "query", fields...), eventTuples(t, ev.Bytes(), "response", fields...)...)
	}
	want := run(orig, "")
	if len(want) < 100 {
		t.Fatalf("only %d DNS events on port 53", len(want))
	}
	if got := run(moved, ""); len(got) != 0 {
		t.Errorf("%d events on port 8053 without configuration, e.g. %q", len(got), got[0])
	}
	got := run(moved, "ports=5300,8053\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		a, b := diff(got, want)
		t.Errorf("ports=8053: %d events, on port 53 %d; only on 8053 %q, only on 53 %q", len(got), len(want), a[:min(len(a), 5)], b[:min(len(b), 5)])
	}
	t.Logf("%d packets moved to port 8053, %d DNS events", n, len(got))
}
