// Package pcapbench runs libpcap's C interpreter, bpf_filter, over a set
// of packets in a C loop: the anchor the filter benchmarks measure the
// other engines against. One cgo call covers a whole run of packets, so
// the figure is bpf_filter's own cost per packet, not cgo's per-call
// overhead.
//
// It needs cgo and libpcap's headers and library (Debian: libpcap-dev).
// Without cgo (CGO_ENABLED=0) the package still builds, Available is false
// and New reports ErrUnavailable.
package pcapbench
