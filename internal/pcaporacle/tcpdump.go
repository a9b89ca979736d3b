package pcaporacle

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"github.com/wringcap/wring/spec"
)

// ErrRefused is returned when tcpdump refuses an expression (a syntax
// error, or a primitive the link type does not support).
var ErrRefused = errors.New("libpcap refused the expression")

// ErrNoTcpdump is returned when the tcpdump binary cannot be found.
var ErrNoTcpdump = errors.New("tcpdump not found")

// Options select how libpcap compiles.
type Options struct {
	// Unoptimized passes -O to tcpdump (libpcap's optimizer off).
	Unoptimized bool
	// Snaplen passes -s (0: tcpdump's default, 262144).
	Snaplen int
}

// Tcpdump returns the path of the tcpdump binary, or ErrNoTcpdump.
func Tcpdump() (string, error) {
	p, err := exec.LookPath("tcpdump")
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoTcpdump, err)
	}
	return p, nil
}

// Compile returns libpcap's program for expr on the link type named dlt (a
// DLT name as `tcpdump -y` takes it, e.g. EN10MB).
func Compile(expr, dlt string, opt Options) (spec.Program, error) {
	return compile(expr, opt, "-y", dlt)
}

// CompileFile returns libpcap's program for expr on the link type of the
// capture file at path (tcpdump -r path -ddd).
func CompileFile(expr, path string, opt Options) (spec.Program, error) {
	return compile(expr, opt, "-r", path)
}

func compile(expr string, opt Options, args ...string) (spec.Program, error) {
	td, err := Tcpdump()
	if err != nil {
		return nil, err
	}
	args = append(args, "-ddd", "-n")
	if opt.Unoptimized {
		args = append(args, "-O")
	}
	if opt.Snaplen > 0 {
		args = append(args, "-s", strconv.Itoa(opt.Snaplen))
	}
	args = append(args, "--", expr)
	cmd := exec.Command(td, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			msg := strings.TrimSpace(stderr.String())
			msg = strings.TrimPrefix(msg, "tcpdump: ")
			return nil, fmt.Errorf("%w: %s", ErrRefused, msg)
		}
		return nil, fmt.Errorf("run tcpdump: %w", err)
	}
	return ParseDecimal(stdout.Bytes())
}

// ParseDecimal parses tcpdump's -ddd output: a count, then one
// "code jt jf k" line per instruction.
func ParseDecimal(b []byte) (spec.Program, error) {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	n, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil {
		return nil, fmt.Errorf("tcpdump -ddd: line 1: bad count %q", lines[0])
	}
	if n != len(lines)-1 {
		return nil, fmt.Errorf("tcpdump -ddd: count %d but %d instructions", n, len(lines)-1)
	}
	p := make(spec.Program, n)
	for i, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 4 {
			return nil, fmt.Errorf("tcpdump -ddd: line %d: %q", i+2, l)
		}
		var v [4]uint64
		for j, s := range f {
			if v[j], err = strconv.ParseUint(s, 10, 32); err != nil {
				return nil, fmt.Errorf("tcpdump -ddd: line %d: %w", i+2, err)
			}
		}
		if v[0] > 0xffff || v[1] > 0xff || v[2] > 0xff {
			return nil, fmt.Errorf("tcpdump -ddd: line %d: field out of range: %q", i+2, l)
		}
		p[i] = spec.Instruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}
	}
	return p, nil
}
