//go:build linux

// Command live measures live capture on a veth pair between two network
// namespaces, whole process against whole process: `wring capture`
// (passive, AF_XDP and AF_PACKET) and tcpdump, every one given the same
// kernel buffer (-B), fed by the XDP live-frame generator (internal/xdpgen)
// at paced rates and at its maximum. For each capturer and each of several
// series it measures the highest loss-free rate, the loss at the maximum
// rate with a filter that matches every frame and with one that matches 1%,
// the CPU time the capturing process used, and how many frames of a burst
// its buffer holds while the process is stopped; it reports the median of
// the series beside every series. It needs root. It prints a markdown
// fragment for BENCHMARKS.md between <!-- bench --> markers.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/wringcap/wring/internal/bench/benchio"
	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/internal/xdpgen"
)

var (
	frames = flag.Int("frames", 2_000_000, "frames per run")
	quick  = flag.Bool("quick", false, "fewer rates, for a smoke run")
	only   = flag.String("only", "", "run only the capturer whose name contains this")
	verb   = flag.Bool("v", false, "print each capturer's own summary")
	rateFl = flag.String("rates", "", "paced rates to try, Mpps, comma-separated (default 0.25,0.5,1,1.5,2,3)")
	extra  = flag.String("wring-args", "", "extra flags for wring capture, space-separated (experiments)")
	fifo   = flag.Int("fifo", 0, "run every capturer under SCHED_FIFO at this priority (chrt -f), 0 for the default policy")
	niceFl = flag.Int("nice", 0, "run every capturer at this nice value (nice -n), 0 for the default")
	bufKiB = flag.Int("buffer", 65536, "kernel buffer of every capturer in KiB (-B)")
	series = flag.Int("series", 3, "series of runs per capturer; figures are their medians")
	burst  = flag.Int("burst", 1_500_000, "frames of the burst sent while the capturer is stopped (0: no burst test)")
)

type capturer struct {
	name string
	args func(ifname, expr string) []string // command run inside namespace A
	xdp  bool                               // attaches its own XDP program
}

type result struct {
	offered  float64 // Mpps the generator achieved
	built    uint64  // frames the generator built
	sent     uint64  // of those, frames meant to match
	captured uint64
	dropped  uint64
	cpu      time.Duration
	err      error
}

func (r result) loss() float64 {
	if r.err != nil {
		return -1
	}
	want := r.sent
	if want == 0 {
		return 0
	}
	return 100 * float64(r.dropped) / float64(want)
}

func main() {
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "live: needs root")
		os.Exit(1)
	}
	if err := xdpgen.Supported(); err != nil {
		fmt.Fprintf(os.Stderr, "live: %v: the generator cannot send here\n", err)
		os.Exit(1)
	}
	tmp, err := os.MkdirTemp("", "wring-live-")
	check(err)
	defer os.RemoveAll(tmp)
	wring := filepath.Join(tmp, "wring")
	build := exec.Command("go", "build", "-o", wring, "./cmd/wring")
	build.Stderr = os.Stderr
	check(build.Run())

	B := strconv.Itoa(*bufKiB)
	caps := []capturer{
		{name: "wring passive", args: func(i, e string) []string {
			return append(append([]string{wring, "capture", "-i", i, "--mode", "passive", "-B", B, "-w", "/dev/null"}, strings.Fields(*extra)...), e)
		}},
		{name: "wring AF_XDP", xdp: true, args: func(i, e string) []string {
			return append(append([]string{wring, "capture", "-i", i, "--mode", "xdp", "-B", B, "-w", "/dev/null"}, strings.Fields(*extra)...), e)
		}},
		{name: "wring AF_PACKET", args: func(i, e string) []string {
			return append(append([]string{wring, "capture", "-i", i, "--mode", "packet", "-B", B, "-w", "/dev/null"}, strings.Fields(*extra)...), e)
		}},
		{name: "tcpdump", args: func(i, e string) []string {
			return []string{"tcpdump", "-i", i, "-n", "-B", B, "-w", "/dev/null", e}
		}},
	}
	rates := []float64{0.25, 0.5, 1, 1.5, 2, 3}
	if *quick {
		rates = []float64{0.5, 1.5}
	}
	if *rateFl != "" {
		rates = nil
		for _, f := range strings.Split(*rateFl, ",") {
			r, err := strconv.ParseFloat(f, 64)
			check(err)
			rates = append(rates, r)
		}
	}

	pair, err := netns.Create(2)
	check(err)
	defer pair.Close()
	gidx, err := netns.Ifindex(pair.NSB, pair.IfB)
	check(err)

	type row struct {
		c        capturer
		lossFree []float64  // per series
		all, one []result   // per series: unpaced, all match and 1% match
		held     []result   // per series: the burst
		runs     [][]result // per series: every all-match run, paced and unpaced
	}
	var rows []*row
	for _, c := range caps {
		if *only != "" && !strings.Contains(c.name, *only) {
			continue
		}
		rows = append(rows, &row{c: c})
	}
	// Series are interleaved (every capturer once, then again) so that a
	// change in the machine's load falls on all of them alike.
	for k := 0; k < *series; k++ {
		for _, r := range rows {
			c := r.c
			var runs []result
			for _, rate := range rates {
				res := measure(pair, gidx, c, "udp", 1, rate, *frames, false)
				fmt.Fprintf(os.Stderr, "live: series %d: %s at %.2f Mpps: offered %.2f, sent %d, captured %d, dropped %d, cpu %v, err %v\n",
					k+1, c.name, rate, res.offered, res.sent, res.captured, res.dropped, res.cpu, res.err)
				runs = append(runs, res)
			}
			all := measure(pair, gidx, c, "udp", 1, 0, *frames, false)
			runs = append(runs, all)
			one := measure(pair, gidx, c, "udp dst port 80", 100, 0, *frames, false)
			r.runs = append(r.runs, runs)
			r.all, r.one = append(r.all, all), append(r.one, one)
			r.lossFree = append(r.lossFree, lossFreeRate(runs))
			fmt.Fprintf(os.Stderr, "live: series %d: %s: loss-free %.2f; max: all %+v, 1%% %+v\n", k+1, c.name, lossFreeRate(runs), all, one)
			if *burst > 0 {
				h := measure(pair, gidx, c, "udp", 1, 0, *burst, true)
				fmt.Fprintf(os.Stderr, "live: series %d: %s: burst of %d while stopped: captured %d, dropped %d, err %v\n", k+1, c.name, h.sent, h.captured, h.dropped, h.err)
				r.held = append(r.held, h)
			}
		}
	}

	var b strings.Builder
	b.WriteString("<!-- bench -->\n")
	if *fifo > 0 {
		fmt.Fprintf(&b, "Every capturer ran under SCHED_FIFO priority %d (`chrt -f %d`). ", *fifo, *fifo)
	}
	if *niceFl != 0 {
		fmt.Fprintf(&b, "Every capturer ran at nice %d (`nice -n %d`). ", *niceFl, *niceFl)
	}
	fmt.Fprintf(&b, "%d frames of 60 bytes per run on a 2-queue veth; the generator runs on both CPUs. "+
		"Every capturer is given the same kernel buffer, %d KiB (`-B %d`: tcpdump's ring; wring's passive rings, one per CPU; "+
		"wring AF_PACKET's rings, one per fanout socket; wring AF_XDP's UMEMs, one per queue, in 2 KiB frames). "+
		"%d series, interleaved; each figure is the median of the series, and every series is listed. "+
		"Runs with the all-match filter `udp`: paced (targets %v Mpps; the generator shares the two CPUs with the capturer, so the rate it achieves, offered, can fall short of the target) and unpaced. "+
		"Loss-free rate: in one series, the highest offered rate at or below which no run lost a frame. "+
		"CPU: user+system time of the capturing process over the whole unpaced run, per million frames the generator built. "+
		"Frames expected are the generator's own count (a per-CPU counter in its XDP program) of the frames it built, "+
		"or with the 1%%-match filter of those it made to match; loss is expected minus captured. "+
		"Burst: the capturer is stopped (SIGSTOP) while the generator sends %d frames as fast as it can, then resumed: "+
		"the frames captured are those its buffer held.\n\n", *frames, *bufKiB, *bufKiB, *series, rates, *burst)
	b.WriteString("| capturer | loss-free rate, Mpps (series) | max rate, `udp` (all match): offered Mpps / loss / CPU s per M frames | max rate, `udp dst port 80` (1% match): offered Mpps / loss / CPU s per M frames | burst held, frames (series) |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | **%.2f** (%s) | %s | %s | %s |\n", r.c.name, benchio.Median(r.lossFree), floats(r.lossFree),
			medianCell(r.all), medianCell(r.one), heldCell(r.held))
	}
	var tcp *row
	for _, r := range rows {
		if r.c.name == "tcpdump" {
			tcp = r
		}
	}
	if tcp != nil && benchio.Median(tcp.lossFree) > 0 {
		b.WriteString("\nLoss-free rate against tcpdump (medians):")
		for _, r := range rows {
			if r != tcp {
				fmt.Fprintf(&b, " %s %.1fx;", r.c.name, benchio.Median(r.lossFree)/benchio.Median(tcp.lossFree))
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\nEvery all-match run, by series, as offered Mpps:frames lost:\n\n")
	for _, r := range rows {
		for k, runs := range r.runs {
			fmt.Fprintf(&b, "- %s, series %d: %s\n", r.c.name, k+1, runList(runs))
		}
	}
	b.WriteString("<!-- /bench -->\n")
	fmt.Print(b.String())
}

func floats(v []float64) string {
	var parts []string
	for _, f := range v {
		parts = append(parts, fmt.Sprintf("%.2f", f))
	}
	return strings.Join(parts, ", ")
}

// medianCell gives the medians of offered rate, loss and CPU per million
// frames over the series, then every series.
func medianCell(rs []result) string {
	var off, loss, cpu []float64
	var each []string
	for _, r := range rs {
		if r.err != nil {
			each = append(each, "error: "+r.err.Error())
			continue
		}
		c := cpuPerM(r)
		off, loss, cpu = append(off, r.offered), append(loss, r.loss()), append(cpu, c)
		each = append(each, fmt.Sprintf("%.2f/%.3f%%/%.3f", r.offered, r.loss(), c))
	}
	return fmt.Sprintf("**%.2f / %.3f%% / %.3f** (%s)", benchio.Median(off), benchio.Median(loss), benchio.Median(cpu), strings.Join(each, "; "))
}

func cpuPerM(r result) float64 {
	if r.built == 0 {
		return 0
	}
	return r.cpu.Seconds() / (float64(r.built) / 1e6)
}

func heldCell(rs []result) string {
	if len(rs) == 0 {
		return "not run"
	}
	var h []float64
	var each []string
	for _, r := range rs {
		if r.err != nil {
			each = append(each, "error: "+r.err.Error())
			continue
		}
		h = append(h, float64(r.captured))
		each = append(each, fmt.Sprintf("%d of %d", r.captured, r.sent))
	}
	return fmt.Sprintf("**%.0f** (%s)", benchio.Median(h), strings.Join(each, "; "))
}

// lossFreeRate is the highest offered rate at or below which no run lost a
// frame (or failed): runs sorted by offered rate, up to the first with loss.
func lossFreeRate(runs []result) float64 {
	s := append([]result(nil), runs...)
	sort.Slice(s, func(i, j int) bool { return s[i].offered < s[j].offered })
	best := 0.0
	for _, r := range s {
		if r.err != nil || r.dropped != 0 || r.captured != r.sent {
			break
		}
		best = r.offered
	}
	return best
}

// runList lists runs by offered rate as "offered:lost".
func runList(runs []result) string {
	s := append([]result(nil), runs...)
	sort.Slice(s, func(i, j int) bool { return s[i].offered < s[j].offered })
	var parts []string
	for _, r := range s {
		if r.err != nil {
			parts = append(parts, "error")
			continue
		}
		parts = append(parts, fmt.Sprintf("%.2f:%d", r.offered, r.dropped))
	}
	return strings.Join(parts, " ")
}

// measure runs one capturer against the generator: n frames at rate Mpps
// (0: as fast as it goes) with one frame in matchEvery matching `udp dst
// port 80`. With stopped, the capturer is stopped (SIGSTOP) while the
// generator sends and resumed afterwards: its buffer must hold the burst.
func measure(p *netns.Pair, gidx int, c capturer, expr string, matchEvery uint32, rate float64, n int, stopped bool) result {
	var res result
	// veth hands XDP_TX frames to its peer only when the peer runs XDP: give
	// the capturers that do not attach their own a pass-through program.
	if !c.xdp {
		detach, err := passProgram(p)
		if err != nil {
			res.err = err
			return res
		}
		defer detach()
	}
	args := append([]string{"netns", "exec", p.NSA}, c.args(p.IfA, expr)...)
	if *fifo > 0 {
		args = append([]string{"netns", "exec", p.NSA, "chrt", "-f", strconv.Itoa(*fifo)}, c.args(p.IfA, expr)...)
	}
	if *niceFl != 0 {
		args = append([]string{"netns", "exec", p.NSA, "nice", "-n", strconv.Itoa(*niceFl)}, args[3:]...)
	}
	cmd := exec.Command("ip", args...)
	stderr := benchio.NewWatchBuffer("listening on ")
	cmd.Stderr = stderr
	cmd.Stdout = stderr
	if err := cmd.Start(); err != nil {
		res.err = err
		return res
	}
	// Both capturers say "listening on" once the capture is open (for
	// wring: the XDP program attached and every socket in its map).
	// Frames sent before that would be lost without either counting them.
	select {
	case <-stderr.Ready:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		res.err = fmt.Errorf("not listening after 20 s: %s", lastLines(stderr.String(), 5))
		return res
	}
	time.Sleep(300 * time.Millisecond) // workers started, first poll
	// The generator counts the frames it builds and those it makes match
	// (BPF_PROG_RUN may run it more often than asked: an interrupted run
	// restarts), so what should arrive is known independently of the
	// capturer.
	if stopped {
		_ = cmd.Process.Signal(syscall.SIGSTOP)
		time.Sleep(100 * time.Millisecond)
	}
	var genFrames, genMatches uint64
	genFrames, genMatches, res.offered, res.err = generate(p, gidx, matchEvery, rate, n)
	if stopped {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		time.Sleep(time.Second)
	}
	res.sent, res.built = genFrames, genFrames
	if matchEvery > 1 {
		res.sent = genMatches
	}
	time.Sleep(700 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGINT)
	werr := cmd.Wait()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	out := stderr.String()
	if *verb {
		fmt.Fprintf(os.Stderr, "live: %s said:\n%s\n", c.name, out)
	}
	captured, ok1 := grab(out, `(\d+) packets? captured`)
	dropped, ok2 := grab(out, `(\d+) packets? dropped by kernel`)
	if res.err == nil && (!ok1 || !ok2) {
		res.err = fmt.Errorf("no summary (exit %v): %s", werr, lastLines(out, 5))
	}
	res.captured, res.dropped = captured, dropped
	if res.captured > res.sent && res.err == nil {
		res.err = fmt.Errorf("captured %d frames of %d the generator made to match", res.captured, res.sent)
	}
	if res.captured+res.dropped < res.sent {
		// Frames that matched but were neither captured nor counted as
		// dropped by the capturer are lost too.
		res.dropped = res.sent - res.captured
	}
	return res
}

func grab(s, re string) (uint64, bool) {
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseUint(m[1], 10, 64)
	return v, err == nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}

// generate sends n frames from both CPUs, paced to rate Mpps in
// chunks when rate > 0, and returns the generator's own counts of the frames
// it built and of those it made to match, and the rate achieved.
func generate(p *netns.Pair, gidx int, matchEvery uint32, rate float64, n int) (built, matches uint64, mpps float64, err error) {
	var g *xdpgen.Generator
	if err := netns.Do(p.NSB, func() error {
		var err error
		g, err = xdpgen.New(gidx, matchEvery)
		return err
	}); err != nil {
		return 0, 0, 0, err
	}
	defer g.Close()
	const chunk = 4096
	per := uint32(n / 2)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	start := time.Now()
	for cpu := 0; cpu < 2; cpu++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Send from inside the generator's namespace: the interface
			// index means nothing elsewhere (and Send refuses).
			errs[cpu] = netns.Do(p.NSB, func() error {
				if rate <= 0 {
					_, err := g.Send(per, cpu)
					return err
				}
				// Each CPU sends half the rate, chunk by chunk, on schedule.
				interval := time.Duration(float64(chunk) / (rate * 1e6 / 2) * float64(time.Second))
				next := time.Now()
				for sent := uint32(0); sent < per; sent += chunk {
					if _, err := g.Send(chunk, cpu); err != nil {
						return err
					}
					next = next.Add(interval)
					if d := time.Until(next); d > 0 {
						time.Sleep(d)
					}
				}
				return nil
			})
		}()
	}
	wg.Wait()
	el := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return 0, 0, 0, err
		}
	}
	built, matches, err = g.Counts()
	if err != nil {
		return 0, 0, 0, err
	}
	return built, matches, float64(built) / el.Seconds() / 1e6, nil
}

func passProgram(p *netns.Pair) (func(), error) {
	var l link.Link
	var prog *ebpf.Program
	err := netns.Do(p.NSA, func() error {
		idx, err := netns.Ifindex(p.NSA, p.IfA)
		if err != nil {
			return err
		}
		prog, err = ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "Dual BSD/GPL",
			Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()}})
		if err != nil {
			return err
		}
		l, err = link.AttachXDP(link.XDPOptions{Program: prog, Interface: idx})
		return err
	})
	if err != nil {
		if prog != nil {
			prog.Close()
		}
		return nil, err
	}
	return func() { l.Close(); prog.Close() }, nil
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "live:", err)
		os.Exit(1)
	}
}
