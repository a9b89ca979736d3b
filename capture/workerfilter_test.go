package capture_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/packet"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/spec"
)

// tcpOnly keeps TCP packets, by their parse record. Its forks count in
// plain fields, which the race detector would flag were a fork shared
// between workers.
type tcpOnly struct {
	forks   *atomic.Int32
	base    bool
	packets int // RunMeta and RunMetaBatch packets
	batches int
	badMeta int // meta(i) that was not packet i's
}

func (f *tcpOnly) Run([]byte, uint32) uint32 { panic("Run called with FilterMeta set") }

func (f *tcpOnly) RunMeta(pkt []byte, wirelen uint32, meta *spec.Meta) uint32 {
	if f.base {
		panic("the pipeline ran the filter it forked")
	}
	f.packets++
	if meta.Record[spec.RecIPProto] == 6 {
		return ^uint32(0)
	}
	return 0
}

func (f *tcpOnly) RunMetaBatch(pk []packet.Packet, meta func(i int) *spec.Meta, ret []uint32) {
	f.batches++
	for i := range pk {
		m := meta(i)
		if m.Record != (*[spec.RecordSize]byte)(&pk[i].Record) || m.Ifindex != pk[i].Info.Ifindex {
			f.badMeta++
		}
		ret[i] = f.RunMeta(pk[i].Data, pk[i].Info.WireLen, m)
	}
}

func (f *tcpOnly) ForWorker() (capture.Filter, error) {
	f.forks.Add(1)
	return &tcpOnly{forks: f.forks}, nil
}

// TestPipelineWorkerFilter: a WorkerFilter is forked once per worker and
// each worker runs only its own fork; a MetaBatchFilter is called once per
// batch with parsed packets and their metadata, and the pipeline keeps
// what it returns, exactly as per-packet RunMeta calls would.
func TestPipelineWorkerFilter(t *testing.T) {
	file := genFile(t, 3000)
	want := 0
	for _, p := range allPackets(t, file) {
		if p.rec[spec.RecIPProto] == 6 {
			want++
		}
	}
	const workers = 3
	for _, batch := range []int{1, 7, 256} {
		var forks atomic.Int32
		base := &tcpOnly{forks: &forks, base: true}
		var srcs []capture.Source
		for range workers {
			r, err := pcapfile.NewReaderBytes(file, "gen")
			if err != nil {
				t.Fatal(err)
			}
			srcs = append(srcs, capture.NewFileSource(r))
		}
		col := &collector{}
		var made []*tcpOnly
		counting := &forkRecorder{tcpOnly: base, made: &made}
		pl, err := capture.New(capture.Config{Sources: srcs, Filter: counting, FilterMeta: true, Batch: batch, Sinks: []capture.Sink{col}})
		if err != nil {
			t.Fatal(err)
		}
		if err := pl.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if forks.Load() != workers || len(made) != workers {
			t.Fatalf("batch %d: %d forks for %d workers", batch, forks.Load(), workers)
		}
		total := 0
		for _, f := range made {
			total += f.packets
			if f.badMeta != 0 {
				t.Errorf("batch %d: %d packets got another packet's metadata", batch, f.badMeta)
			}
			if f.batches == 0 || f.packets != 3000 {
				t.Errorf("batch %d: a fork ran %d batches, %d packets; want every packet of its source", batch, f.batches, f.packets)
			}
		}
		if got := len(col.pkts); got != workers*want {
			t.Errorf("batch %d: delivered %d packets, want %d (%d TCP packets per source)", batch, got, workers*want, want)
		}
		for _, p := range col.pkts {
			if p.rec[spec.RecIPProto] != 6 {
				t.Fatalf("batch %d: a packet of protocol %d passed", batch, p.rec[spec.RecIPProto])
			}
		}
	}
}

// forkRecorder keeps the forks its tcpOnly makes, for the test to read
// after the run.
type forkRecorder struct {
	*tcpOnly
	made *[]*tcpOnly
}

func (r *forkRecorder) ForWorker() (capture.Filter, error) {
	f, err := r.tcpOnly.ForWorker()
	if err == nil {
		*r.made = append(*r.made, f.(*tcpOnly))
	}
	return f, err
}
