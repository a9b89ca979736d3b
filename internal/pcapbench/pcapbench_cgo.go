//go:build cgo

package pcapbench

/*
#cgo LDFLAGS: -lpcap
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>

typedef struct {
	const u_char *data;
	u_int caplen, wirelen;
} wring_pkt;

// wring_loop runs prog over n packets, cycling through the set, and
// returns the sum of the results (so the work cannot be optimised away).
static unsigned long long wring_loop(const struct bpf_insn *prog, const wring_pkt *pkts, int npkts, long long n) {
	unsigned long long sum = 0;
	int j = 0;
	for (long long i = 0; i < n; i++) {
		sum += bpf_filter(prog, pkts[j].data, pkts[j].wirelen, pkts[j].caplen);
		if (++j == npkts) {
			j = 0;
		}
	}
	return sum;
}

static u_int wring_one(const struct bpf_insn *prog, const wring_pkt *pkts, int i) {
	return bpf_filter(prog, pkts[i].data, pkts[i].wirelen, pkts[i].caplen);
}
*/
import "C"

import (
	"unsafe"

	"github.com/wringcap/wring/spec"
)

// Available reports whether this build can run libpcap's bpf_filter.
const Available = true

// Set is a set of packets and a program copied into C memory.
type Set struct {
	pkts  *C.wring_pkt
	data  unsafe.Pointer
	prog  *C.struct_bpf_insn
	n     int
	freed bool
}

// New copies the packets (captured bytes and wire lengths) and the program
// into C memory. Close frees them.
func New(prog spec.Program, data [][]byte, wirelen []uint32) (*Set, error) {
	if len(data) == 0 || len(prog) == 0 || len(wirelen) != len(data) {
		return nil, errBadInput
	}
	total := 0
	for _, d := range data {
		total += len(d)
	}
	s := &Set{n: len(data)}
	s.data = C.malloc(C.size_t(max(total, 1)))
	s.pkts = (*C.wring_pkt)(C.malloc(C.size_t(len(data)) * C.size_t(unsafe.Sizeof(C.wring_pkt{}))))
	s.prog = (*C.struct_bpf_insn)(C.malloc(C.size_t(len(prog)) * C.size_t(unsafe.Sizeof(C.struct_bpf_insn{}))))
	buf := unsafe.Slice((*byte)(s.data), max(total, 1))
	pk := unsafe.Slice(s.pkts, len(data))
	off := 0
	for i, d := range data {
		copy(buf[off:], d)
		pk[i].data = (*C.u_char)(unsafe.Add(s.data, off))
		pk[i].caplen = C.u_int(len(d))
		pk[i].wirelen = C.u_int(wirelen[i])
		off += len(d)
	}
	ins := unsafe.Slice(s.prog, len(prog))
	for i, in := range prog {
		ins[i].code = C.u_short(in.Op)
		ins[i].jt = C.u_char(in.Jt)
		ins[i].jf = C.u_char(in.Jf)
		ins[i].k = C.bpf_u_int32(in.K)
	}
	return s, nil
}

// Loop runs the program over n packets in C, cycling through the set, and
// returns the sum of the results.
func (s *Set) Loop(n int) uint64 {
	return uint64(C.wring_loop(s.prog, s.pkts, C.int(s.n), C.longlong(n)))
}

// Result returns bpf_filter's result for packet i.
func (s *Set) Result(i int) uint32 {
	return uint32(C.wring_one(s.prog, s.pkts, C.int(i)))
}

// Close frees the C memory.
func (s *Set) Close() {
	if s.freed {
		return
	}
	s.freed = true
	C.free(s.data)
	C.free(unsafe.Pointer(s.pkts))
	C.free(unsafe.Pointer(s.prog))
}
