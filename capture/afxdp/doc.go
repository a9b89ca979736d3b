// Package afxdp captures packets through AF_XDP sockets: one socket with its
// own UMEM, fill, completion and RX rings per receive queue, fed by one XDP
// program per interface that runs the filter in the kernel and redirects
// only matching frames to the socket of the queue they arrived on. Frames
// that do not match are passed to the host's stack untouched and are never
// copied.
//
// This is PF_RING/TNAPI's "virtual capture device" with today's kernel:
// `eth0@2` is one Socket on queue 2; `eth0` is one Socket per queue, each
// read by its own goroutine.
package afxdp
