// Package pcaporacle asks Debian's libpcap what a pcap filter expression
// means, for differential tests and benchmarks: Compile and CompileFile run
// `tcpdump -ddd` to get libpcap's program for an expression, and New wraps a
// program so that Run gives libpcap's own bpf_filter verdict on a packet.
//
// With cgo (the default where a C compiler is present) Run calls the C
// bpf_filter of the installed libpcap (libpcap-dev provides the headers and
// -lpcap). Built with CGO_ENABLED=0 it falls back to Interpret, a Go
// transcription of libpcap 1.10's bpf_filter; Native says which one is in
// use.
package pcaporacle
