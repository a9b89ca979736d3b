package pcapfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"testing/iotest"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/trafficgen"
)

type readPkt struct {
	info packet.Info
	data []byte
}

// readAllOne reads a file packet by packet; it returns the packets and the
// error that ended the read (nil at end of file).
func readAllOne(r *pcapfile.Reader) ([]readPkt, error) {
	var out []readPkt
	for {
		var p readPkt
		d, err := r.ReadPacket(&p.info)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		p.data = append([]byte(nil), d...)
		out = append(out, p)
	}
}

// readAllBatch reads a file in batches of n, checking after each batch that
// every packet's data is still what it was when read (ReadBatch promises the
// whole batch stays valid).
func readAllBatch(r *pcapfile.Reader, n int) ([]readPkt, error) {
	var out []readPkt
	pk := make([]packet.Packet, n)
	views, wls := make([][]byte, n), make([]uint32, n)
	for k := 0; ; k++ {
		var got int
		var err error
		if k%2 == 0 {
			got, err = r.ReadBatch(pk)
		} else {
			// Every other batch with the filter's arrays filled too.
			got, err = r.ReadBatchViews(pk, views, wls)
			for i := range got {
				if len(views[i]) != len(pk[i].Data) || (len(views[i]) > 0 && &views[i][0] != &pk[i].Data[0]) || wls[i] != pk[i].Info.WireLen {
					return out, fmt.Errorf("packet %d of a batch: the views differ from the packet", i)
				}
			}
		}
		for i := range got {
			out = append(out, readPkt{info: pk[i].Info, data: append([]byte(nil), pk[i].Data...)})
		}
		for i := range got {
			if !bytes.Equal(pk[i].Data, out[len(out)-got+i].data) {
				return out, fmt.Errorf("packet %d of a batch changed before the batch ended", i)
			}
		}
		if errors.Is(err, io.EOF) {
			if got != 0 {
				return out, fmt.Errorf("io.EOF with %d packets", got)
			}
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if got == 0 {
			return out, errors.New("0 packets without an error")
		}
	}
}

// sameRead compares the two ways of reading one file.
func sameRead(t *testing.T, name string, open func() *pcapfile.Reader, batch int) {
	t.Helper()
	r1 := open()
	want, werr := readAllOne(r1)
	r2 := open()
	got, gerr := readAllBatch(r2, batch)
	if fmt.Sprint(werr) != fmt.Sprint(gerr) {
		t.Fatalf("%s, batch %d: error %v, ReadPacket's %v", name, batch, gerr, werr)
	}
	if len(got) != len(want) {
		t.Fatalf("%s, batch %d: %d packets, ReadPacket read %d", name, batch, len(got), len(want))
	}
	for i := range got {
		if got[i].info != want[i].info || !bytes.Equal(got[i].data, want[i].data) {
			t.Fatalf("%s, batch %d: packet %d: %+v, ReadPacket's %+v", name, batch, i, got[i].info, want[i].info)
		}
	}
}

// TestReadBatchLikeReadPacket: ReadBatch reads every corpus file (and
// generated files through the streaming reader, in pieces) exactly as
// ReadPacket does: the same packets, metadata, bytes and final error.
func TestReadBatchLikeReadPacket(t *testing.T) {
	var gen bytes.Buffer
	if err := trafficgen.Generate(&gen, trafficgen.Config{Seed: 9, Count: 6000}); err != nil {
		t.Fatal(err)
	}
	g := gen.Bytes()
	for _, batch := range []int{1, 2, 7, 128, 4096} {
		sameRead(t, "generated", func() *pcapfile.Reader {
			r, err := pcapfile.NewReader(bytes.NewReader(g), "gen")
			if err != nil {
				t.Fatal(err)
			}
			return r
		}, batch)
		sameRead(t, "generated, half reads", func() *pcapfile.Reader {
			r, err := pcapfile.NewReader(iotest.HalfReader(bytes.NewReader(g)), "gen")
			if err != nil {
				t.Fatal(err)
			}
			return r
		}, batch)
		sameRead(t, "generated, in memory", func() *pcapfile.Reader {
			r, err := pcapfile.NewReaderBytes(g, "gen")
			if err != nil {
				t.Fatal(err)
			}
			return r
		}, batch)
		// Cut short inside a record.
		sameRead(t, "generated, truncated", func() *pcapfile.Reader {
			r, err := pcapfile.NewReader(bytes.NewReader(g[:len(g)-37]), "gen")
			if err != nil {
				t.Fatal(err)
			}
			return r
		}, batch)
	}
	var files []string
	for _, sub := range []string{"tcpdump", "libpcap/savefile", "libpcap/filter"} {
		files = append(files, corpus.Files(t, sub)...)
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pcapfile.NewReaderBytes(b, f); err != nil {
			continue
		}
		n++
		for _, batch := range []int{1, 3, 128} {
			sameRead(t, f, func() *pcapfile.Reader {
				r, _ := pcapfile.NewReader(bytes.NewReader(b), f)
				return r
			}, batch)
		}
	}
	if n < 100 {
		t.Errorf("only %d corpus files read", n)
	}
}
