package pcapfile_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
)

// FuzzReader feeds arbitrary bytes to the reader: it must never panic or
// hang, every error must be a *pcapfile.Error (or io.EOF at the end), and
// every packet must respect the lengths it reports.
func FuzzReader(f *testing.F) {
	f.Add([]byte("\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00" +
		"\x01\x00\x00\x00\x02\x00\x00\x00\x04\x00\x00\x00\x08\x00\x00\x00abcd"))
	f.Add([]byte("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x1c\x00\x00\x00" +
		"\x01\x00\x00\x00\x14\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x14\x00\x00\x00" +
		"\x06\x00\x00\x00\x24\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x04\x00\x00\x00abcd\x24\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := pcapfile.NewReader(bytes.NewReader(b), "fuzz")
		if err != nil {
			var pe *pcapfile.Error
			if !errors.As(err, &pe) {
				t.Fatalf("open error %v is not a *pcapfile.Error", err)
			}
			return
		}
		var info packet.Info
		for i := 0; ; i++ {
			data, err := r.ReadPacket(&info)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var pe *pcapfile.Error
				if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > int64(len(b)) {
					t.Fatalf("read error %v is not a *pcapfile.Error within the file", err)
				}
				return
			}
			if uint32(len(data)) != info.CapLen || info.CapLen > r.Snaplen() {
				t.Fatalf("packet %d: %d bytes, caplen %d, snaplen %d", i, len(data), info.CapLen, r.Snaplen())
			}
			if i > len(b) {
				t.Fatal("more packets than bytes")
			}
		}
	})
}
