package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/wringcap/wring/capture"
	"github.com/wringcap/wring/capture/live"
	"github.com/wringcap/wring/capture/pcapfile"
	"github.com/wringcap/wring/export/metrics"
	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/jit"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
	"github.com/wringcap/wring/vm"
)

// captureCmd captures live packets. Flag names are tcpdump's where tcpdump
// has them.
type captureCmd struct {
	analyzerFlags `embed:""`
	libpcapFlag   `embed:""`
	printFlags    `embed:""`
	outputFlags   `embed:""`
	metricsFlags  `embed:""`
	rulesFlags    `embed:""`

	Interface  string   `short:"i" name:"interface" placeholder:"IF[@Q]" help:"Interface to capture on: IF for every receive queue, IF@Q for queue Q only, any for every interface."`
	Mode       string   `name:"mode" enum:"auto,passive,xdp,packet" default:"auto" help:"Capture path (${enum}): auto is passive, else AF_PACKET, and never takes packets from the host; passive copies matching packets from tc ingress and egress into BPF ring buffers; xdp is AF_XDP for interfaces dedicated to capture: packets it captures are NOT delivered to this host; packet is AF_PACKET."`
	Snaplen    uint32   `short:"s" name:"snaplen" aliases:"snapshot-length" default:"262144" placeholder:"BYTES" help:"Keep at most BYTES of each packet."`
	Batch      int      `name:"batch" default:"256" help:"Packets per batch handed to the analyzers and sinks (1 to 4096)."`
	CPUs       []int    `name:"cpu" placeholder:"N,..." help:"Pin the worker of queue i to the i-th CPU of this list (cycled)."`
	UMEMFrames uint32   `name:"umem-frames" default:"32768" help:"AF_XDP: UMEM frames per queue (2 KiB each); -B replaces it."`
	Timeout    Duration `name:"duration" placeholder:"DUR" help:"Stop after this long (e.g. 10s); Ctrl-C stops too."`
	Expr       []string `arg:"" optional:"" name:"expression" help:"Filter expression (pcap syntax, as tcpdump takes it). Flags may come before or after it; after --, everything is expression."`

	deviceFlags `embed:""`
}

// deviceFlags are the capture command's device flags, tcpdump's: -D, -Q,
// -p and -B.
type deviceFlags struct {
	List      bool   `short:"D" name:"list-interfaces" help:"List the interfaces with their receive queues, link type and the capture modes each supports, then exit."`
	Direction string `short:"Q" name:"direction" enum:"in,out,inout" default:"inout" help:"Capture the frames received (in), sent (out) or both (${enum})."`
	NoPromisc bool   `short:"p" name:"no-promiscuous-mode" help:"Do not put the interface into promiscuous mode."`
	BufferKiB uint64 `short:"B" name:"buffer-size" placeholder:"KiB" help:"Kernel buffer for frames waiting to be read, in KiB, as tcpdump -B, for the whole capture: the passive rings (shared by the CPUs; default 64 MiB), AF_PACKET's rings (shared by its sockets; default 64 MiB per socket), AF_XDP's UMEMs (shared by the queues in 2 KiB frames; replaces --umem-frames)."`
}

// linkDescription is the text tcpdump prints in brackets after a live
// capture's link type.
func linkDescription(lt spec.LinkType) string {
	switch lt {
	case spec.LinkEthernet:
		return "Ethernet"
	case spec.LinkRaw:
		return "Raw IP"
	case spec.LinkLinuxSLL2:
		return "Linux cooked v2"
	}
	return lt.String()
}

// listInterfaces prints tcpdump -D's list, numbered, with wring's details.
func listInterfaces(s *streams) error {
	ifs, err := live.Interfaces()
	if err != nil {
		return exitf(1, "%v", err)
	}
	for i, it := range ifs {
		fmt.Fprintf(s.Out, "%d.%s\n", i+1, it)
	}
	return nil
}

// Duration is a time.Duration flag.
type Duration = time.Duration

func (c *captureCmd) Run(s *streams) error {
	if c.List {
		return listInterfaces(s)
	}
	if c.Interface == "" {
		return exitf(2, "capture: -i IF is required (wring capture -D lists the interfaces)")
	}
	dev, err := live.ParseDevice(c.Interface)
	if err != nil {
		return exitf(2, "%v", err)
	}
	mode, err := live.ParseMode(c.Mode)
	if err != nil {
		return exitf(2, "%v", err)
	}
	if err := checkOutputFlags(c.Batch, &c.outputFlags, &c.printFlags, &c.analyzerFlags, s); err != nil {
		return err
	}
	dir, err := live.ParseDirection(c.Direction)
	if err != nil {
		return exitf(2, "%v", err)
	}
	lt, err := live.LinkTypeOf(dev)
	if err != nil {
		return exitf(1, "%v", err)
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
	filters, err := c.compile(src, lt, interfaceNetmask(dev.Name))
	if err != nil {
		return err
	}
	// Rules come before the expression (spec/RULES.md): in the kernel on
	// the passive path when they fit; otherwise the kernel hands every
	// packet up and both run in userspace, so rule counters, sampling and
	// bypass see what they would in the kernel.
	kernelFilters := filters
	if c.rulesFlags.active() && !c.rulesFlags.kernelRules(mode, s.Err) {
		kernelFilters = live.Filters{}
	}
	opts := live.Options{
		Mode:          mode,
		Filters:       kernelFilters,
		Snaplen:       c.Snaplen,
		CPUs:          c.CPUs,
		Frames:        c.UMEMFrames,
		Log:           func(f string, a ...any) { fmt.Fprintf(s.Err, "wring: "+f+"\n", a...) },
		Direction:     dir,
		NoPromiscuous: c.NoPromisc,
		BufferSize:    c.BufferKiB << 10,
		Rules:         c.rulesFlags.kernel,
	}
	capt, err := live.Open(dev, opts)
	if err == nil && c.rulesFlags.kernel != nil && !capt.RulesInKernel() {
		capt.Close()
		c.rulesFlags.userspaceRules(s.Err)
		opts.Filters, opts.Rules = live.Filters{}, nil
		capt, err = live.Open(dev, opts)
	}
	if err == nil && c.rulesFlags.kernelNote != "" {
		fmt.Fprint(s.Err, c.rulesFlags.kernelNote)
	}
	if ft, ok := c.analyzerFlags.flowTable.(*flowTable); ok && err == nil {
		// Flows the analyzers add go to the kernel's tables too.
		ft.kernel = c.rulesFlags.kernel
	}
	if err != nil {
		return exitf(1, "%v", err)
	}
	defer capt.Close()
	reserveWorkerPs(len(capt.Sources()))

	var userFilter capture.Filter
	meta := false
	if filters.InBand != nil && (!capt.FilterInKernel() || c.rulesFlags.userspace()) {
		if userFilter, err = c.userFilter(filters.InBand); err != nil {
			return exitf(1, "%v", err)
		}
		meta = filters.InBand.Extensions() != 0
	}
	userFilter, meta = c.rulesFlags.wrap(userFilter, meta)
	sigCtx, stopSignals := stopOnSignal(s.Err)
	defer stopSignals()
	ctx, cancel := context.WithCancel(sigCtx)
	defer cancel()
	if err := c.metricsFlags.start(s, &c.analyzerFlags); err != nil {
		return err
	}
	defer c.metricsFlags.stop(sigCtx)
	out, err := c.sink(s, capt.LinkType(), cancel)
	if err != nil {
		return exitf(2, "%v", err)
	}
	handlers, done, err := c.analyzerFlags.handlers(ctx, s, cancel)
	if err != nil {
		closeErr := out.Close()
		if interrupted(ctx, s.Err, "loading analyzers") {
			printLiveSummary(s.Err, capt.Stats(), nil, ifDropsOf(capt))
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
	p, err := capture.New(capture.Config{
		Sources:    capt.Sources(),
		Filter:     userFilter,
		FilterMeta: meta,
		Snaplen:    c.Snaplen,
		Batch:      c.Batch,
		Count:      c.Count,
		Handlers:   append(c.rulesFlags.handler(), handlers...),
		Sinks:      []capture.Sink{out},
	})
	if err != nil {
		out.Close()
		return exitf(2, "%v", err)
	}
	fmt.Fprintf(s.Err, "listening on %s, link-type %s (%s), snapshot length %d bytes\n", dev, capt.LinkType(), linkDescription(capt.LinkType()), c.Snaplen)
	fmt.Fprintf(s.Err, "wring: capture path: %s\n", capt.Path())
	if capt.TakesPackets() {
		fmt.Fprintf(s.Err, "wring: dedicated mode: packets captured on %s are not delivered to this host\n", dev.Name)
	}

	c.metricsFlags.setQueues(func() []metrics.Queue { return queueMetrics(p.Counters(), capt.Stats()) })
	stopInfo := onInfoSignal(s.Err, func(w io.Writer) { printLiveSummary(w, capt.Stats(), p.Counters(), ifDropsOf(capt)) })
	defer stopInfo()
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	runErr := p.Run(ctx)
	closeErr := out.Close()
	var doneErr error
	if done != nil {
		doneErr = done()
	}
	writeErr := out.dest.failure()
	if writeErr == nil {
		writeErr = eventsFailure(doneErr)
	}
	if c.JSON && writeErr == nil {
		var ifdrop *uint64
		if n, ok := capt.InterfaceDropped(); ok {
			ifdrop = &n
		}
		if err := writeStatsRules(s.Out, p.Counters(), &c.analyzerFlags, c.rulesFlags.json(), ifdrop); err != nil {
			writeErr = fmt.Errorf("standard output: %w", err)
		}
	}
	if c.CountOnly && writeErr == nil {
		t := capture.Sum(p.Counters())
		fmt.Fprintf(s.Out, "%d packet%s\n", t.Delivered, plural(t.Delivered))
	} else {
		printLiveSummary(s.Err, capt.Stats(), p.Counters(), ifDropsOf(capt))
	}
	c.rulesFlags.summary(s.Err)
	switch {
	case writeErr != nil:
		return exitf(1, "%v", writeErr)
	case runErr != nil && !errors.Is(runErr, pcapfile.ErrFileLimit):
		return exitf(1, "%v", runErr)
	case closeErr != nil:
		return exitf(1, "%v", closeErr)
	case doneErr != nil:
		return exitf(1, "%v", doneErr)
	}
	return nil
}

// compile builds the expression's two programs: one that reads VLAN tags in
// the frame (XDP and userspace) and one for the AF_PACKET socket filter,
// where the kernel has moved them to metadata (libpcap's Linux live-capture
// code with ancillary loads).
func (c *captureCmd) compile(src string, lt spec.LinkType, netmask uint32) (live.Filters, error) {
	if strings.TrimSpace(src) == "" {
		return live.Filters{}, nil
	}
	var f live.Filters
	for _, linuxExt := range []bool{false, true} {
		prog, err := expr.Compile(src, expr.Options{LinkType: lt, Snaplen: c.Snaplen, Optimize: true, LinuxExt: linuxExt,
			Libpcap110: c.libpcap110(), Netmask: netmask, HasNetmask: true})
		if err != nil {
			if caret := expr.Caret(src, err); caret != "" {
				return f, exitf(1, "%v\n%s", err, caret)
			}
			return f, exitf(1, "%v", err)
		}
		vp, err := verifier.Verify(prog, verifier.Options{})
		if err != nil {
			return f, exitf(1, "filter %q: %v", src, err)
		}
		if linuxExt {
			f.Kernel = vp
		} else {
			f.InBand = vp
		}
	}
	return f, nil
}

// userFilter loads the in-band program for userspace, for paths where the
// kernel cannot run it.
func (c *captureCmd) userFilter(vp *verifier.Program) (capture.Filter, error) {
	if !c.Interpreter {
		if f, err := jit.Compile(vp, jit.Options{}); err == nil {
			return f, nil
		}
	}
	return vm.Filter{Program: vp}, nil
}

// sink builds the output, as read does.
func (c *captureCmd) sink(s *streams, lt spec.LinkType, stop func()) (*outputSink, error) {
	text, err := c.textOptions(c.Nano)
	if err != nil {
		return nil, err
	}
	return output{Write: c.Write, JSON: c.JSON, CountOnly: c.CountOnly, FileSize: c.FileSize, Rotate: c.RotateSeconds, FileCount: c.FileCount,
		PostRotate: c.PostRotate, Nano: c.Nano, PcapNG: c.PcapNG, LinkField: uint32(lt), Snaplen: c.Snaplen,
		Text: text, Number: c.Number, Flush: c.LineBuf || c.PacketBuf, Stop: stop, Err: s.Err}.sink(s)
}

// ifDrops is what the device dropped on receive since the capture opened
// (live.Capture.InterfaceDropped).
type ifDrops struct {
	n      uint64
	tapped bool // read through packet sockets: the count means what tcpdump's does
}

func ifDropsOf(c *live.Capture) ifDrops {
	n, _ := c.InterfaceDropped()
	return ifDrops{n: n, tapped: c.PacketSocket()}
}

// printLiveSummary prints tcpdump's closing lines (with its "dropped by
// interface" line when an AF_PACKET capture's device dropped frames), then
// both halves of wring's books per queue: the kernel's (seen = filtered out
// in the kernel + dropped + received) and the pipeline's (received =
// filtered out in userspace + dropped + delivered). On the other paths the
// device's receive drops get a line of wring's own: there they also count
// frames the host stack dropped after the capture programs had seen them.
func printLiveSummary(w io.Writer, ks []live.QueueStats, ps []capture.Snapshot, ifdrop ifDrops) {
	t := capture.Sum(ps)
	var seen, kdrop uint64
	for _, k := range ks {
		seen += k.Seen
		kdrop += k.Dropped
	}
	fmt.Fprintf(w, "%d packet%s captured\n", t.Delivered, plural(t.Delivered))
	fmt.Fprintf(w, "%d packet%s received by filter\n", seen, plural(seen))
	fmt.Fprintf(w, "%d packet%s dropped by kernel\n", kdrop, plural(kdrop))
	if ifdrop.n != 0 && ifdrop.tapped {
		fmt.Fprintf(w, "%d packet%s dropped by interface\n", ifdrop.n, plural(ifdrop.n))
	}
	for i, k := range ks {
		fmt.Fprintf(w, "wring: queue %d: kernel saw %d, filtered out %d, dropped %d (%s), received %d", k.Queue, k.Seen, k.FilteredOut, k.Dropped, k.DropDetail, k.Received)
		if i < len(ps) {
			q := ps[i]
			fmt.Fprintf(w, "; userspace filtered out %d, delivered %d, dropped %d", q.FilteredOut, q.Delivered, q.Dropped[capture.DropHandler]+q.Dropped[capture.DropSink])
		}
		fmt.Fprintln(w)
	}
	if ifdrop.n != 0 && !ifdrop.tapped {
		fmt.Fprintf(w, "wring: the device dropped %d frame%s on receive since the capture opened (rx_dropped + rx_missed_errors): "+
			"before the capture programs (a full ring), or by the host stack after them\n", ifdrop.n, plural(ifdrop.n))
	}
}

// reserveWorkerPs raises GOMAXPROCS to the number of queue workers plus two,
// unless the user set GOMAXPROCS. Each worker is locked to its thread and
// sleeps in poll; woken with frames waiting, it needs a P, and with
// GOMAXPROCS at the CPU count it can wait for one until the scheduler
// preempts another goroutine. On the 2-vCPU benchmark VMs that wait emptied
// an AF_XDP fill ring in 4 of 30 paced runs; with a P per worker, 0 of 90
// (RATIONALE.md, "Why does wring capture raise GOMAXPROCS?"). The CPUs are
// still the kernel's to share: a P only lets a woken worker run at once.
func reserveWorkerPs(workers int) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	if want := workers + 2; runtime.GOMAXPROCS(0) < want {
		runtime.GOMAXPROCS(want)
	}
}
