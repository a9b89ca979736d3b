package e2e_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"testing"

	"github.com/wringcap/wring/analyzers/bundled"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/internal/analyzertest"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/wasm"
)

// costlyHello returns a ClientHello record whose extensions are n empty
// ones (the most loop iterations a hello of its size can cost the parser),
// then pad bytes of padding, then server_name.
func costlyHello(n, pad int, name string) []byte {
	var ext []byte
	for i := 0; i < n; i++ {
		ext = binary.BigEndian.AppendUint16(ext, uint16(0xff00+i%200)) // unassigned types
		ext = append(ext, 0, 0)
	}
	if pad > 0 {
		ext = append(ext, 0, 21) // padding (RFC 7685)
		ext = binary.BigEndian.AppendUint16(ext, uint16(pad))
		ext = append(ext, make([]byte, pad)...)
	}
	sni := binary.BigEndian.AppendUint16(nil, uint16(len(name)+3)) // server_name_list
	sni = append(sni, 0)                                           // host_name
	sni = binary.BigEndian.AppendUint16(sni, uint16(len(name)))
	sni = append(sni, name...)
	ext = append(ext, 0, 0)
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(sni)))
	ext = append(ext, sni...)
	body := []byte{3, 3}
	body = append(body, make([]byte, 32)...)
	body = append(body, 0)                // session id
	body = append(body, 0, 2, 0x13, 0x01) // cipher suites
	body = append(body, 1, 0)             // compression
	body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
	body = append(body, ext...)
	msg := append([]byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{22, 3, 1, byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

// TestTLSStreamCostlyHellosWithinFuel: calls full of the costliest hellos
// (64 data chunks a call, each a ClientHello of about 16 KiB) fit half the
// host's default fuel per call, so crafted hellos cannot get the
// analyzer's instances discarded: 126 empty extensions, 15 KiB of padding
// and server_name (read whole), and 4,000 empty extensions then
// server_name (read up to the 128th extension, reported partial).
func TestTLSStreamCostlyHellosWithinFuel(t *testing.T) {
	for _, mode := range []string{"streams=1", "streams=0"} {
		t.Run(mode+"/bounded", func(t *testing.T) {
			n, partial := costlyHellos(t, costlyHello(126, 15000, "costly.wring.test"), mode)
			if n != 256 || partial != 0 {
				t.Fatalf("%d hellos with their server name, %d partial; want 256 and 0", n, partial)
			}
		})
		t.Run(mode+"/over", func(t *testing.T) {
			n, partial := costlyHellos(t, costlyHello(4000, 0, "costly.wring.test"), mode)
			if n != 0 || partial != 256 {
				t.Fatalf("%d hellos with their server name, %d partial; want 0 and 256", n, partial)
			}
		})
	}
}

// costlyHellos runs 256 flows, each a SYN and hello, the SYNs in one batch
// and the hellos in the next, through a host at half the default fuel, and
// counts the events with the server name and those marked partial.
func costlyHellos(t *testing.T, hello []byte, config string) (withName, partial int) {
	const flows = 256
	if len(hello) > 5+1<<14 {
		t.Fatalf("record of %d bytes", len(hello))
	}
	var syns, hellos []packet.Packet
	for i := 0; i < flows; i++ {
		src := [4]byte{10, 9, byte(i >> 8), byte(i)}
		for k, p := range [][]byte{nil, hello} {
			flags := byte(0x02)
			if p != nil {
				flags = 0x18
			}
			d := tcpFrame(src, [4]byte{192, 0, 2, 1}, 40000, 443, uint32(1000+k), 0, flags, p)
			info := packet.Info{Timestamp: int64(1e18) + int64(i*2+k), CapLen: uint32(len(d)), WireLen: uint32(len(d)), LinkType: spec.LinkEthernet}
			pk := packet.Packet{Info: info, Data: d}
			packet.Parse(info, d, &pk.Record)
			if k == 0 {
				syns = append(syns, pk)
			} else {
				hellos = append(hellos, pk)
			}
		}
	}
	bin, err := bundled.Module("tls")
	if err != nil {
		t.Fatal(err)
	}
	var ev bytes.Buffer
	cfg := analyzertest.Config().WithLogger(slog.New(slog.DiscardHandler)).WithEvents(&ev).WithFuel(wasm.DefaultFuel / 2)
	h, err := wasm.NewHost(context.Background(), cfg, wasm.Analyzer{Name: "tls", Binary: bin, Config: []byte(config)})
	if err != nil {
		t.Fatal(err)
	}
	for _, ps := range [][]packet.Packet{syns, hellos} {
		for i := 0; i < len(ps); i += 256 {
			b := &packet.Batch{Packets: ps[i:min(i+256, len(ps))]}
			b.Verdicts = make([]packet.Verdict, len(b.Packets))
			if err := h.Handle(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.Close(context.Background())
	st := h.Stats()[0]
	if st.Failures != 0 || st.StreamLost != 0 || st.EventsLost != 0 {
		t.Fatalf("stats %+v", st)
	}
	withName = bytes.Count(ev.Bytes(), []byte(`"sni":"costly.wring.test"`))
	partial = bytes.Count(ev.Bytes(), []byte(`"partial":true`))
	t.Logf("%d hellos of %d bytes in %d wring_streams calls at half the default fuel: %d with the server name, %d partial",
		flows, len(hello), st.StreamCalls, withName, partial)
	return withName, partial
}
