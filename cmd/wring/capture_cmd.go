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
	"github.com/wringcap/wring/filters/expr"
	"github.com/wringcap/wring/jit"
	"github.com/wringcap/wring/spec"
	"github.com/wringcap/wring/verifier"
)

// captureCmd captures live packets. Flag names are tcpdump's where tcpdump
// has them.
type captureCmd struct {
	analyzerFlags `embed:""`
	libpcapFlag   `embed:""`

	Interface   string   `short:"i" name:"interface" required:"" placeholder:"IF[@Q]" help:"Interface to capture on: IF for every receive queue, IF@Q for queue Q only."`
	Mode        string   `name:"mode" enum:"auto,xdp,packet" default:"auto" help:"Capture path: auto tries AF_XDP (zero-copy, copy, generic XDP) then AF_PACKET; xdp or packet forces one (${enum})."`
	Write       string   `short:"w" name:"write" placeholder:"OUT" help:"Write the packets to OUT (- for standard output) instead of printing a summary line per packet."`
	Count       uint64   `short:"c" name:"count" placeholder:"N" help:"Stop after N packets."`
	NoResolve   bool     `short:"n" help:"Do not resolve addresses or ports (wring never does; accepted as tcpdump's -n)."`
	JSON        bool     `name:"json" help:"Print one JSON object per packet instead of a text line."`
	FileSize    uint64   `short:"C" name:"file-size" placeholder:"MB" help:"With -w, start a new file when the current one exceeds MB million bytes (tcpdump -C)."`
	Rotate      uint64   `short:"G" name:"rotate-seconds" placeholder:"SECS" help:"With -w, start a new file every SECS seconds; OUT is a strftime pattern (tcpdump -G)."`
	FileCount   int      `short:"W" name:"file-count" placeholder:"N" help:"With -C, cycle through N files; with -G, stop after N files (tcpdump -W)."`
	Snaplen     uint32   `short:"s" name:"snaplen" default:"262144" placeholder:"BYTES" help:"Keep at most BYTES of each packet."`
	Nano        bool     `name:"nano" help:"Write nanosecond timestamps with -w."`
	PcapNG      bool     `name:"pcapng" help:"Write pcapng instead of pcap with -w."`
	Batch       int      `name:"batch" default:"256" help:"Packets per batch handed to the analyzers and sinks (1 to 4096)."`
	CPUs        []int    `name:"cpu" placeholder:"N,..." help:"Pin the worker of queue i to the i-th CPU of this list (cycled)."`
	UMEMFrames  uint32   `name:"umem-frames" default:"32768" help:"AF_XDP: UMEM frames per queue (2 KiB each)."`
	Timeout     Duration `name:"duration" placeholder:"DUR" help:"Stop after this long (e.g. 10s); Ctrl-C stops too."`
	Interpreter bool     `name:"vm" help:"Run a userspace filter in the reference interpreter instead of the JIT."`
	Expr        []string `arg:"" optional:"" passthrough:"" name:"expression" help:"Filter expression (pcap syntax, as tcpdump takes it)."`
}

// Duration is a time.Duration flag.
type Duration = time.Duration

func (c *captureCmd) Run(s *streams) error {
	dev, err := live.ParseDevice(c.Interface)
	if err != nil {
		return exitf(2, "%v", err)
	}
	mode, err := live.ParseMode(c.Mode)
	if err != nil {
		return exitf(2, "%v", err)
	}
	src := strings.Join(c.Expr, " ")
	filters, err := c.compile(src)
	if err != nil {
		return err
	}
	capt, err := live.Open(dev, live.Options{
		Mode:    mode,
		Filters: filters,
		Snaplen: c.Snaplen,
		CPUs:    c.CPUs,
		Frames:  c.UMEMFrames,
		Log:     func(f string, a ...any) { fmt.Fprintf(s.Err, "wring: "+f+"\n", a...) },
	})
	if err != nil {
		return exitf(1, "%v", err)
	}
	defer capt.Close()
	reserveWorkerPs(len(capt.Sources()))

	var userFilter capture.Filter
	if filters.InBand != nil && !capt.FilterInKernel() {
		if userFilter, err = c.userFilter(filters.InBand); err != nil {
			return exitf(1, "%v", err)
		}
	}
	out, err := c.sink(s)
	if err != nil {
		return exitf(2, "%v", err)
	}
	ctx, stop := stopOnSignal(s.Err)
	defer stop()
	var handlers []capture.Handler
	var done func() error
	if analyzerHook != nil {
		if handlers, done, err = analyzerHook(ctx, &c.analyzerFlags, s); err != nil {
			closeErr := out.Close()
			if interrupted(ctx, s.Err, "loading analyzers") {
				printLiveSummary(s.Err, capt.Stats(), nil)
				if closeErr != nil {
					return exitf(1, "%v", closeErr)
				}
				return nil
			}
			return exitf(2, "%v", err)
		}
	}
	p, err := capture.New(capture.Config{
		Sources:  capt.Sources(),
		Filter:   userFilter,
		Snaplen:  c.Snaplen,
		Batch:    c.Batch,
		Count:    c.Count,
		Handlers: handlers,
		Sinks:    []capture.Sink{out},
	})
	if err != nil {
		out.Close()
		return exitf(2, "%v", err)
	}
	fmt.Fprintf(s.Err, "listening on %s, link-type EN10MB (Ethernet), snapshot length %d bytes\n", dev, c.Snaplen)
	fmt.Fprintf(s.Err, "wring: capture path: %s\n", capt.Path())

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
	printLiveSummary(s.Err, capt.Stats(), p.Counters())
	switch {
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
func (c *captureCmd) compile(src string) (live.Filters, error) {
	if strings.TrimSpace(src) == "" {
		return live.Filters{}, nil
	}
	var f live.Filters
	for _, linuxExt := range []bool{false, true} {
		prog, err := expr.Compile(src, expr.Options{LinkType: spec.LinkEthernet, Snaplen: c.Snaplen, Optimize: true, LinuxExt: linuxExt,
			Libpcap110: c.libpcap110()})
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
	return capture.VMFilter{Program: vp}, nil
}

// sink builds the output, as read does.
func (c *captureCmd) sink(s *streams) (capture.Sink, error) {
	return output{Write: c.Write, JSON: c.JSON, FileSize: c.FileSize, Rotate: c.Rotate, FileCount: c.FileCount,
		Nano: c.Nano, PcapNG: c.PcapNG, LinkField: uint32(spec.LinkEthernet), Snaplen: c.Snaplen}.sink(s)
}

// printLiveSummary prints tcpdump's closing lines, then both halves of
// wring's books per queue: the kernel's (seen = filtered out in the kernel +
// dropped + received) and the pipeline's (received = filtered out in
// userspace + dropped + delivered).
func printLiveSummary(w io.Writer, ks []live.QueueStats, ps []capture.Snapshot) {
	t := capture.Sum(ps)
	var seen, kdrop uint64
	for _, k := range ks {
		seen += k.Seen
		kdrop += k.Dropped
	}
	fmt.Fprintf(w, "%d packet%s captured\n", t.Delivered, plural(t.Delivered))
	fmt.Fprintf(w, "%d packet%s received by filter\n", seen, plural(seen))
	fmt.Fprintf(w, "%d packet%s dropped by kernel\n", kdrop, plural(kdrop))
	for i, k := range ks {
		fmt.Fprintf(w, "wring: queue %d: kernel saw %d, filtered out %d, dropped %d (%s), received %d", k.Queue, k.Seen, k.FilteredOut, k.Dropped, k.DropDetail, k.Received)
		if i < len(ps) {
			q := ps[i]
			fmt.Fprintf(w, "; userspace filtered out %d, delivered %d, dropped %d", q.FilteredOut, q.Delivered, q.Dropped[capture.DropHandler]+q.Dropped[capture.DropSink])
		}
		fmt.Fprintln(w)
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
