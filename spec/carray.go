package spec

import (
	"bufio"
	"fmt"
	"io"
)

// FormatC writes p as tcpdump -dd prints it: one C initializer
// "{ 0x28, 0, 0, 0x0000000c }," per instruction.
func FormatC(w io.Writer, p Program) error {
	bw := bufio.NewWriter(w)
	for _, ins := range p {
		fmt.Fprintf(bw, "{ 0x%x, %d, %d, 0x%08x },\n", ins.Op, ins.Jt, ins.Jf, ins.K)
	}
	return bw.Flush()
}

// parseC reads a C array of struct sock_filter initializers: tcpdump -dd
// output, bpf_asm -c output, optionally wrapped in a declaration such as
// "struct sock_filter code[] = { ... };". Comments are C's.
func parseC(src []byte) (Program, error) {
	s := newTokenStream(src, commentC)
	prog, err := parseCStream(s)
	if err := s.finish(err); err != nil {
		return nil, err
	}
	return prog, nil
}

func parseCStream(s *tokenStream) (Program, error) {
	wrapped := false
	if s.peek().kind == tokIdent {
		// A declaration: skip to "=" and the opening brace of the array.
		for s.peek().kind != tokEOF && !s.punct("=") {
			s.take()
		}
		if err := s.expectPunct("{"); err != nil {
			return nil, err
		}
		wrapped = true
	}
	var prog Program
	for {
		t := s.peek()
		if t.kind == tokEOF {
			if wrapped {
				return nil, errTok(t, "expected \"}\" closing the array, found end of input")
			}
			return prog, nil
		}
		if wrapped && s.punct("}") {
			s.punct(";")
			if t := s.peek(); t.kind != tokEOF {
				return nil, errTok(t, "unexpected %s after the array", t.describe())
			}
			return prog, nil
		}
		if len(prog) >= MaxInstructions {
			return nil, errTok(t, "more than %d instructions", MaxInstructions)
		}
		if err := s.expectPunct("{"); err != nil {
			return nil, err
		}
		var f [4]uint32
		var at [4]token
		for i := range f {
			if i > 0 {
				if err := s.expectPunct(","); err != nil {
					return nil, err
				}
			}
			at[i] = s.peek()
			v, err := s.number(true, i == 3)
			if err != nil {
				return nil, err
			}
			f[i] = v
		}
		if f[0] > 0xffff {
			return nil, errTok(at[0], "opcode 0x%x does not fit in 16 bits", f[0])
		}
		for i := 1; i <= 2; i++ {
			if f[i] > 0xff {
				return nil, errTok(at[i], "jump offset %d does not fit in 8 bits", f[i])
			}
		}
		s.punct(",") // a trailing comma inside the braces is valid C
		if err := s.expectPunct("}"); err != nil {
			return nil, err
		}
		prog = append(prog, Instruction{Op: uint16(f[0]), Jt: uint8(f[1]), Jf: uint8(f[2]), K: f[3]})
		s.release()
		if !s.punct(",") {
			if t := s.peek(); t.kind != tokEOF && !(wrapped && t.kind == tokPunct && t.text == "}") {
				return nil, errTok(t, "expected \",\" between initializers, found %s", t.describe())
			}
		}
	}
}
