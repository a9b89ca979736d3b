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
	"github.com/wringcap/wring/vm"
)

// readCmd reads packets from a capture file (or the bundled sample),
// filters them, runs the analyzers and writes or prints them. Flag names
// are tcpdump's where tcpdump has them.
type readCmd struct {
	analyzerFlags `embed:""`
	libpcapFlag   `embed:""`
	printFlags    `embed:""`
	outputFlags   `embed:""`
	rulesFlags    `embed:""`
	metricsFlags  `embed:""`

	File     string   `short:"r" name:"read" placeholder:"FILE" help:"Read packets from FILE (pcap or pcapng, - for standard input); without it, the bundled sample capture."`
	Snaplen  uint32   `short:"s" name:"snaplen" aliases:"snapshot-length" placeholder:"BYTES" help:"Keep at most BYTES of each packet (written files say so in their header). tcpdump ignores -s when reading a file; wring truncates."`
	LinkType string   `short:"y" name:"linktype" placeholder:"TYPE" help:"Link-layer type: checked, then ignored with a warning when the file says otherwise (tcpdump -r ignores -y too)."`
	Batch    int      `name:"batch" default:"128" help:"Packets per batch handed to the filter, analyzers and sinks (1 to 4096)."`
	Expr     []string `arg:"" optional:"" name:"expression" help:"Filter expression (pcap syntax, as tcpdump takes it). Flags may come before or after it; after --, everything is expression."`
}

// Run reads, filters, analyzes and writes the packets, then prints the
// summary.
func (c *readCmd) Run(s *streams) error {
	if err := c.check(s); err != nil {
		return err
	}
	if c.Rules == "-" && c.File == "-" {
		return exitf(2, "--rules - and -r -: only one of them can read standard input")
	}
	if err := c.rulesFlags.load(s); err != nil {
		return err
	}
	if err := c.rulesFlags.forAnalyzers(&c.analyzerFlags); err != nil {
		return err
	}
	src, err := expression(c.Expr, c.FilterFile, s.Err)
	if err != nil {
		return err
	}
	r, err := c.open(s)
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Fprintf(s.Err, "reading from file %s, link-type %s, snapshot length %d\n", displayName(c.File), linkName(r), r.Snaplen())
	if err := c.checkLinkType(r, s.Err); err != nil {
		return err
	}

	filter, meta, err := c.filter(r, src)
	if err != nil {
		return err
	}
	filter, meta = c.rulesFlags.wrap(filter, meta)
	sigCtx, stopSignals := stopOnSignal(s.Err)
	defer stopSignals()
	ctx, cancel := context.WithCancel(sigCtx)
	defer cancel()
	if err := c.metricsFlags.start(s, &c.analyzerFlags); err != nil {
		return err
	}
	defer c.metricsFlags.stop(sigCtx)
	out, err := c.sink(s, r, cancel)
	if err != nil {
		return exitf(2, "%v", err)
	}
	c.exportWait = exportWait
	handlers, done, err := c.analyzerFlags.handlers(ctx, s, cancel)
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
	if err := dropPrivileges(c.User); err != nil {
		out.Close()
		return exitf(2, "%v", err)
	}
	handlers = append(c.rulesFlags.handler(), handlers...)
	src2 := capture.NewFileSource(r)
	cfg := capture.Config{
		Sources:    []capture.Source{src2},
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
	c.metricsFlags.setQueues(pipelineQueues(p))
	stopInfo := onInfoSignal(s.Err, func(w io.Writer) { printSummary(w, p.Counters()) })
	defer stopInfo()
	stopProgress := func() {}
	if showProgress(s) {
		stopProgress = startProgress(s.Err, r, p)
	}
	runErr := p.Run(ctx)
	stopProgress()
	closeErr := out.Close()
	var doneErr error
	if done != nil {
		doneErr = done()
	}
	interrupted(ctx, s.Err, "reading packets")
	return c.finish(s, p.Counters(), runErr, closeErr, doneErr, out.dest)
}

// finish prints the summary (the count with --count, JSON stats with
// --json) and turns the run's errors into one message and the exit status:
// a write error (of -w, standard output or --events) is reported once, with
// what was written before it, and wins over the errors it caused.
func (c *readCmd) finish(s *streams, qs []capture.Snapshot, runErr, closeErr, doneErr error, d *dest) error {
	writeErr := d.failure()
	if writeErr == nil {
		writeErr = eventsFailure(doneErr)
	}
	switch {
	case c.CountOnly && writeErr != nil:
		printSummary(s.Err, qs)
	case c.CountOnly:
		if writeErr == nil {
			t := capture.Sum(qs)
			if _, err := fmt.Fprintf(s.Out, "%d packet%s\n", t.Delivered, plural(t.Delivered)); err != nil {
				writeErr = fmt.Errorf("standard output: %w", err)
			}
		}
	case c.JSON && writeErr == nil:
		if err := writeStatsRules(s.Out, qs, &c.analyzerFlags, c.rulesFlags.json(), nil); err != nil {
			writeErr = fmt.Errorf("standard output: %w", err)
		}
		printSummary(s.Err, qs)
	default:
		printSummary(s.Err, qs)
	}
	c.rulesFlags.summary(s.Err)
	switch {
	case writeErr != nil:
		return exitf(1, "%v", writeErr)
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

// check refuses flag combinations that would be silently ignored.
func (c *readCmd) check(s *streams) error {
	return checkOutputFlags(c.Batch, &c.outputFlags, &c.printFlags, &c.analyzerFlags, s)
}

// checkLinkType checks -y's name and warns when it is not the file's (tcpdump
// reading a file ignores -y).
func (c *readCmd) checkLinkType(r *pcapfile.Reader, errw io.Writer) error {
	if c.LinkType == "" {
		return nil
	}
	lt, err := expr.ParseLinkType(c.LinkType)
	if err != nil {
		return exitf(2, "-y %s: %v", c.LinkType, err)
	}
	if uint32(lt) != r.LinkTypeValue() {
		fmt.Fprintf(errw, "wring: warning: -y %s ignored: %s's link type is %s\n", c.LinkType, displayName(c.File), linkName(r))
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
func (c *readCmd) filter(r *pcapfile.Reader, src string) (capture.Filter, bool, error) {
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
	return vm.Filter{Program: vp}, meta, nil
}

// sink builds the output: a capture file (rotated or not) with -w, JSON
// lines with --json, text lines otherwise. Written files keep the input's
// link type and snapshot length (or -s).
func (c *readCmd) sink(s *streams, r *pcapfile.Reader, stop func()) (*outputSink, error) {
	snap := r.Snaplen()
	if c.Snaplen != 0 {
		snap = c.Snaplen
	}
	text, err := c.textOptions(c.Nano)
	if err != nil {
		return nil, err
	}
	return output{Write: c.Write, JSON: c.JSON, CountOnly: c.CountOnly, FileSize: c.FileSize, Rotate: c.RotateSeconds, FileCount: c.FileCount,
		PostRotate: c.PostRotate, Nano: c.Nano, PcapNG: c.PcapNG, NgSource: r, LinkField: r.LinkTypeValue() | r.LinkTypeExt(), Snaplen: snap,
		Text: text, Number: c.Number, Flush: c.LineBuf || c.PacketBuf, Stop: stop, Err: s.Err}.sink(s)
}

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
