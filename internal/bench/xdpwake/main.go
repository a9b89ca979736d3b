//go:build linux

// Command xdpwake measures what the AF_XDP queue workers' nap saves: the
// CPU time `wring capture --mode xdp` spends per million frames, with the
// nap (the default) and without it (WRING_XDP_NAP=0), run alternately on
// a 2-queue veth between two namespaces. The frames come from trafgen
// (netsniff-ng; one process, its TX ring, 60-byte UDP frames with random
// source ports so both queues get traffic), which needs no kernel support
// beyond AF_PACKET: it runs where the live bench's XDP generator cannot
// (kernels that refuse BPF_F_TEST_XDP_LIVE_FRAMES). It needs root and
// prints a markdown table with every series and the medians.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wringcap/wring/internal/bench/benchio"
	"github.com/wringcap/wring/internal/netns"
)

var (
	frames = flag.Int("frames", 2_000_000, "frames per run")
	series = flag.Int("series", 5, "runs per variant, alternating")
	rate   = flag.Int("rate", 0, "trafgen's rate in frames per second (0: as fast as it goes)")
	bufKiB = flag.Int("buffer", 65536, "wring's -B in KiB")
)

type variant struct {
	name string
	env  []string
}

type result struct {
	offered  float64 // Mpps, frames over trafgen's run time
	captured uint64
	dropped  uint64
	cpu      time.Duration
	err      error
}

func main() {
	flag.Parse()
	if os.Geteuid() != 0 {
		fatal(fmt.Errorf("needs root"))
	}
	if _, err := exec.LookPath("trafgen"); err != nil {
		fatal(fmt.Errorf("needs trafgen (netsniff-ng): %w", err))
	}
	tmp, err := os.MkdirTemp("", "wring-xdpwake-")
	check(err)
	defer os.RemoveAll(tmp)
	wring := filepath.Join(tmp, "wring")
	build := exec.Command("go", "build", "-o", wring, "./cmd/wring")
	build.Stderr = os.Stderr
	check(build.Run())

	variants := []variant{{"no nap (WRING_XDP_NAP=0)", []string{"WRING_XDP_NAP=0"}}, {"nap (default)", nil}}
	res := make([][]result, len(variants))
	for s := 0; s < *series; s++ {
		order := []int{0, 1}
		if s%2 == 1 {
			order = []int{1, 0}
		}
		for _, v := range order {
			r := run(wring, tmp, variants[v])
			fmt.Fprintf(os.Stderr, "xdpwake: series %d, %s: offered %.2f Mpps, captured %d, dropped %d, cpu %v, err %v\n",
				s+1, variants[v].name, r.offered, r.captured, r.dropped, r.cpu, r.err)
			res[v] = append(res[v], r)
		}
	}
	fmt.Printf("%d frames of 60 bytes per run from trafgen (one process) on a 2-queue veth; `wring capture --mode xdp -B %d -w /dev/null udp`; %d series, the two variants alternating. CPU is the capturing process's user+system time per million frames sent.\n\n",
		*frames, *bufKiB, *series)
	fmt.Println("| variant | CPU s per M frames, median (series) | offered Mpps, median (series) | frames lost (series) |")
	fmt.Println("|---|---|---|---|")
	for v, rs := range res {
		var cpu, off []float64
		var lost []string
		for _, r := range rs {
			if r.err != nil {
				lost = append(lost, "error: "+r.err.Error())
				continue
			}
			cpu = append(cpu, r.cpu.Seconds()/(float64(*frames)/1e6))
			off = append(off, r.offered)
			lost = append(lost, strconv.FormatInt(int64(*frames)-int64(r.captured), 10))
		}
		fmt.Printf("| %s | **%.3f** (%s) | %.2f (%s) | %s |\n", variants[v].name, benchio.Median(cpu), list(cpu, "%.3f"), benchio.Median(off), list(off, "%.2f"), strings.Join(lost, ", "))
	}
}

var capturedRE = regexp.MustCompile(`(\d+) packets captured`)
var droppedRE = regexp.MustCompile(`(\d+) packets dropped by kernel`)

func run(wring, tmp string, v variant) (res result) {
	p, err := netns.Create(2)
	if err != nil {
		return result{err: err}
	}
	defer p.Close()
	var mac net.HardwareAddr
	if err := netns.Do(p.NSA, func() error {
		ifi, err := net.InterfaceByName(p.IfA)
		if err == nil {
			mac = ifi.HardwareAddr
		}
		return err
	}); err != nil {
		return result{err: err}
	}
	cfg := filepath.Join(tmp, "udp.cfg")
	var b strings.Builder
	b.WriteString("{ ")
	for _, x := range mac {
		fmt.Fprintf(&b, "0x%02x, ", x)
	}
	// Source MAC, IPv4 198.18.0.1 > 198.18.0.2, UDP random source port >
	// 9, 18 bytes of payload: 60 bytes.
	b.WriteString("0x02,0x00,0x00,0x00,0x00,0x01, 0x08,0x00, 0x45,0x00,0x00,0x2e, 0x00,0x00,0x00,0x00, 0x40,0x11, csumip(14, 33), 198,18,0,1, 198,18,0,2, drnd(2), 0x00,0x09, 0x00,0x1a, 0x00,0x00, fill(0x00, 18) }\n")
	check(os.WriteFile(cfg, []byte(b.String()), 0o644))

	cmd := exec.Command("ip", "netns", "exec", p.NSA, wring, "capture", "-i", p.IfA, "--mode", "xdp",
		"-B", strconv.Itoa(*bufKiB), "-w", "/dev/null", "udp")
	cmd.Env = append(os.Environ(), v.env...)
	out := benchio.NewWatchBuffer("listening on ")
	cmd.Stderr, cmd.Stdout = out, out
	if err := cmd.Start(); err != nil {
		return result{err: err}
	}
	select {
	case <-out.Ready:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return result{err: fmt.Errorf("wring not listening after 20 s: %s", out.String())}
	}
	time.Sleep(300 * time.Millisecond)
	args := []string{"netns", "exec", p.NSB, "trafgen", "-i", cfg, "-o", p.IfB, "-n", strconv.Itoa(*frames), "-P", "1", "-C", "-q"}
	if *rate > 0 {
		args = append(args, "-b", strconv.Itoa(*rate)+"pps")
	}
	start := time.Now()
	tg, err := exec.Command("ip", args...).CombinedOutput()
	took := time.Since(start)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return result{err: fmt.Errorf("trafgen: %v: %s", err, tg)}
	}
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		return result{err: fmt.Errorf("wring: %v: %s", err, out.String())}
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	res.cpu = time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
	res.offered = float64(*frames) / took.Seconds() / 1e6
	text := out.String()
	m := capturedRE.FindStringSubmatch(text)
	if m == nil {
		return result{err: fmt.Errorf("no capture count in: %s", text)}
	}
	res.captured, _ = strconv.ParseUint(m[1], 10, 64)
	if m := droppedRE.FindStringSubmatch(text); m != nil {
		res.dropped, _ = strconv.ParseUint(m[1], 10, 64)
	}
	return res
}

func list(v []float64, f string) string {
	var s []string
	for _, x := range v {
		s = append(s, fmt.Sprintf(f, x))
	}
	return strings.Join(s, ", ")
}

func check(err error) {
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "xdpwake:", err)
	os.Exit(1)
}
