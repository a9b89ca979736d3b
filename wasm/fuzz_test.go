package wasm

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/wringcap/wring/spec"
)

// FuzzABI fuzzes everything the host reads back from guest memory: the Info
// block and the areas it points to, the event area (whose output must be
// valid JSON lines), and, end to end, verdict and event areas written by a
// real guest (which copies the fuzz input over them on every call).
func FuzzABI(f *testing.F) {
	f.Add([]byte{})
	f.Add(validEvents())
	f.Add(append(make([]byte, 64), validEvents()...))
	bad := validEvents()
	binary.LittleEndian.PutUint16(bad[8:], 3)
	f.Add(bad)
	info := make([]byte, 4+spec.InfoSize+64)
	binary.LittleEndian.PutUint32(info, 4)
	binary.LittleEndian.PutUint32(info[4+spec.InfoVersion:], 1)
	binary.LittleEndian.PutUint32(info[4+spec.InfoMaxPackets:], 1)
	f.Add(info)
	// A version-2 block taking streams: area at 0x100 of 4096 bytes, port 443.
	v2 := make([]byte, 0x100+4096)
	binary.LittleEndian.PutUint32(v2, 4)
	binary.LittleEndian.PutUint32(v2[4+spec.InfoVersion:], 2)
	binary.LittleEndian.PutUint32(v2[4+spec.InfoFlags:], spec.InfoFlagStreams|spec.InfoFlagStreamsOnly)
	binary.LittleEndian.PutUint32(v2[4+spec.InfoStreamsPtr:], 0x100)
	binary.LittleEndian.PutUint32(v2[4+spec.InfoStreamsCap:], 4096)
	binary.LittleEndian.PutUint32(v2[4+spec.InfoStreamPortsN:], 1)
	binary.LittleEndian.PutUint16(v2[4+spec.InfoStreamPorts:], 443)
	f.Add(v2)

	guest := analyzerWAT(f, map[string]string{"{{AFTER}}": `
	  (memory.copy (i32.const 0x2000) (i32.const 0x8000) (i32.const 64))
	  (memory.copy (i32.const 0x3000) (i32.const 0x8040) (i32.const 0x3c0))`})
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, in []byte) {
		// 1. The Info block, pointer in the first 4 bytes.
		if len(in) >= 4 {
			parseInfo(in, binary.LittleEndian.Uint32(in), 1)
			parseInfo(in, binary.LittleEndian.Uint32(in), 2)
		}
		// 2. The event area: when accepted, every line is a JSON object.
		ts := []int64{1, 2, 3}
		out, n, over, err := appendEvents(nil, in, "fuzz", ts, fuzzKeys, 0, 1<<30, 1<<30)
		if over != 0 {
			t.Fatalf("%d events over caps of 2^30", over)
		}
		// The same area under small caps: when the whole area is accepted,
		// the capped output is a prefix of it, within both caps, and every
		// event is either written or counted over.
		capped, cn, cover, cerr := appendEvents(nil, in, "fuzz", ts, fuzzKeys, 0, 2, 300)
		if err == nil {
			if cerr != nil {
				t.Fatalf("accepted without caps, rejected with: %v", cerr)
			}
			if cn > 2 || len(capped) > 300 || cn+cover != n || !bytes.HasPrefix(out, capped) {
				t.Fatalf("caps: %d written + %d over of %d, %d bytes, prefix %v", cn, cover, n, len(capped), bytes.HasPrefix(out, capped))
			}
		}
		if err == nil {
			for _, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
				if len(line) == 0 {
					continue
				}
				var m map[string]any
				if err := json.Unmarshal(line, &m); err != nil {
					t.Fatalf("invalid JSON line %q: %v", line, err)
				}
			}
		} else if len(out) != 0 {
			t.Fatalf("rejected area produced output %q", out)
		}
		// 3. End to end: the guest copies the input over its verdicts and
		// events; the host either applies them or counts an ABI failure.
		if len(in) > 1024 || bytes.Equal(in, []byte("fail")) {
			return
		}
		var sink bytes.Buffer
		h, err := NewHost(ctx, testConfig(nil).WithEvents(&sink).WithEventFlows(true), Analyzer{Name: "fuzz", Binary: guest, Config: in})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close(ctx)
		b := mkBatch([]uint16{1, 80, 3, 4, 5, 6, 7, 8}, 64)
		if err := h.Handle(b); err != nil {
			t.Fatal(err)
		}
		s := statsOf(h, "fuzz")
		if s.Failures != s.ABI {
			t.Fatalf("failure other than ABI: %+v", s)
		}
		for i, v := range b.Verdicts {
			if v.Action > 3 || (v.Action == 2 && v.Sink != 1) {
				t.Fatalf("packet %d: verdict %+v escaped validation", i, v)
			}
		}
		for _, line := range bytes.Split(bytes.TrimSuffix(sink.Bytes(), []byte("\n")), []byte("\n")) {
			if len(line) > 0 && !json.Valid(line) {
				t.Fatalf("invalid JSON line %q", line)
			}
		}
	})
}

// validEvents is an event area with one event of every field type.
func validEvents() []byte {
	var e []byte
	e = append(e, 0, 0, 5, 0, 0, 0, 0, 0) // size, fields, packet 0
	e = append(e, 3, 'd', 'n', 's')
	e = append(e, spec.FieldString, 4, 'n', 'a', 'm', 'e', 3, 0, 'a', '"', 0xff)
	e = append(e, spec.FieldUint, 1, 'u', 1, 2, 3, 4, 5, 6, 7, 8)
	e = append(e, spec.FieldInt, 1, 'i', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	e = append(e, spec.FieldBool, 1, 'b', 1)
	e = append(e, spec.FieldAddr, 1, 'a', 4, 10, 0, 0, 1)
	binary.LittleEndian.PutUint16(e, uint16(len(e)))
	area := make([]byte, 8, 8+len(e))
	binary.LittleEndian.PutUint32(area, uint32(len(e)))
	return append(area, e...)
}

func TestValidEventsDecode(t *testing.T) {
	out, n, over, err := appendEvents(nil, validEvents(), "x", []int64{0}, nil, 0, 10, 1000)
	if err != nil || n != 1 || over != 0 {
		t.Fatalf("%v %d", err, n)
	}
	want := `{"analyzer":"x","event":"dns","ts":0,"name":"a\"\ufffd","u":578437695752307201,"i":-1,"b":true,"a":"10.0.0.1"}` + "\n"
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}

// FuzzBudget fuzzes the load budget's reading of a module's sections: it
// never panics, never reports a negative demand, and a module it refuses
// is over the budget by what it reports.
func FuzzBudget(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x04\x04\x01\x70\x00\x0a"))                                 // one table of 10
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x05\x03\x01\x00\x11"))                                     // memory of 17 pages
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x02\x0b\x01\x03env\x01t\x01\x70\x00\x80\x01"))             // imported table
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x04\x0b\x01\x70\x05\x80\x80\x80\x80\x80\x80\x80\x80\x01")) // table64
	f.Fuzz(func(t *testing.T, bin []byte) {
		d, err := demand(bin, 1024)
		if d.memory < 0 || d.tables < 0 || d.code < 0 || d.total() < 0 {
			t.Fatalf("negative demand %+v", d)
		}
		if d.memory > 1024*pageBytes {
			t.Fatalf("memory %d over the page limit", d.memory)
		}
		if err := checkBudget(bin, 1024, 1<<20); err != nil && d.total() <= 1<<20 {
			t.Fatalf("refused at %d bytes of %d: %v", d.total(), 1<<20, err)
		}
		_ = err
	})
}
