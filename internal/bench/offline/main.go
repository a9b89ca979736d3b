// Command offline compares whole processes filtering a capture file:
// `wring read -r big.pcap -w /dev/null EXPR` against `tcpdump -r big.pcap -w
// /dev/null EXPR`, on a generated 1,000,000-packet capture
// (internal/trafficgen, seed 1). For each expression it first checks that
// both write the same bytes (to files, compared by SHA-256), then times
// alternating runs and reports the median wall time and the median CPU
// time (user + system) of each, and their ratios. It prints a markdown
// fragment for BENCHMARKS.md between <!-- bench --> markers.
//
//	go run ./internal/bench/offline [-n 1000000] [-runs 5]
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/wringcap/wring/internal/trafficgen"
)

var (
	packets = flag.Int("n", 1_000_000, "packets in the generated capture")
	runs    = flag.Int("runs", 5, "timed runs of each command per expression")
	verify  = flag.Bool("verify", true, "check first that both write the same bytes")
	keep    = flag.String("capture", "", "path of the generated capture (default: in the temporary directory, reused)")
)

var exprs = []string{
	"",
	"tcp port 80",
	"udp and port 53",
	"host 192.0.2.7 and (tcp or udp)",
	"ip6 and tcp",
	"icmp or arp",
	"vlan and tcp port 443",
	"tcp[tcpflags] & tcp-syn != 0",
}

type sample struct{ wall, cpu time.Duration }

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "offline: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		return fmt.Errorf("tcpdump is not installed: %w", err)
	}
	dir, err := os.MkdirTemp("", "wring-offline-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	capFile := *keep
	if capFile == "" {
		capFile = filepath.Join(os.TempDir(), fmt.Sprintf("wring-offline-%d-seed1.pcap", *packets))
	}
	if _, err := os.Stat(capFile); err != nil {
		fmt.Fprintf(os.Stderr, "offline: generating %s (%d packets)\n", capFile, *packets)
		f, err := os.Create(capFile + ".tmp")
		if err != nil {
			return err
		}
		if err := trafficgen.Generate(f, trafficgen.Config{Seed: 1, Count: *packets}); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Rename(capFile+".tmp", capFile); err != nil {
			return err
		}
	}
	st, _ := os.Stat(capFile)
	wring := filepath.Join(dir, "wring")
	build := exec.Command("go", "build", "-o", wring, "./cmd/wring")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build wring: %w", err)
	}
	cmds := func(e, out string) (td, wr []string) {
		td = []string{tcpdump, "-r", capFile, "-w", out}
		wr = []string{wring, "read", "-r", capFile, "-w", out}
		if e != "" {
			td = append(td, e)
			wr = append(wr, strings.Fields(e)...)
		}
		return
	}
	var rows []string
	for _, e := range exprs {
		if *verify {
			tdOut, wrOut := filepath.Join(dir, "td.pcap"), filepath.Join(dir, "wr.pcap")
			td, wr := cmds(e, tdOut)
			wc, _ := cmds(e, wrOut)
			_ = wr
			if _, err := timeRun(td); err != nil {
				return fmt.Errorf("tcpdump %q: %w", e, err)
			}
			if _, err := timeRun(wc); err != nil {
				return fmt.Errorf("wring %q: %w", e, err)
			}
			a, b := hashFile(tdOut), hashFile(wrOut)
			os.Remove(tdOut)
			os.Remove(wrOut)
			if a != b {
				return fmt.Errorf("expression %q: wring's output differs from tcpdump's", e)
			}
		}
		td, wr := cmds(e, os.DevNull)
		var ts, ws []sample
		for i := 0; i < *runs+1; i++ { // the first pair warms the page cache
			t, err := timeRun(td)
			if err != nil {
				return fmt.Errorf("tcpdump %q: %w", e, err)
			}
			w, err := timeRun(wr)
			if err != nil {
				return fmt.Errorf("wring %q: %w", e, err)
			}
			if i > 0 {
				ts, ws = append(ts, t), append(ws, w)
			}
		}
		t, w := median(ts), median(ws)
		// The spread: the CPU speedup of each alternating pair.
		lo, hi := 0.0, 0.0
		for i := range ts {
			r := float64(ts[i].cpu) / float64(ws[i].cpu)
			if i == 0 || r < lo {
				lo = r
			}
			if i == 0 || r > hi {
				hi = r
			}
		}
		label := e
		if label == "" {
			label = "(none)"
		}
		rows = append(rows, fmt.Sprintf("| `%s` | %s | %s | %s | %s | **%.2fx** | **%.2fx** | %.2f–%.2fx |", label,
			ms(t.wall), ms(t.cpu), ms(w.wall), ms(w.cpu),
			float64(t.wall)/float64(w.wall), float64(t.cpu)/float64(w.cpu), lo, hi))
		fmt.Fprintf(os.Stderr, "offline: %-40q tcpdump %v/%v cpu, wring %v/%v cpu, CPU speedup per pair %.2f-%.2f\n", e, t.wall, t.cpu, w.wall, w.cpu, lo, hi)
	}
	fmt.Println("<!-- bench -->")
	fmt.Printf("Capture: %d packets, %.0f MB (`internal/trafficgen`, seed 1). Median of %d alternating runs after one warm-up pair; "+
		"CPU is user + system time of the process; the last column is the range of the CPU speedup over the alternating pairs. Outputs checked identical (SHA-256 of `-w` files) before timing: %v.\n\n",
		*packets, float64(st.Size())/1e6, *runs, *verify)
	fmt.Println("| expression | tcpdump wall | tcpdump CPU | wring wall | wring CPU | wall speedup | CPU speedup | CPU speedup per pair |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println(r)
	}
	fmt.Println("<!-- /bench -->")
	return nil
}

func timeRun(args []string) (sample, error) {
	cmd := exec.Command(args[0], args[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%w: %s", err, stderr.String())
	}
	ps := cmd.ProcessState
	return sample{wall: wall, cpu: ps.UserTime() + ps.SystemTime()}, nil
}

func median(s []sample) sample {
	w := make([]time.Duration, len(s))
	c := make([]time.Duration, len(s))
	for i, x := range s {
		w[i], c[i] = x.wall, x.cpu
	}
	sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return sample{wall: w[len(w)/2], cpu: c[len(c)/2]}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/1e6) }

func hashFile(p string) string {
	f, err := os.Open(p)
	if err != nil {
		return "missing:" + err.Error()
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return fmt.Sprintf("%x", h.Sum(nil))
}
