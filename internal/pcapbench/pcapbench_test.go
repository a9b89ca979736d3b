package pcapbench

import (
	"errors"
	"testing"

	"github.com/wringcap/wring/internal/benchdata"
	"github.com/wringcap/wring/internal/corpus"
	"github.com/wringcap/wring/internal/pcaporacle"
)

// TestLoopMatchesInterpreter: the C loop's per-packet results and their
// sum equal the Go transcription of libpcap's interpreter on the working
// set, for every benchmark filter.
func TestLoopMatchesInterpreter(t *testing.T) {
	ws := benchdata.WorkingSet(t)
	data := make([][]byte, len(ws))
	wl := make([]uint32, len(ws))
	for i, p := range ws {
		data[i], wl[i] = p.Data, p.WireLen
	}
	for _, f := range benchdata.Filters() {
		s, err := New(f.Program, data, wl)
		if errors.Is(err, ErrUnavailable) {
			corpus.Unavailable(t, err.Error())
		}
		if err != nil {
			t.Fatal(err)
		}
		var sum uint64
		for i := range ws {
			want := pcaporacle.Interpret(f.Program, data[i], wl[i])
			if got := s.Result(i); got != want {
				t.Fatalf("%s packet %d: bpf_filter %d, interpreter %d", f.Name, i, got, want)
			}
			sum += uint64(want)
		}
		if got := s.Loop(2 * len(ws)); got != 2*sum {
			t.Fatalf("%s: loop sum %d, want %d", f.Name, got, 2*sum)
		}
		s.Close()
	}
}

func TestNewRejectsEmpty(t *testing.T) {
	if _, err := New(nil, nil, nil); err == nil {
		t.Fatal("New with nothing succeeded")
	}
}
