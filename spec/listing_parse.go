package spec

import (
	"bytes"
	"fmt"
	"strings"
)

// lineCursor reads one line of program text and makes positioned errors.
type lineCursor struct {
	s    string
	i    int
	line int
}

func (c *lineCursor) errf(format string, args ...any) *SyntaxError {
	return &SyntaxError{Line: c.line, Col: c.i + 1, Msg: fmt.Sprintf(format, args...)}
}

func (c *lineCursor) ws() {
	for c.i < len(c.s) && (c.s[c.i] == ' ' || c.s[c.i] == '\t' || c.s[c.i] == '\r') {
		c.i++
	}
}

func (c *lineCursor) eol() bool { c.ws(); return c.i >= len(c.s) }

// lit consumes p (after blanks) if the line continues with it.
func (c *lineCursor) lit(p string) bool {
	c.ws()
	if strings.HasPrefix(c.s[c.i:], p) {
		c.i += len(p)
		return true
	}
	return false
}

func (c *lineCursor) expect(p string) error {
	if !c.lit(p) {
		return c.errf("expected %q, found %s", p, c.found())
	}
	return nil
}

// found describes what is at the cursor, for error messages.
func (c *lineCursor) found() string {
	c.ws()
	if c.i >= len(c.s) {
		return "end of line"
	}
	end := c.i
	for end < len(c.s) && end-c.i < 16 && c.s[end] != ' ' && c.s[end] != '\t' {
		end++
	}
	if end == c.i {
		end++
	}
	return fmt.Sprintf("%q", c.s[c.i:end])
}

func isWordByte(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// word reads an identifier.
func (c *lineCursor) word() string {
	c.ws()
	start := c.i
	for c.i < len(c.s) && isWordByte(c.s[c.i]) {
		c.i++
	}
	return c.s[start:c.i]
}

// number reads a signed decimal or 0x hexadecimal constant.
func (c *lineCursor) number() (uint32, error) {
	c.ws()
	start := c.i
	if c.i < len(c.s) && (c.s[c.i] == '-' || c.s[c.i] == '+') {
		c.i++
	}
	for c.i < len(c.s) && isWordByte(c.s[c.i]) {
		c.i++
	}
	if start == c.i {
		return 0, c.errf("expected a number, found %s", c.found())
	}
	text := c.s[start:c.i]
	v, err := parseNumber(text, false)
	if err != nil {
		c.i = start
		return 0, c.errf("bad number %q: %v", text, err)
	}
	return v, nil
}

// parseListing reads tcpdump -d text.
func parseListing(src []byte) (Program, error) {
	var prog Program
	for n := 1; len(src) > 0; n++ {
		raw := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			raw, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		c := &lineCursor{s: string(raw), line: n}
		if c.eol() || c.s[c.i] == ';' || c.s[c.i] == '#' {
			continue // blank or comment line
		}
		if len(prog) >= MaxInstructions {
			return nil, c.errf("more than %d instructions", MaxInstructions)
		}
		ins, err := parseListingLine(c, len(prog))
		if err != nil {
			return nil, err
		}
		prog = append(prog, ins)
	}
	return prog, nil
}

func parseListingLine(c *lineCursor, pc int) (Instruction, error) {
	var ins Instruction
	if err := c.expect("("); err != nil {
		return ins, err
	}
	at := c.i
	n, err := c.number()
	if err != nil {
		return ins, err
	}
	if int64(n) != int64(pc) {
		c.i = at
		return ins, c.errf("instruction number %d out of sequence, expected %d", n, pc)
	}
	if err := c.expect(")"); err != nil {
		return ins, err
	}
	c.ws()
	opAt := c.i
	op := c.word()
	switch op {
	case "ld", "ldh", "ldb":
		err = parseListingLoad(c, &ins, op)
	case "ldx":
		switch {
		case c.lit("#pktlen"):
			ins.Op = ClassLDX | SizeW | ModeLEN
		case c.lit("#"):
			ins.Op = ClassLDX | ModeIMM
			ins.K, err = c.number()
		case c.lit("M["):
			ins.Op = ClassLDX | ModeMEM
			ins.K, err = c.closeNumber("]")
		default:
			err = c.errf("expected #k, #pktlen or M[k] after ldx, found %s", c.found())
		}
	case "ldxb":
		ins.Op = ClassLDX | ModeMSH | SizeB
		if err = c.expect("4*(["); err == nil {
			if ins.K, err = c.closeNumber("]"); err == nil {
				err = c.expect("&0xf)")
			}
		}
	case "st", "stx":
		ins.Op = ClassST
		if op == "stx" {
			ins.Op = ClassSTX
		}
		if err = c.expect("M["); err == nil {
			ins.K, err = c.closeNumber("]")
		}
	case "ret":
		if c.lit("#") {
			ins.Op = ClassRET | RetK
			ins.K, err = c.number()
		} else {
			ins.Op = ClassRET | RetA
			c.lit("a") // libpcap prints nothing; accept bpf_asm's "a"
		}
	case "ja":
		ins.Op = ClassJMP | JumpJA
		var t uint32
		if t, err = c.number(); err == nil {
			ins.K = t - uint32(pc) - 1
		}
	case "jeq", "jgt", "jge", "jset":
		ins.Op = ClassJMP | jumpOps[op]
		if c.lit("#") {
			ins.K, err = c.number()
		} else if c.lit("x") {
			ins.Op |= SrcX
		} else {
			err = c.errf("expected #k or x after %s, found %s", op, c.found())
		}
	case "neg":
		ins.Op = ClassALU | ALUNeg
	case "tax":
		ins.Op = ClassMISC | MiscTAX
	case "txa":
		ins.Op = ClassMISC | MiscTXA
	case "unimp":
		var code uint32
		at := c.i
		if code, err = c.number(); err == nil && code > 0xffff {
			c.i = at
			err = c.errf("opcode 0x%x does not fit in 16 bits", code)
		}
		ins.Op = uint16(code)
	default:
		alu, ok := aluByName[op]
		if !ok {
			c.i = opAt
			return ins, c.errf("unknown instruction %q", op)
		}
		ins.Op = ClassALU | alu
		if c.lit("#") {
			ins.K, err = c.number()
		} else if c.lit("x") {
			ins.Op |= SrcX
		} else {
			err = c.errf("expected #k or x after %s, found %s", op, c.found())
		}
	}
	if err != nil {
		return ins, err
	}
	if ins.Class() == ClassJMP && ins.Operation() != JumpJA {
		if err := parseListingTargets(c, &ins, pc); err != nil {
			return ins, err
		}
	}
	return ins, parseListingTail(c, ins)
}

// parseListingLoad reads the operand of ld, ldh and ldb.
func parseListingLoad(c *lineCursor, ins *Instruction, op string) error {
	size := map[string]uint16{"ld": SizeW, "ldh": SizeH, "ldb": SizeB}[op]
	var err error
	switch {
	case op == "ld" && c.lit("#pktlen"):
		ins.Op = ClassLD | SizeW | ModeLEN
	case op == "ld" && c.lit("#"):
		ins.Op = ClassLD | ModeIMM
		ins.K, err = c.number()
	case op == "ld" && c.lit("M["):
		ins.Op = ClassLD | ModeMEM
		ins.K, err = c.closeNumber("]")
	case c.lit("["):
		c.ws()
		save := c.i
		if c.lit("x") && c.lit("+") {
			ins.Op = ClassLD | size | ModeIND
			ins.K, err = c.closeNumber("]")
			return err
		}
		c.i = save
		ins.Op = ClassLD | size | ModeABS
		if c.i < len(c.s) && (c.s[c.i] == '-' || c.s[c.i] == '+' || c.s[c.i] >= '0' && c.s[c.i] <= '9') {
			ins.K, err = c.closeNumber("]")
			return err
		}
		name := c.word()
		off, ok := LookupAncillary(name)
		if !ok {
			c.i = save
			return c.errf("unknown ancillary load %q", name)
		}
		ins.K = AncillaryBase + off
		return c.expect("]")
	default:
		return c.errf("expected an operand after %s, found %s", op, c.found())
	}
	return err
}

// closeNumber reads a number followed by the closing text.
func (c *lineCursor) closeNumber(close string) (uint32, error) {
	v, err := c.number()
	if err != nil {
		return 0, err
	}
	return v, c.expect(close)
}

// parseListingTargets reads "jt N jf M" (absolute instruction numbers).
func parseListingTargets(c *lineCursor, ins *Instruction, pc int) error {
	for _, f := range []struct {
		name string
		dst  *uint8
	}{{"jt", &ins.Jt}, {"jf", &ins.Jf}} {
		if err := c.expect(f.name); err != nil {
			return err
		}
		c.ws()
		at := c.i
		t, err := c.number()
		if err != nil {
			return err
		}
		d := int64(int32(t)) - int64(pc) - 1
		if d < 0 || d > 255 {
			c.i = at
			return c.errf("%s target %d is not 1 to 256 instructions after %d", f.name, int32(t), pc)
		}
		*f.dst = uint8(d)
	}
	return nil
}

// parseListingTail accepts the end of the line or a "; comment". A comment
// that is a hexadecimal number (libpcap's TESTrun tables print the opcode
// there) must agree with the instruction.
func parseListingTail(c *lineCursor, ins Instruction) error {
	if c.eol() {
		return nil
	}
	if !c.lit(";") {
		return c.errf("unexpected %s after the instruction", c.found())
	}
	rest := strings.TrimSpace(c.s[c.i:])
	if strings.HasPrefix(rest, "0x") {
		c.ws()
		at := c.i
		if v, err := parseNumber(rest, false); err == nil && v != uint32(ins.Op) {
			c.i = at
			return c.errf("opcode comment %s does not match the instruction's opcode 0x%04x", rest, ins.Op)
		}
	}
	return nil
}

var jumpOps = map[string]uint16{"jeq": JumpJEQ, "jgt": JumpJGT, "jge": JumpJGE, "jset": JumpJSET}

var aluByName = map[string]uint16{
	"add": ALUAdd, "sub": ALUSub, "mul": ALUMul, "div": ALUDiv, "mod": ALUMod,
	"and": ALUAnd, "or": ALUOr, "xor": ALUXor, "lsh": ALULsh, "rsh": ALURsh,
}
