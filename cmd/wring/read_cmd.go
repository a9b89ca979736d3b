package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/capture/sample"
	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/jit"
	"github.com/wringcap/wring/verifier"
)

// readCmd reads packets from a capture file (or the bundled sample),
// filters them, runs the analyzers and writes or prints them. Flag names
// are tcpdump's where tcpdump has them.
type readCmd struct {
	analyzerFlags `embed:""`
	libpcapFlag   `embed:""`

	File          string   `short:"r" name:"read" placeholder:"FILE" help:"Read packets from FILE (pcap or pcapng, - for standard input); without it, the bundled sample capture."`
	Write         string   `short:"w" name:"write" placeholder:"OUT" help:"Write the packets to OUT (- for standard output) instead of printing a summary line per packet."`
	Count         uint64   `short:"c" name:"count" placeholder:"N" help:"Stop after N packets have passed the filter (and the analyzers)."`
	NoResolve     bool     `short:"n" help:"Do not resolve addresses or ports (wring never does; accepted as tcpdump's -n)."`
	JSON          bool     `name:"json" help:"Print one JSON object per packet instead of a text line."`
	FileSize      uint64   `short:"C" name:"file-size" placeholder:"MB" help:"With -w, start a new file when the current one exceeds MB million bytes (tcpdump -C)."`
	RotateSeconds uint64   `short:"G" name:"rotate-seconds" placeholder:"SECS" help:"With -w, start a new file every SECS seconds of packet time; OUT is a strftime pattern (tcpdump -G)."`
	FileCount     int      `short:"W" name:"file-count" placeholder:"N" help:"With -C, cycle through N files; with -G, stop after N files (tcpdump -W)."`
	Snaplen       uint32   `short:"s" name:"snaplen" placeholder:"BYTES" help:"Keep at most BYTES of each packet (written files say so in their header). tcpdump ignores -s when reading a file; wring truncates."`
	Nano          bool     `name:"nano" help:"Write nanosecond timestamps with -w (tcpdump --nano); the default is microseconds, as tcpdump writes."`
	PcapNG        bool     `name:"pcapng" help:"Write pcapng instead of pcap with -w."`
	Batch         int      `name:"batch" default:"128" help:"Packets per batch handed to the filter, analyzers and sinks (1 to 4096)."`
	Interpreter   bool     `name:"vm" help:"Run the filter in the reference interpreter instead of the JIT."`
	Expr          []string `arg:"" optional:"" passthrough:"" name:"expression" help:"Filter expression (pcap syntax, as tcpdump takes it)."`
}

// analyzerHook is where the Wasm analyzers plug into `wring read` (and
// `wring capture`): given the analyzer flags, it returns the handlers to run
// after the filter, in order, and a function to call once the packets are
// done (to print the analyzers' counters and release them). Cancelling ctx
// (a signal) stops the loading and, later, the guests. It is nil until
// the analyzer flags install it; nil means no analyzers.
var analyzerHook func(ctx context.Context, f *analyzerFlags, s *streams) (handlers []capture.Handler, done func() error, err error)

// Run reads, filters, analyzes and writes the packets, then prints the
// summary.
func (c *readCmd) Run(s *streams) error {
	r, err := c.open(s)
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Fprintf(s.Err, "reading from file %s, link-type %s, snapshot length %d\n", displayName(c.File), linkName(r), r.Snaplen())

	filter, meta, err := c.filter(r)
	if err != nil {
		return err
	}
	out, err := c.sink(s, r)
	if err != nil {
		return exitf(2, "%v", err)
	}
	ctx, stop := stopOnSignal(s.Err)
	defer stop()
	handlers, done, err := c.analyzers(ctx, s)
	if err != nil {
		closeErr := out.Close()
		if interrupted(ctx, s.Err, "loading analyzers") {
			printSummary(s.Err, nil)
			if closeErr != nil {
				return exitf(1, "%v", closeErr)
			}
			return nil
		}
		return exitf(2, "%v", err)
	}
	src := capture.NewFileSource(r)
	cfg := capture.Config{
		Sources:    []capture.Source{src},
		Filter:     filter,
		FilterMeta: meta,
		Snaplen:    c.Snaplen,
		Batch:      c.Batch,
		Count:      c.Count,
		Handlers:   handlers,
		Sinks:      []capture.Sink{out},
	}
	p, err := capture.New(cfg)
	if err != nil {
		out.Close()
		return exitf(2, "%v", err)
	}
	stopProgress := startProgress(s.Err, r, p)
	runErr := p.Run(ctx)
	stopProgress()
	closeErr := out.Close()
	var doneErr error
	if done != nil {
		doneErr = done()
	}
	interrupted(ctx, s.Err, "reading packets")
	printSummary(s.Err, p.Counters())
	switch {
	case runErr != nil && errors.Is(runErr, pcapfile.ErrFileLimit):
		fmt.Fprintf(s.Err, "wring: %v\n", runErr)
	case runErr != nil:
		var pe *pcapfile.Error
		if errors.As(runErr, &pe) {
			return exitf(2, "%v", runErr)
		}
		return exitf(1, "%v", runErr)
	case closeErr != nil:
		return exitf(1, "%v", closeErr)
	case doneErr != nil:
		return exitf(1, "%v", doneErr)
	}
	return nil
}

// open opens the input: a file, standard input or the bundled sample.
func (c *readCmd) open(s *streams) (*pcapfile.Reader, error) {
	var (
		r   *pcapfile.Reader
		err error
	)
	switch c.File {
	case "":
		r, err = pcapfile.NewReader(bytes.NewReader(sample.Pcap), sample.Name)
	case "-":
		r, err = pcapfile.NewReader(s.In, "standard input")
	default:
		r, err = pcapfile.Open(c.File)
	}
	if err != nil {
		return nil, exitf(2, "%v", err)
	}
	return r, nil
}

func displayName(f string) string {
	switch f {
	case "":
		return sample.Name
	case "-":
		return "-"
	}
	return f
}

func linkName(r *pcapfile.Reader) string {
	if v := r.LinkTypeValue(); v > 0xffff {
		return fmt.Sprint(v)
	}
	return r.LinkType().String()
}

// filter compiles, verifies and loads the expression for the file's link
// type. It returns a nil filter for an empty expression (every packet
// passes), after checking, as tcpdump does, that the link type is one the
// compiler knows.
func (c *readCmd) filter(r *pcapfile.Reader) (capture.Filter, bool, error) {
	src := strings.Join(c.Expr, " ")
	if v := r.LinkTypeValue(); v > 0xffff {
		return nil, false, exitf(1, "unknown data link type %d", v)
	}
	snap := r.Snaplen()
	if snap == 0 || snap > 0x7fffffff {
		snap = pcapfile.MaximumSnaplen
	}
	// tcpdump reading a file compiles with a netmask of 0 (so "ip
	// broadcast" means 0.0.0.0 or 255.255.255.255) and libpcap's offline
	// address-family handling.
	prog, err := expr.Compile(src, expr.Options{LinkType: r.LinkType(), Snaplen: snap, Optimize: true, OfflineAF: true, HasNetmask: true,
		// libpcap walks any number of headers; the deepest unrolled walk that
		// fits the instruction limit comes closest (up to 128).
		ProtochainDepth: expr.ProtochainDeepest, Libpcap110: c.libpcap110(), SavefileBigEndian: r.Swapped()})
	if err != nil {
		if caret := expr.Caret(src, err); caret != "" && src != "" {
			return nil, false, exitf(1, "%v\n%s", err, caret)
		}
		return nil, false, exitf(1, "%v", err)
	}
	if strings.TrimSpace(src) == "" {
		return nil, false, nil
	}
	vp, err := verifier.Verify(prog, verifier.Options{Record: true})
	if err != nil {
		return nil, false, exitf(1, "filter %q: %v", src, err)
	}
	meta := vp.Extensions() != 0
	if !c.Interpreter {
		if f, err := jit.Compile(vp, jit.Options{}); err == nil {
			return f, meta, nil
		}
	}
	return capture.VMFilter{Program: vp}, meta, nil
}

// sink builds the output: a capture file (rotated or not) with -w, JSON
// lines with --json, text lines otherwise. Written files keep the input's
// link type and snapshot length (or -s).
func (c *readCmd) sink(s *streams, r *pcapfile.Reader) (capture.Sink, error) {
	snap := r.Snaplen()
	if c.Snaplen != 0 {
		snap = c.Snaplen
	}
	return output{Write: c.Write, JSON: c.JSON, FileSize: c.FileSize, Rotate: c.RotateSeconds, FileCount: c.FileCount,
		Nano: c.Nano, PcapNG: c.PcapNG, LinkField: r.LinkTypeValue() | r.LinkTypeExt(), Snaplen: snap}.sink(s)
}

// analyzers asks the hook for the analyzer handlers; ctx stops their
// loading and, later, their guest code.
func (c *readCmd) analyzers(ctx context.Context, s *streams) ([]capture.Handler, func() error, error) {
	if analyzerHook == nil {
		return nil, nil, nil
	}
	return analyzerHook(ctx, &c.analyzerFlags, s)
}

// nopCloser keeps a sink from closing standard output.
type nopCloser struct{ io.Writer }

// printSummary prints tcpdump's closing lines and wring's counters.
func printSummary(w io.Writer, qs []capture.Snapshot) {
	t := capture.Sum(qs)
	fmt.Fprintf(w, "%d packet%s captured\n", t.Delivered, plural(t.Delivered))
	fmt.Fprintf(w, "%d packet%s received by filter\n", t.Received, plural(t.Received))
	fmt.Fprintf(w, "%d packet%s dropped by kernel\n", t.Dropped[capture.DropKernel], plural(t.Dropped[capture.DropKernel]))
	for _, q := range qs {
		fmt.Fprintf(w, "wring: %v\n", q)
	}
}

func plural(n uint64) string {
	if n == 1 {
		return ""
	}
	return "s"
}
