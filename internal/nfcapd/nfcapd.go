// Package nfcapd runs nfdump's collector, nfcapd, for tests: it starts one
// on a free UDP port of 127.0.0.1 and, once stopped, lists the flows it
// stored with `nfdump -r FILE -o fmt:...`.
package nfcapd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrMissing says nfcapd or nfdump is not installed (Debian: apt-get
// install nfdump).
var ErrMissing = errors.New("nfcapd and nfdump not found (apt-get install nfdump)")

// Flow is one flow as nfdump lists it.
type Flow struct {
	First, Last      int64 // ms since the epoch
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8
	Packets, Bytes   uint64
	TCPFlags         string // as nfdump prints them, e.g. ".AP.SF"
	IfIndex          uint32
	VLAN             uint16
}

// Collector is a running nfcapd.
type Collector struct {
	Port int
	dir  string
	cmd  *exec.Cmd
	log  bytes.Buffer
}

// Start runs nfcapd on a free UDP port of 127.0.0.1, writing into dir.
func Start(dir string) (*Collector, error) {
	if _, err := exec.LookPath("nfcapd"); err != nil {
		return nil, ErrMissing
	}
	if _, err := exec.LookPath("nfdump"); err != nil {
		return nil, ErrMissing
	}
	for attempt := 0; attempt < 5; attempt++ {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		pc.Close()
		c := &Collector{Port: port, dir: dir}
		// -t 3600: one file for the run; -B: room for a burst of datagrams.
		c.cmd = exec.Command("nfcapd", "-b", "127.0.0.1", "-p", strconv.Itoa(port), "-w", dir, "-t", "3600", "-B", "16777216")
		c.cmd.Stdout, c.cmd.Stderr = &c.log, &c.log
		if err := c.cmd.Start(); err != nil {
			return nil, err
		}
		if c.waitListening(port) {
			return c, nil
		}
		c.cmd.Process.Kill()
		c.cmd.Wait()
	}
	return nil, errors.New("nfcapd did not start listening")
}

// waitListening waits until a UDP socket is bound to port (it is then
// nfcapd's) or nfcapd has exited.
func (c *Collector) waitListening(port int) bool {
	hex := fmt.Sprintf(":%04X ", port)
	for i := 0; i < 200; i++ {
		b, _ := os.ReadFile("/proc/net/udp")
		if bytes.Contains(b, []byte("0100007F"+hex)) {
			return true
		}
		if b == nil && i > 20 { // no /proc: give it a moment
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// Stop ends nfcapd (SIGTERM, so it closes its file) and lists the flows
// it stored, in file order.
func (c *Collector) Stop() ([]Flow, error) {
	c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-done
		return nil, fmt.Errorf("nfcapd did not stop: %s", c.log.String())
	}
	files, _ := filepath.Glob(filepath.Join(c.dir, "nfcapd.*"))
	var out []Flow
	for _, f := range files {
		if strings.Contains(f, "current") {
			continue
		}
		flows, err := Read(f)
		if err != nil {
			return nil, err
		}
		out = append(out, flows...)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("nfcapd wrote no file in %s: %s", c.dir, c.log.String())
	}
	return out, nil
}

// Dir returns the directory of the files.
func (c *Collector) Dir() string { return c.dir }

// Log returns what nfcapd printed.
func (c *Collector) Log() string { return c.log.String() }

// format lists the fields compared. Times are %ts and %te read in UTC:
// nfdump 1.7.1's %ter (end time in fractional seconds) is wrong (it printed
// 1767225602.023 for an end of 1767225602.623 that %te and -o raw show).
const format = "fmt:%ts|%te|%sa|%da|%sp|%dp|%pr|%ipkt|%ibyt|%flg|%in|%svln"

// Read lists the flows of an nfcapd file.
func Read(file string) ([]Flow, error) {
	// -6: IPv6 addresses in full (not cut in the middle); -N: plain numbers.
	cmd := exec.Command("nfdump", "-r", file, "-q", "-N", "-6", "-o", format)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("nfdump -r %s: %v: %s", file, err, stderr.String())
	}
	var flows []Flow
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f, err := parse(line)
		if err != nil {
			return nil, fmt.Errorf("nfdump line %q: %v", line, err)
		}
		flows = append(flows, f)
	}
	return flows, nil
}

func parse(line string) (Flow, error) {
	p := strings.Split(line, "|")
	if len(p) != 12 {
		return Flow{}, fmt.Errorf("%d fields, want 12", len(p))
	}
	for i := range p {
		p[i] = strings.TrimSpace(p[i])
	}
	var f Flow
	var err error
	ms := func(s string) int64 {
		v, e := time.Parse("2006-01-02 15:04:05.000", s)
		if e != nil && err == nil {
			err = fmt.Errorf("time %q: %v", s, e)
		}
		return v.UnixMilli()
	}
	num := func(s string, bits int) uint64 {
		v, e := strconv.ParseUint(s, 10, bits)
		if e != nil && err == nil {
			err = fmt.Errorf("number %q: %v", s, e)
		}
		return v
	}
	addr := func(s string) netip.Addr {
		a, e := netip.ParseAddr(s)
		if e != nil && err == nil {
			err = fmt.Errorf("address %q: %v", s, e)
		}
		return a
	}
	f.First, f.Last = ms(p[0]), ms(p[1])
	f.Src, f.Dst = addr(p[2]), addr(p[3])
	f.SrcPort = uint16(num(p[4], 16))
	if typ, code, ok := strings.Cut(p[5], "."); ok { // ICMP: type.code in the port's place
		f.DstPort = uint16(num(typ, 8)<<8 | num(code, 8))
	} else {
		f.DstPort = uint16(num(p[5], 16))
	}
	f.Proto = protoNumber(p[6])
	f.Packets, f.Bytes = num(p[7], 64), num(p[8], 64)
	f.TCPFlags = p[9]
	f.IfIndex = uint32(num(p[10], 32))
	f.VLAN = uint16(num(p[11], 16))
	return f, err
}

// protoNumber maps nfdump's protocol names back to numbers.
func protoNumber(s string) uint8 {
	if n, err := strconv.ParseUint(s, 10, 8); err == nil {
		return uint8(n)
	}
	names := map[string]uint8{"ICMP": 1, "IGMP": 2, "GGP": 3, "IPIP": 4, "ST": 5, "TCP": 6, "UDP": 17, "IPv6": 41, "RSVP": 46, "GRE": 47,
		"ESP": 50, "AH": 51, "ICMP6": 58, "PIM": 103, "VRRP": 112, "L2TP": 115, "SCTP": 132}
	return names[s]
}

// Flags formats TCP flags as nfdump prints them: CWR ECE URG ACK PSH RST
// SYN FIN, a dot for each one not set.
func Flags(b uint8) string {
	const names = "CEUAPRSF"
	out := []byte("........")
	for i := range 8 {
		if b&(0x80>>i) != 0 {
			out[i] = names[i]
		}
	}
	return string(out)
}
