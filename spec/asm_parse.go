package spec

import "strings"

// asmKeywords are bpf_asm's reserved words (matched without regard to
// case); no label may be spelled like one.
var asmKeywords = map[string]bool{
	"ldb": true, "ldh": true, "ld": true, "ldi": true, "ldx": true, "ldxi": true, "ldxb": true,
	"st": true, "stx": true, "jmp": true, "ja": true, "jeq": true, "jneq": true, "jne": true,
	"jlt": true, "jle": true, "jgt": true, "jge": true, "jset": true, "add": true, "sub": true,
	"mul": true, "div": true, "mod": true, "neg": true, "and": true, "xor": true, "or": true,
	"lsh": true, "rsh": true, "ret": true, "tax": true, "txa": true, "len": true,
	"x": true, "a": true, "m": true,
}

// isAsmKeyword reports whether s is reserved in bpf_asm: an opcode, a
// register, len or one of bpf_asm's extension names. libpcap's spellings
// (vlanp, random) are accepted as operands but stay free as labels, as in
// bpf_asm.
func isAsmKeyword(s string) bool {
	s = strings.ToLower(s)
	if asmKeywords[s] || s == "vlan_pr" {
		return true
	}
	for _, name := range AncillaryNames {
		if name == s {
			return true
		}
	}
	return false
}

// maxLabels bounds the labels of one program: a label names an
// instruction, and a program has at most MaxInstructions of them; a few
// names for the same instruction are allowed.
const maxLabels = 2 * MaxInstructions

// asmRef is a jump operand naming a label, resolved after the whole text
// is read.
type asmRef struct {
	pc    int
	field byte // 't' (jt), 'f' (jf) or 'k' (ja offset)
	label token
}

// asmParser reads bpf_asm assembly.
type asmParser struct {
	s      *tokenStream
	prog   Program
	labels map[string]int
	refs   []asmRef
}

// parseAsm reads Linux bpf_asm assembly: one instruction after another
// (newlines carry no meaning), "name:" labels before instructions, jumps
// by label, comments after ";", inside /* */ or on lines starting with
// "#". Keywords ignore case; labels do not.
func parseAsm(src []byte) (Program, error) {
	p := &asmParser{s: newTokenStream(src, commentAsm), labels: map[string]int{}}
	prog, err := p.parse()
	if err := p.s.finish(err); err != nil {
		return nil, err
	}
	return prog, nil
}

// parse reads the whole text; parseAsm reports a lexer error first.
func (p *asmParser) parse() (Program, error) {
	var pending *token // a label not yet followed by an instruction
	for {
		t := p.s.peek()
		if t.kind == tokEOF {
			break
		}
		if t.kind == tokIdent && p.s.peekAt(1).kind == tokPunct && p.s.peekAt(1).text == ":" {
			if isAsmKeyword(t.text) {
				return nil, errTok(t, "label %q is a reserved word", t.text)
			}
			if _, dup := p.labels[t.text]; dup {
				return nil, errTok(t, "label %q defined twice", t.text)
			}
			if len(p.labels) >= maxLabels {
				return nil, errTok(t, "more than %d labels", maxLabels)
			}
			p.labels[t.text] = len(p.prog)
			p.s.take()
			p.s.take()
			pending = &t
			continue
		}
		if len(p.prog) >= MaxInstructions {
			return nil, errTok(t, "more than %d instructions", MaxInstructions)
		}
		if err := p.instruction(); err != nil {
			return nil, err
		}
		p.s.release()
		pending = nil
	}
	if pending != nil {
		return nil, errTok(*pending, "label %q is not followed by an instruction", pending.text)
	}
	for _, r := range p.refs {
		target, ok := p.labels[r.label.text]
		if !ok {
			return nil, errTok(r.label, "no such label %q", r.label.text)
		}
		d := target - r.pc - 1
		ins := &p.prog[r.pc]
		switch r.field {
		case 'k':
			ins.K = uint32(int32(d))
		case 't', 'f':
			if d < 0 || d > 255 {
				return nil, errTok(r.label, "jump from instruction %d to label %q (instruction %d) is out of range: conditional jumps go 0 to 255 instructions forward", r.pc, r.label.text, target)
			}
			if r.field == 't' {
				ins.Jt = uint8(d)
			} else {
				ins.Jf = uint8(d)
			}
		}
	}
	return p.prog, nil
}

// instruction reads one instruction and appends it.
func (p *asmParser) instruction() error {
	t := p.s.take()
	if t.kind != tokIdent {
		return errTok(t, "expected an instruction, found %s", t.describe())
	}
	op := strings.ToLower(t.text)
	pc := len(p.prog)
	var ins Instruction
	var err error
	switch op {
	case "ldb", "ldh", "ld":
		err = p.load(&ins, op)
	case "ldi", "ldxi":
		ins.Op = ClassLD | ModeIMM
		if op == "ldxi" {
			ins.Op = ClassLDX | ModeIMM
		}
		p.s.punct("#")
		ins.K, err = p.s.number(true, true)
	case "ldx":
		err = p.loadX(&ins)
	case "ldxb":
		ins.Op = ClassLDX | ModeMSH | SizeB
		ins.K, err = p.msh()
	case "st", "stx":
		ins.Op = ClassST
		if op == "stx" {
			ins.Op = ClassSTX
		}
		ins.K, err = p.scratch()
	case "jmp", "ja":
		ins.Op = ClassJMP | JumpJA
		err = p.ref(pc, 'k')
	case "jeq", "jgt", "jge", "jset":
		ins.Op = ClassJMP | jumpOps[op]
		if err = p.jumpOperand(&ins); err == nil {
			if err = p.commaRef(pc, 't'); err == nil && p.s.punct(",") {
				err = p.ref(pc, 'f')
			}
		}
	case "jneq", "jne", "jlt", "jle":
		// Only a false target: jneq is jeq, jlt is jge, jle is jgt.
		ins.Op = ClassJMP | map[string]uint16{"jneq": JumpJEQ, "jne": JumpJEQ, "jlt": JumpJGE, "jle": JumpJGT}[op]
		if err = p.jumpOperand(&ins); err == nil {
			err = p.commaRef(pc, 'f')
		}
	case "neg":
		ins.Op = ClassALU | ALUNeg
	case "tax":
		ins.Op = ClassMISC | MiscTAX
	case "txa":
		ins.Op = ClassMISC | MiscTXA
	case "ret":
		err = p.ret(&ins)
	default:
		alu, ok := aluByName[op]
		if !ok {
			return errTok(t, "unknown instruction %q", t.text)
		}
		ins.Op = ClassALU | alu
		if p.s.punct("#") {
			ins.K, err = p.s.number(true, true)
		} else if p.regX() {
			ins.Op |= SrcX
		} else {
			n := p.s.peek()
			err = errTok(n, "expected #k or x after %s, found %s", op, n.describe())
		}
	}
	if err != nil {
		return err
	}
	p.prog = append(p.prog, ins)
	return nil
}

// regX consumes the register x or %x.
func (p *asmParser) regX() bool { return p.reg("x") }

func (p *asmParser) reg(name string) bool {
	i := p.s.i
	p.s.punct("%")
	if t := p.s.peek(); t.kind == tokIdent && strings.EqualFold(t.text, name) {
		p.s.take()
		return true
	}
	p.s.i = i
	return false
}

// extension reads an optional "#" and an ancillary name or len; it
// reports false, consuming nothing, when none follows.
func (p *asmParser) extension() (k uint32, isLen, ok bool) {
	i := p.s.i
	p.s.punct("#")
	t := p.s.peek()
	if t.kind == tokIdent {
		if strings.EqualFold(t.text, "len") {
			p.s.take()
			return 0, true, true
		}
		if off, found := LookupAncillary(t.text); found {
			p.s.take()
			return AncillaryBase + off, false, true
		}
	}
	p.s.i = i
	return 0, false, false
}

// load reads the operand of ld, ldh or ldb.
func (p *asmParser) load(ins *Instruction, op string) error {
	size := map[string]uint16{"ld": SizeW, "ldh": SizeH, "ldb": SizeB}[op]
	if k, isLen, ok := p.extension(); ok {
		if isLen {
			if op != "ld" {
				return errTok(p.s.toks[p.s.i-1], "%s cannot load len (use ld)", op)
			}
			ins.Op = ClassLD | SizeW | ModeLEN
			return nil
		}
		ins.Op, ins.K = ClassLD|size|ModeABS, k
		return nil
	}
	var err error
	switch {
	case op == "ld" && p.s.punct("#"):
		ins.Op = ClassLD | ModeIMM
		ins.K, err = p.s.number(true, true)
	case op == "ld" && p.isScratch():
		ins.Op = ClassLD | ModeMEM
		ins.K, err = p.scratch()
	case p.s.punct("["):
		if p.regX() {
			if err = p.s.expectPunct("+"); err != nil {
				return err
			}
			ins.Op = ClassLD | size | ModeIND
		} else {
			ins.Op = ClassLD | size | ModeABS
		}
		if ins.K, err = p.s.number(true, true); err == nil {
			err = p.s.expectPunct("]")
		}
	default:
		t := p.s.peek()
		err = errTok(t, "expected an operand after %s ([k], [x + k], #k, M[k] or an extension), found %s", op, t.describe())
	}
	return err
}

// loadX reads the operand of ldx.
func (p *asmParser) loadX(ins *Instruction) error {
	if _, isLen, ok := p.extension(); ok {
		if !isLen {
			return errTok(p.s.toks[p.s.i-1], "ldx cannot load an ancillary value")
		}
		ins.Op = ClassLDX | SizeW | ModeLEN
		return nil
	}
	var err error
	switch {
	case p.s.punct("#"):
		ins.Op = ClassLDX | ModeIMM
		ins.K, err = p.s.number(true, true)
	case p.isScratch():
		ins.Op = ClassLDX | ModeMEM
		ins.K, err = p.scratch()
	case p.s.peek().kind == tokNumber:
		ins.Op = ClassLDX | ModeMSH | SizeB
		ins.K, err = p.msh()
	default:
		t := p.s.peek()
		err = errTok(t, "expected an operand after ldx (#k, M[k], len or 4*([k]&0xf)), found %s", t.describe())
	}
	return err
}

// msh reads "4*([k]&0xf)" and returns k.
func (p *asmParser) msh() (uint32, error) {
	four := p.s.peek()
	if v, err := p.s.number(true, false); err != nil {
		return 0, err
	} else if v != 4 {
		return 0, errTok(four, "only 4*([k]&0xf) is supported, found %d*", v)
	}
	for _, q := range []string{"*", "(", "["} {
		if err := p.s.expectPunct(q); err != nil {
			return 0, err
		}
	}
	k, err := p.s.number(true, true)
	if err != nil {
		return 0, err
	}
	if err := p.s.expectPunct("]"); err != nil {
		return 0, err
	}
	if err := p.s.expectPunct("&"); err != nil {
		return 0, err
	}
	mask := p.s.peek()
	if v, err := p.s.number(true, false); err != nil {
		return 0, err
	} else if v != 0xf {
		return 0, errTok(mask, "only 4*([k]&0xf) is supported, found &%d", v)
	}
	return k, p.s.expectPunct(")")
}

func (p *asmParser) isScratch() bool {
	t := p.s.peek()
	n := p.s.peekAt(1)
	return t.kind == tokIdent && strings.EqualFold(t.text, "m") && n.kind == tokPunct && n.text == "["
}

// scratch reads "M[k]".
func (p *asmParser) scratch() (uint32, error) {
	if !p.isScratch() {
		t := p.s.peek()
		return 0, errTok(t, "expected M[k], found %s", t.describe())
	}
	p.s.take()
	p.s.take()
	k, err := p.s.number(true, true)
	if err != nil {
		return 0, err
	}
	return k, p.s.expectPunct("]")
}

// jumpOperand reads "#k" or "x" of a conditional jump.
func (p *asmParser) jumpOperand(ins *Instruction) error {
	if p.s.punct("#") {
		var err error
		ins.K, err = p.s.number(true, true)
		return err
	}
	if p.regX() {
		ins.Op |= SrcX
		return nil
	}
	t := p.s.peek()
	return errTok(t, "expected #k or x, found %s", t.describe())
}

func (p *asmParser) commaRef(pc int, field byte) error {
	if err := p.s.expectPunct(","); err != nil {
		return err
	}
	return p.ref(pc, field)
}

// ref reads a label operand.
func (p *asmParser) ref(pc int, field byte) error {
	t := p.s.peek()
	if t.kind != tokIdent || isAsmKeyword(t.text) {
		return errTok(t, "expected a label, found %s", t.describe())
	}
	p.s.take()
	p.refs = append(p.refs, asmRef{pc: pc, field: field, label: t})
	return nil
}

// ret reads the operand of ret: #k, a or x.
func (p *asmParser) ret(ins *Instruction) error {
	switch {
	case p.s.punct("#"):
		ins.Op = ClassRET | RetK
		var err error
		ins.K, err = p.s.number(true, true)
		return err
	case p.reg("a"):
		ins.Op = ClassRET | RetA
		return nil
	case p.regX():
		ins.Op = ClassRET | 0x08 // BPF_RET|BPF_X: bpf_asm writes it, Linux rejects it
		return nil
	}
	t := p.s.peek()
	return errTok(t, "expected #k, a or x after ret, found %s", t.describe())
}
