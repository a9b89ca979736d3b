//go:build cgo

package pcaporacle

/*
#cgo LDFLAGS: -lpcap
#include <stdlib.h>
#include <pcap/pcap.h>

static u_int run_filter(const struct bpf_insn *p, const u_char *pkt, u_int wirelen, u_int buflen) {
	return bpf_filter(p, pkt, wirelen, buflen);
}
*/
import "C"

import (
	"runtime"
	"unsafe"

	"github.com/wringcap/wring/spec"
)

// Native is true when Run calls libpcap's C bpf_filter.
const Native = true

// Program is a classic BPF program ready for libpcap's bpf_filter.
type Program struct {
	insns *C.struct_bpf_insn
	n     int
}

// New copies prog into C memory for bpf_filter.
func New(prog spec.Program) *Program {
	n := max(len(prog), 1)
	mem := (*C.struct_bpf_insn)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof(C.struct_bpf_insn{}))))
	s := unsafe.Slice(mem, n)
	for i, ins := range prog {
		s[i].code = C.u_short(ins.Op)
		s[i].jt = C.u_char(ins.Jt)
		s[i].jf = C.u_char(ins.Jf)
		s[i].k = C.bpf_u_int32(ins.K)
	}
	p := &Program{insns: mem, n: len(prog)}
	runtime.AddCleanup(p, func(m *C.struct_bpf_insn) { C.free(unsafe.Pointer(m)) }, mem)
	return p
}

// Run returns libpcap's bpf_filter result for a packet of wirelen bytes on
// the wire whose captured bytes are pkt.
func (p *Program) Run(pkt []byte, wirelen uint32) uint32 {
	if p.n == 0 {
		return 0
	}
	var ptr *C.u_char
	if len(pkt) > 0 {
		ptr = (*C.u_char)(unsafe.Pointer(&pkt[0]))
	}
	r := C.run_filter(p.insns, ptr, C.u_int(wirelen), C.u_int(len(pkt)))
	runtime.KeepAlive(p)
	return uint32(r)
}
