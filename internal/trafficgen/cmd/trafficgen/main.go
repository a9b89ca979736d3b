// Command trafficgen writes deterministic mixed Ethernet traffic to a pcap
// file:
//
//	go run ./internal/trafficgen/cmd/trafficgen -n 1000000 -o big.pcap
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/wringcap/wring/internal/trafficgen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("trafficgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 100000, "number of packets")
	out := fs.String("o", "-", "output pcap file (- for standard output)")
	seed := fs.Int64("seed", 1, "seed: the same seed gives the same packets")
	snaplen := fs.Uint("snaplen", trafficgen.DefaultSnaplen, "snap length of the file; longer packets are cut")
	noTrunc := fs.Bool("no-truncate", false, "do not cut a share of packets short")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "trafficgen: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *n < 0 || *snaplen == 0 || *snaplen > 1<<31 {
		fmt.Fprintln(stderr, "trafficgen: -n must be >= 0 and -snaplen between 1 and 2^31")
		return 2
	}
	w := stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintf(stderr, "trafficgen: %v\n", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	cfg := trafficgen.Config{Seed: *seed, Count: *n, Snaplen: uint32(*snaplen), NoTruncate: *noTrunc}
	if err := trafficgen.Generate(w, cfg); err != nil {
		fmt.Fprintf(stderr, "trafficgen: %v\n", err)
		return 1
	}
	if f, ok := w.(*os.File); ok && f != os.Stdout {
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "trafficgen: %v\n", err)
			return 1
		}
	}
	return 0
}
