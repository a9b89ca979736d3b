package spec

import (
	"bufio"
	"fmt"
	"io"
)

// FormatDecimal writes p as tcpdump -ddd prints it: the instruction count,
// then "code jt jf k" in decimal, one instruction per line.
func FormatDecimal(w io.Writer, p Program) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%d\n", len(p))
	for _, ins := range p {
		fmt.Fprintf(bw, "%d %d %d %d\n", ins.Op, ins.Jt, ins.Jf, ins.K)
	}
	return bw.Flush()
}

// parseDecimal reads tcpdump -ddd text, or the comma-separated one-line form
// bpf_asm prints and iptables' bpf match takes ("4,40 0 0 12,..."). The
// count must match the instructions that follow.
func parseDecimal(src []byte) (Program, error) {
	s := newTokenStream(src, commentNone)
	prog, err := parseDecimalStream(s)
	if err := s.finish(err); err != nil {
		return nil, err
	}
	return prog, nil
}

func parseDecimalStream(s *tokenStream) (Program, error) {
	head := s.peek()
	if head.kind == tokEOF {
		return nil, errTok(head, "expected the instruction count, found end of input")
	}
	count, err := s.number(false, false)
	if err != nil {
		return nil, err
	}
	s.punct(",")
	prog := make(Program, 0, min(int(count), MaxInstructions))
	for {
		t := s.peek()
		if t.kind == tokEOF {
			break
		}
		if uint64(len(prog)) >= uint64(count) {
			return nil, errTok(t, "more instructions than the count %d on line %d", count, head.line)
		}
		if len(prog) >= MaxInstructions {
			return nil, errTok(t, "more than %d instructions", MaxInstructions)
		}
		var f [4]uint32
		var at [4]token
		for i := range f {
			at[i] = s.peek()
			if at[i].kind == tokEOF {
				return nil, errTok(at[i], "instruction %d is incomplete: expected code, jt, jf and k", len(prog))
			}
			if f[i], err = s.number(false, false); err != nil {
				return nil, err
			}
		}
		if f[0] > 0xffff {
			return nil, errTok(at[0], "opcode %d does not fit in 16 bits", f[0])
		}
		for i := 1; i <= 2; i++ {
			if f[i] > 0xff {
				return nil, errTok(at[i], "jump offset %d does not fit in 8 bits", f[i])
			}
		}
		prog = append(prog, Instruction{Op: uint16(f[0]), Jt: uint8(f[1]), Jf: uint8(f[2]), K: f[3]})
		s.punct(",")
		s.release()
	}
	if uint64(len(prog)) != uint64(count) {
		return nil, errTok(head, "the count says %d instructions, the text has %d", count, len(prog))
	}
	return prog, nil
}
