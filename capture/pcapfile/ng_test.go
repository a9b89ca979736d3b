package pcapfile_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/spec"
)

type sample struct {
	info packet.Info
	data []byte
}

func readAll(t *testing.T, r *pcapfile.Reader) ([]sample, error) {
	t.Helper()
	var out []sample
	for {
		var info packet.Info
		data, err := r.ReadPacket(&info)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, sample{info, append([]byte(nil), data...)})
	}
}

// TestPcapNGInterfaces writes a pcapng file with two interfaces of one link
// type and a third of another, and reads it back: libpcap's rule (stop at the
// second link type) by default, every packet with AllowMixedLinkTypes.
func TestPcapNGInterfaces(t *testing.T) {
	var buf bytes.Buffer
	w, err := pcapfile.NewNgWriter(&buf, spec.LinkEthernet, 65535)
	if err != nil {
		t.Fatal(err)
	}
	in := []sample{
		{packet.Info{Timestamp: 1_600_000_000_123_456_789, WireLen: 60, LinkType: spec.LinkEthernet, Interface: 0}, bytes.Repeat([]byte{1}, 60)},
		{packet.Info{Timestamp: 1_600_000_001_000_000_001, WireLen: 100, LinkType: spec.LinkEthernet, Interface: 1}, bytes.Repeat([]byte{2}, 40)},
		{packet.Info{Timestamp: 1_600_000_002_000_000_000, WireLen: 20, LinkType: spec.LinkRaw, Interface: 2}, bytes.Repeat([]byte{0x45}, 20)},
	}
	for _, s := range in {
		s.info.CapLen = uint32(len(s.data))
		if err := w.WritePacket(&s.info, s.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}

	r, err := pcapfile.NewReader(bytes.NewReader(buf.Bytes()), "two.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if !errors.Is(err, pcapfile.ErrInterface) || len(got) != 2 {
		t.Fatalf("default reader: %d packets, err %v; want 2 packets then ErrInterface", len(got), err)
	}

	r, err = pcapfile.NewReader(bytes.NewReader(buf.Bytes()), "two.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	r.AllowMixedLinkTypes()
	got, err = readAll(t, r)
	if err != nil || len(got) != 3 {
		t.Fatalf("mixed reader: %d packets, err %v", len(got), err)
	}
	for i, s := range got {
		w := in[i]
		if s.info.Timestamp != w.info.Timestamp || s.info.WireLen != w.info.WireLen || s.info.LinkType != w.info.LinkType ||
			s.info.Interface != uint32(i) || !bytes.Equal(s.data, w.data) || s.info.CapLen != uint32(len(w.data)) {
			t.Errorf("packet %d: got %+v %x, want %+v %x", i, s.info, s.data, w.info, w.data)
		}
	}
}

// TestPcapRoundTrip writes nanosecond and microsecond pcap and reads them
// back.
func TestPcapRoundTrip(t *testing.T) {
	for _, nano := range []bool{false, true} {
		var buf bytes.Buffer
		w, err := pcapfile.NewWriter(&buf, pcapfile.Header{LinkType: uint32(spec.LinkEthernet), Snaplen: 1000, Nano: nano})
		if err != nil {
			t.Fatal(err)
		}
		info := packet.Info{Timestamp: 1_700_000_000_987_654_321, WireLen: 1500, CapLen: 3}
		if err := w.WritePacket(&info, []byte{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		r, err := pcapfile.NewReader(&buf, "rt.pcap")
		if err != nil {
			t.Fatal(err)
		}
		got, err := readAll(t, r)
		if err != nil || len(got) != 1 {
			t.Fatalf("nano=%v: %d packets, %v", nano, len(got), err)
		}
		want := int64(1_700_000_000_987_654_321)
		if !nano {
			want = 1_700_000_000_987_654_000
		}
		if got[0].info.Timestamp != want || got[0].info.WireLen != 1500 || r.Snaplen() != 1000 || r.Nanosecond() != nano {
			t.Errorf("nano=%v: got %+v snaplen %d", nano, got[0].info, r.Snaplen())
		}
	}
}
