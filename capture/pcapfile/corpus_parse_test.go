package pcapfile_test

import (
	"errors"
	"io"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/spec"
)

// TestCorpusThroughParser reads every packet of every corpus file with the
// reader and parses it: no panic, and the record's offsets stay inside the
// packet (acceptance 5: the whole tcpdump corpus goes through the parser).
func TestCorpusThroughParser(t *testing.T) {
	var files []string
	for _, sub := range []string{"tcpdump", "libpcap/filter"} {
		files = append(files, corpus.Files(t, sub)...)
	}
	total, withIP := 0, 0
	for _, f := range files {
		r, err := pcapfile.Open(f)
		if err != nil {
			continue
		}
		var info packet.Info
		var rec packet.Record
		for {
			data, err := r.ReadPacket(&info)
			if errors.Is(err, io.EOF) || err != nil {
				break
			}
			packet.Parse(info, data, &rec)
			total++
			if rec.IPVersion() != 0 {
				withIP++
			}
			for _, o := range []uint16{rec.L3Off(), rec.L4Off(), rec.PayloadOff()} {
				if o != spec.NoOffset && int(o) > len(data) {
					t.Fatalf("%s: offset %d past %d bytes", f, o, len(data))
				}
			}
			if po := rec.PayloadOff(); po != spec.NoOffset && int(po)+int(rec.PayloadLen()) > len(data) {
				t.Fatalf("%s: payload past the data", f)
			}
		}
		r.Close()
	}
	t.Logf("%d files, %d packets parsed, %d with an IP header", len(files), total, withIP)
	if total < 10000 {
		t.Errorf("only %d packets", total)
	}
}
