//go:build linux

package passive

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/wringcap/wring/internal/corpus"
)

func frame(n int) []byte {
	f := make([]byte, n)
	copy(f, []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45})
	for i := 15; i < n; i++ {
		f[i] = byte(i)
	}
	return f
}

// TestProgramRun runs both programs on frames through BPF_PROG_TEST_RUN
// and reads what they wrote: every frame passes on (TCX_NEXT), each is
// copied whole or cut at the snapshot length, with its length, direction
// and a TAI stamp, and the counters agree.
func TestProgramRun(t *testing.T) {
	if os.Geteuid() != 0 {
		corpus.Unavailable(t, "loading BPF programs needs root (CAP_BPF)")
	}
	p, err := Load(Spec{Snaplen: 100, RingBytes: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	readers := make([]*Reader, p.Rings())
	for i := range readers {
		if readers[i], err = NewReader(p.Ring(i)); err != nil {
			t.Fatal(err)
		}
		defer readers[i].Close()
	}
	before := time.Now()
	sizes := []int{60, 100, 1500}
	for d, prog := range p.progs {
		for _, n := range sizes {
			ret, err := prog.Run(&ebpf.RunOptions{Data: frame(n)})
			if err != nil {
				t.Fatal(err)
			}
			if int32(ret) != tcxNext {
				t.Errorf("%s program returned %d for a %d-byte frame, want TCX_NEXT (-1)", Direction(d), int32(ret), n)
			}
		}
	}
	var got []Header
	var data [][]byte
	recs := make([][]byte, 16)
	for _, rd := range readers {
		k, err := rd.Read(recs, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range recs[:k] {
			h, d, err := Parse(rec)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, h)
			data = append(data, append([]byte(nil), d...))
		}
	}
	if len(got) != 2*len(sizes) {
		t.Fatalf("read %d records, want %d", len(got), 2*len(sizes))
	}
	// TAI is ahead of UTC by the kernel's offset (0 or 37 s): a stamp is
	// within a minute of now.
	for i, h := range got {
		n := sizes[i%len(sizes)]
		dir := Direction(i / len(sizes))
		if h.Dir != dir || h.WireLen != uint32(n) || h.Realtime {
			t.Errorf("record %d: %+v, want %s, wire length %d, TAI stamp", i, h, dir, n)
		}
		if !bytes.Equal(data[i], frame(n)[:min(n, 100)]) {
			t.Errorf("record %d: %d bytes captured, want the first %d of the frame", i, len(data[i]), min(n, 100))
		}
		if d := time.Duration(h.Time - before.UnixNano()); d < -time.Second || d > time.Minute {
			t.Errorf("record %d: stamp %d is %v from now", i, h.Time, d)
		}
	}
	var c Counters
	for i := 0; i < p.Rings(); i++ {
		ci, err := p.Counters(i)
		if err != nil {
			t.Fatal(err)
		}
		c.Seen, c.Matched, c.Dropped = c.Seen+ci.Seen, c.Matched+ci.Matched, c.Dropped+ci.Dropped
	}
	if c != (Counters{Seen: 6, Matched: 6}) {
		t.Errorf("counters %+v, want 6 seen and matched, none dropped", c)
	}
}

func TestParseShort(t *testing.T) {
	if _, _, err := Parse(make([]byte, HeaderLen-1)); !errors.Is(err, ErrShortRecord) {
		t.Errorf("Parse of a short record: %v, want ErrShortRecord", err)
	}
	h, d, err := Parse(append(make([]byte, HeaderLen), 1, 2, 3))
	if err != nil || len(d) != 3 || h.Dir != In {
		t.Errorf("Parse = %+v, % x, %v", h, d, err)
	}
}

// TestReaderMore: More returns the records committed after the last Read
// without handing the space of those back to the kernel (their bytes stay
// as they were), and the next Read hands back everything both returned.
func TestReaderMore(t *testing.T) {
	if os.Geteuid() != 0 {
		corpus.Unavailable(t, "loading BPF programs needs root (CAP_BPF)")
	}
	p, err := Load(Spec{Snaplen: 200, RingBytes: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	runtime.LockOSThread() // every run on one CPU, so into one ring
	defer runtime.UnlockOSThread()
	run := func(sizes ...int) {
		for _, n := range sizes {
			if _, err := p.progs[In].Run(&ebpf.RunOptions{Data: frame(n)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	readers := make([]*Reader, p.Rings())
	for i := range readers {
		if readers[i], err = NewReader(p.Ring(i)); err != nil {
			t.Fatal(err)
		}
		defer readers[i].Close()
	}
	run(60, 61, 62)
	var rd *Reader
	recs := make([][]byte, 8)
	k := 0
	for _, r := range readers {
		if n, err := r.Read(recs, 0); err != nil {
			t.Fatal(err)
		} else if n > 0 {
			rd, k = r, n
		}
	}
	if rd == nil || k != 3 {
		t.Fatalf("read %d records, want 3 in one ring", k)
	}
	first := make([][]byte, k)
	for i := range first {
		first[i] = append([]byte(nil), recs[i]...)
	}
	cons := atomic.LoadUint64(rd.consPos)
	run(63, 64)
	m := rd.More(recs[k:])
	if m != 2 {
		t.Fatalf("More returned %d records, want 2", m)
	}
	if got := atomic.LoadUint64(rd.consPos); got != cons {
		t.Fatalf("More moved the consumer position from %d to %d", cons, got)
	}
	for i := range k + m {
		h, d, err := Parse(recs[i])
		if err != nil || h.WireLen != uint32(60+i) || !bytes.Equal(d, frame(60+i)) {
			t.Fatalf("record %d after More: %+v, %v", i, h, err)
		}
		if i < k && !bytes.Equal(recs[i], first[i]) {
			t.Fatalf("record %d changed after More", i)
		}
	}
	if n := rd.More(recs[k+m:]); n != 0 {
		t.Fatalf("More with nothing new returned %d", n)
	}
	if n, err := rd.Read(recs, 0); err != nil || n != 0 {
		t.Fatalf("Read after More: %d records, %v", n, err)
	}
	if got := atomic.LoadUint64(rd.consPos); got != rd.pos || got == cons {
		t.Fatalf("Read left the consumer position at %d (read up to %d, was %d)", got, rd.pos, cons)
	}
}

// FuzzTime: Time reads a record's time and clock as Parse does, and
// refuses exactly the records Parse refuses.
func FuzzTime(f *testing.F) {
	rec := make([]byte, HeaderLen+TrailerLen+4)
	f.Add(rec[:HeaderLen-1])
	f.Add(rec)
	rec[offFlags] = FlagRealtime | FlagCsumPartial
	f.Add(rec[:HeaderLen+2])
	f.Add(rec)
	f.Fuzz(func(t *testing.T, rec []byte) {
		ts, realtime, ok := Time(rec)
		h, _, err := Parse(rec)
		if ok != (err == nil) {
			t.Fatalf("Time ok %v, Parse error %v", ok, err)
		}
		if ok && (ts != h.Time || realtime != h.Realtime) {
			t.Fatalf("Time = %d, %v; Parse: %d, %v", ts, realtime, h.Time, h.Realtime)
		}
	})
}
