package main

import (
	"errors"
	"io"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/sink"
)

// printFlags are tcpdump's flags for what is printed and how it is
// buffered, shared by read and capture. Each has tcpdump's letter and, where
// tcpdump has one, its long name.
type printFlags struct {
	Verbose    int    `short:"v" type:"counter" help:"Decode more of each packet (tcpdump -v, -vv, -vvv)."`
	LinkHeader bool   `short:"e" name:"link-header" help:"Print the link-level header of each packet (tcpdump -e)."`
	Quiet      bool   `short:"q" name:"quiet" help:"Print less protocol information (tcpdump -q)."`
	HexLower   int    `short:"x" name:"hex" type:"counter" help:"Dump each packet in hex after the summary, without (-x) or with (-xx) its link header."`
	HexUpper   int    `short:"X" name:"hex-ascii" type:"counter" help:"Dump each packet in hex and ASCII, without (-X) or with (-XX) its link header."`
	ASCII      int    `short:"A" name:"ascii" type:"counter" help:"Print each packet in ASCII, without (-A) or with (-AA) its link header."`
	Times      int    `short:"t" name:"time-format" type:"counter" help:"Time stamps: -t none, -tt seconds since the epoch, -ttt delta from the previous packet, -tttt date and time, -ttttt delta from the first packet."`
	Precision  string `name:"time-stamp-precision" enum:"micro,nano" default:"micro" placeholder:"micro|nano" help:"Print (and with -w write) micro- or nanosecond time stamps (tcpdump --time-stamp-precision)."`
	Number     bool   `short:"#" name:"number" help:"Print a packet number at the start of each line (tcpdump -#)."`
	CountOnly  bool   `name:"count" help:"Print only the number of packets that passed the filter, on standard output (tcpdump --count)."`
	LineBuf    bool   `short:"l" name:"line-buffered" help:"Write each packet's line (or JSON object) as soon as it is made (tcpdump -l)."`
	PacketBuf  bool   `short:"U" name:"packet-buffered" help:"With -w, write each packet to the file as soon as it is made (tcpdump -U)."`
}

// errTimeFormat is tcpdump's message for more than five -t.
var errTimeFormat = errors.New("only -t, -tt, -ttt, -tttt and -ttttt are supported")

// textOptions turns the flags into the text printer's options, choosing
// among -X, -x and -A as tcpdump does (-X wins over -x, which wins over
// -A).
func (f *printFlags) textOptions(nano bool) (sink.TextOptions, error) {
	if f.Times > 5 {
		return sink.TextOptions{}, errTimeFormat
	}
	o := sink.TextOptions{Verbose: f.Verbose, LinkHeader: f.LinkHeader, Quiet: f.Quiet, TimeFormat: f.Times,
		Nano: nano || f.Precision == "nano"}
	switch {
	case f.HexUpper > 0:
		o.Hex, o.HexASCII = min(f.HexUpper, 2), true
	case f.HexLower > 0:
		o.Hex = min(f.HexLower, 2)
	case f.ASCII > 0:
		o.ASCII = min(f.ASCII, 2)
	}
	return o, nil
}

// textOnly returns the first given flag that only changes the printed
// text ("-v", "-x", ...), or "": such flags make no sense with --json or
// --count.
func (f *printFlags) textOnly() string {
	switch {
	case f.Verbose > 0:
		return "-v"
	case f.LinkHeader:
		return "-e"
	case f.Quiet:
		return "-q"
	case f.HexLower > 0:
		return "-x"
	case f.HexUpper > 0:
		return "-X"
	case f.ASCII > 0:
		return "-A"
	case f.Number:
		return "-#"
	}
	return ""
}

// newTextSink builds the text printer. It is the one place that knows the
// printer's constructor.
func newTextSink(w io.Writer, o sink.TextOptions) capture.Sink { return sink.NewTextWith(w, o) }
