package spec

import "fmt"

// Register is one of the two registers of the classic BPF machine. The
// values are x/net/bpf's.
type Register uint16

// The registers.
const (
	RegA Register = iota // the accumulator: destination of ALU operations and loads
	RegX                 // the index register
)

func (r Register) name() string {
	if r == RegX {
		return "x"
	}
	return ""
}

// Extension names a Linux ancillary load: the value is the offset after
// AncillaryBase (spec.AncProtocol ...), except ExtLen. The values are
// x/net/bpf's.
type Extension uint32

// The Linux ancillary loads (SKF_AD_*).
const (
	ExtLen               Extension = 1 // the wire length (ld #len; not an SKF_AD offset)
	ExtProto             Extension = AncProtocol
	ExtType              Extension = AncPktType
	ExtInterfaceIndex    Extension = AncIfindex
	ExtNetlinkAttr       Extension = AncNLAttr
	ExtNetlinkAttrNested Extension = AncNLAttrNest
	ExtMark              Extension = AncMark
	ExtQueue             Extension = AncQueue
	ExtLinkLayerType     Extension = AncHaType
	ExtRXHash            Extension = AncRxHash
	ExtCPUID             Extension = AncCPU
	ExtALUXorX           Extension = AncAluXorX
	ExtVLANTag           Extension = AncVLANTag
	ExtVLANTagPresent    Extension = AncVLANTagPresent
	ExtPayloadOffset     Extension = AncPayOffset
	ExtRand              Extension = AncRandom
	ExtVLANProto         Extension = AncVLANTPID
)

// LoadConstant loads Val into register Dst (ld #k, ldx #k).
type LoadConstant struct {
	Dst Register
	Val uint32
}

// Assemble implements Insn.
func (a LoadConstant) Assemble() (Instruction, error) {
	if a.Dst > RegX {
		return Instruction{}, assembleErr("register %d", a.Dst)
	}
	return Instruction{Op: uint16(a.Dst) | ModeIMM, K: a.Val}, nil
}

// String returns the instruction in bpf_asm syntax.
func (a LoadConstant) String() string { return fmt.Sprintf("ld%s #0x%x", a.Dst.name(), a.Val) }

// LoadScratch loads scratch slot N into register Dst (ld M[n], ldx M[n]).
type LoadScratch struct {
	Dst Register
	N   int // 0 to 15
}

// Assemble implements Insn.
func (a LoadScratch) Assemble() (Instruction, error) {
	if a.Dst > RegX {
		return Instruction{}, assembleErr("register %d", a.Dst)
	}
	if a.N < 0 || a.N >= MemWords {
		return Instruction{}, assembleErr("scratch slot %d (want 0 to 15)", a.N)
	}
	return Instruction{Op: uint16(a.Dst) | ModeMEM, K: uint32(a.N)}, nil
}

// String returns the instruction in bpf_asm syntax.
func (a LoadScratch) String() string { return fmt.Sprintf("ld%s M[%d]", a.Dst.name(), a.N) }

// StoreScratch stores register Src into scratch slot N (st M[n], stx M[n]).
type StoreScratch struct {
	Src Register
	N   int // 0 to 15
}

// Assemble implements Insn.
func (a StoreScratch) Assemble() (Instruction, error) {
	if a.Src > RegX {
		return Instruction{}, assembleErr("register %d", a.Src)
	}
	if a.N < 0 || a.N >= MemWords {
		return Instruction{}, assembleErr("scratch slot %d (want 0 to 15)", a.N)
	}
	return Instruction{Op: ClassST + uint16(a.Src), K: uint32(a.N)}, nil
}

// String returns the instruction in bpf_asm syntax.
func (a StoreScratch) String() string { return fmt.Sprintf("st%s M[%d]", a.Src.name(), a.N) }

// LoadAbsolute loads Size bytes at packet offset Off into A, big-endian
// (ld/ldh/ldb [k]). Off may be one of Linux's negative offsets (NetOff,
// LLOff + n); ancillary and record offsets disassemble to LoadExtension
// and LoadRecord.
type LoadAbsolute struct {
	Off  uint32
	Size int // 1, 2 or 4
}

// Assemble implements Insn.
func (a LoadAbsolute) Assemble() (Instruction, error) {
	sz, err := sizeBits(a.Size)
	if err != nil {
		return Instruction{}, err
	}
	return Instruction{Op: ClassLD | sz | ModeABS, K: a.Off}, nil
}

// String returns the instruction in bpf_asm syntax.
func (a LoadAbsolute) String() string { return loadName(a.Size) + " [" + asmNumber(a.Off) + "]" }

// LoadIndirect loads Size bytes at packet offset X+Off into A, big-endian
// (ld/ldh/ldb [x + k]).
type LoadIndirect struct {
	Off  uint32
	Size int // 1, 2 or 4
}

// Assemble implements Insn.
func (a LoadIndirect) Assemble() (Instruction, error) {
	sz, err := sizeBits(a.Size)
	if err != nil {
		return Instruction{}, err
	}
	return Instruction{Op: ClassLD | sz | ModeIND, K: a.Off}, nil
}

// String returns the instruction in bpf_asm syntax.
func (a LoadIndirect) String() string {
	return loadName(a.Size) + " [x + " + asmNumber(a.Off) + "]"
}

// LoadMemShift loads 4*(P[Off]&0xf) into X: the IPv4 header length
// (ldxb 4*([k]&0xf)).
type LoadMemShift struct {
	Off uint32
}

// Assemble implements Insn.
func (a LoadMemShift) Assemble() (Instruction, error) {
	return Instruction{Op: ClassLDX | ModeMSH | SizeB, K: a.Off}, nil
}

// String returns the instruction in bpf_asm syntax.
func (a LoadMemShift) String() string { return "ldxb 4*([" + asmNumber(a.Off) + "]&0xf)" }

// LoadExtension loads a Linux ancillary value into A (ld #proto, ...), or
// the wire length for ExtLen (ld #len). Linux runs ancillary loads of any
// size alike; Size keeps the one encoded (libpcap emits ldb for
// vlan_avail). Size 0 means 4.
type LoadExtension struct {
	Num  Extension
	Size int // 0 (= 4), 1, 2 or 4; must be 0 or 4 for ExtLen
}

// Assemble implements Insn.
func (a LoadExtension) Assemble() (Instruction, error) {
	size := a.Size
	if size == 0 {
		size = 4
	}
	sz, err := sizeBits(size)
	if err != nil {
		return Instruction{}, err
	}
	if a.Num == ExtLen {
		if sz != SizeW {
			return Instruction{}, assembleErr("len loads are 4 bytes, not %d", a.Size)
		}
		return Instruction{Op: ClassLD | SizeW | ModeLEN}, nil
	}
	if _, ok := AncillaryNames[uint32(a.Num)]; !ok {
		return Instruction{}, assembleErr("unknown extension %d", a.Num)
	}
	return Instruction{Op: ClassLD | sz | ModeABS, K: AncillaryBase + uint32(a.Num)}, nil
}

// String returns the instruction in bpf_asm syntax.
func (a LoadExtension) String() string {
	if a.Num == ExtLen {
		return "ld #len"
	}
	size := a.Size
	if size == 0 {
		size = 4
	}
	if name, ok := AncillaryNames[uint32(a.Num)]; ok {
		return loadName(size) + " #" + name
	}
	return fmt.Sprintf("%s #ext%d", loadName(size), a.Num)
}

// LoadLengthX loads the wire length into X (ldx #len).
type LoadLengthX struct{}

// Assemble implements Insn.
func (LoadLengthX) Assemble() (Instruction, error) {
	return Instruction{Op: ClassLDX | SizeW | ModeLEN}, nil
}

// String returns the instruction in bpf_asm syntax.
func (LoadLengthX) String() string { return "ldx #len" }

// LoadRecord loads the Size-byte little-endian field at offset Off of the
// parse Record into A: wring's extension, ld{b,h,w} [RecordBase+Off].
type LoadRecord struct {
	Off  uint32 // a Rec* offset, below RecordSize
	Size int    // 1, 2 or 4
}

// Assemble implements Insn.
func (a LoadRecord) Assemble() (Instruction, error) {
	sz, err := sizeBits(a.Size)
	if err != nil {
		return Instruction{}, err
	}
	if a.Off >= RecordSize {
		return Instruction{}, assembleErr("record offset %d (the record has %d bytes)", a.Off, RecordSize)
	}
	return Instruction{Op: ClassLD | sz | ModeABS, K: RecordBase + a.Off}, nil
}

// String returns the instruction in bpf_asm syntax (the record offset as
// an absolute address).
func (a LoadRecord) String() string {
	return fmt.Sprintf("%s [0x%x]", loadName(a.Size), RecordBase+a.Off)
}

func loadName(size int) string {
	switch size {
	case 1:
		return "ldb"
	case 2:
		return "ldh"
	}
	return "ld"
}
