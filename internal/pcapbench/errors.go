package pcapbench

import "errors"

// ErrUnavailable is returned by New in a build without cgo.
var ErrUnavailable = errors.New("pcapbench: libpcap's bpf_filter needs cgo and libpcap-dev")

var errBadInput = errors.New("pcapbench: need a program and at least one packet, with one wire length per packet")
