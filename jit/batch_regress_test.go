package jit

import (
	"bytes"
	"testing"

	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/internal/trafficgen"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// The three tests below reproduce the conditions of a reported SIGSEGV in
// enterBatch (`tcp port 80` over generated packets with wire lengths): every
// batch size from 1 to 200 against vm.Run, batches in stack-resident arrays
// from several goroutines under GC pressure, and nil, empty and short
// packets with zero wire lengths.

func TestBatchGeneratedAgainstVM(t *testing.T) {
	var buf bytes.Buffer
	if err := trafficgen.Generate(&buf, trafficgen.Config{Seed: 1, Count: 2000}); err != nil {
		t.Fatal(err)
	}
	r, err := pcapfile.NewReader(bytes.NewReader(buf.Bytes()), "gen")
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	var wls []uint32
	var info packet.Info
	for {
		d, err := r.ReadPacket(&info)
		if err != nil {
			break
		}
		pkts = append(pkts, append([]byte(nil), d...))
		wls = append(wls, info.WireLen)
	}
	prog, err := expr.Compile("tcp port 80", expr.Options{LinkType: spec.LinkEthernet, Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	vp, err := verifier.Verify(prog, verifier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Compile(vp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]uint32, len(pkts))
	for n := 1; n <= 200; n++ {
		if err := f.RunBatch(pkts[:n], wls[:n], out); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.RunBatch(pkts, wls, out); err != nil {
		t.Fatal(err)
	}
	for i := range pkts {
		if want := vm.Run(vp, pkts[i], wls[i], nil); out[i] != want {
			t.Fatalf("packet %d: %d want %d", i, out[i], want)
		}
	}
}

func TestBatchStackArraysConcurrent(t *testing.T) {
	var buf bytes.Buffer
	if err := trafficgen.Generate(&buf, trafficgen.Config{Seed: 1, Count: 1000}); err != nil {
		t.Fatal(err)
	}
	r, _ := pcapfile.NewReader(bytes.NewReader(buf.Bytes()), "gen")
	var all [][]byte
	var allw []uint32
	var info packet.Info
	for {
		d, err := r.ReadPacket(&info)
		if err != nil {
			break
		}
		all = append(all, append([]byte(nil), d...))
		allw = append(allw, info.WireLen)
	}
	prog, _ := expr.Compile("tcp port 80", expr.Options{LinkType: spec.LinkEthernet, Optimize: true})
	vp, _ := verifier.Verify(prog, verifier.Options{})
	f, _ := Compile(vp, Options{})
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			for it := 0; it < 2000; it++ {
				var pk [128][]byte
				var wl [128]uint32
				var out [128]uint32
				for i := range pk {
					pk[i] = all[(it+i)%len(all)]
					wl[i] = allw[(it+i)%len(all)]
				}
				if err := f.RunBatch(pk[:], wl[:], out[:]); err != nil {
					t.Error(err)
				}
				for i := range pk {
					if want := vm.Run(vp, pk[i], wl[i], nil); out[i] != want {
						t.Errorf("packet %d: %d, want %d", i, out[i], want)
						break
					}
				}
				if it%100 == 0 {
					_ = make([]byte, 1<<20)
				}
			}
			done <- true
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

func TestBatchOddPackets(t *testing.T) {
	prog, _ := expr.Compile("tcp port 80", expr.Options{LinkType: spec.LinkEthernet, Optimize: true})
	vp, _ := verifier.Verify(prog, verifier.Options{})
	for _, o := range []Options{{}, {NoBlinding: true}} {
		f, _ := Compile(vp, o)
		pk := make([][]byte, 130)
		for i := range pk {
			if i%3 == 0 {
				pk[i] = nil
			} else {
				pk[i] = make([]byte, i)
			}
		}
		out := make([]uint32, 130)
		wl := make([]uint32, 130)
		for _, w := range [][]uint32{nil, wl} {
			if err := f.RunBatch(pk, w, out); err != nil {
				t.Fatal(err)
			}
			for i := range pk {
				wli := uint32(len(pk[i]))
				if w != nil {
					wli = w[i]
				}
				if want := vm.Run(vp, pk[i], wli, nil); out[i] != want {
					t.Fatalf("packet %d: %d, want %d", i, out[i], want)
				}
			}
		}
		if err := f.RunBatch(pk[:0], wl[:0], out); err != nil {
			t.Fatal(err)
		}
	}
}
