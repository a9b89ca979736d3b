package rulemaps

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
	"github.com/wringcap/wring/filters/rules"
)

// __sk_buff field offsets (include/uapi/linux/bpf.h).
const (
	skbLen          = 0
	skbQueueMapping = 12
	skbVLANPresent  = 20
	skbVLANTCI      = 24
)

// Helper numbers not named by asm under these names.
const bpfNoExist = 1 // BPF_NOEXIST

// frame is the block's stack layout: every slot lies below top bytes that
// the enclosing program keeps for itself.
type frame struct {
	key, mkey, buf, bkey                            int16
	sport, dport, vlan, et, ver, proto, flags, frag int16
	best, bestIdx, slot, idx, one, result           int16
}

func newFrame(top int16) frame {
	var f frame
	f.key = -top - keySize
	f.mkey = f.key - keySize
	f.buf = f.mkey - 40
	f.bkey = f.buf - bypassKey
	next := f.bkey
	slot := func() int16 { next -= 8; return next }
	f.sport, f.dport, f.vlan, f.et = slot(), slot(), slot(), slot()
	f.ver, f.proto, f.flags, f.frag = slot(), slot(), slot(), slot()
	f.best, f.bestIdx, f.slot, f.idx = slot(), slot(), slot(), slot()
	f.one, f.result = slot(), slot()
	return f
}

// StackBytes is the stack the block uses below the enclosing program's
// own (BlockOptions.StackTop).
const StackBytes = 2*keySize + 40 + bypassKey + 14*8

// BlockOptions say where the block runs.
type BlockOptions struct {
	// Ctx is the register holding the __sk_buff context; the block reads
	// it and leaves it unchanged. It must be R6: the block uses R7 to R9.
	Ctx asm.Register
	// StackTop is how many bytes below the frame pointer the enclosing
	// program keeps; the block's slots lie below them (StackBytes more).
	StackTop int16
	// Done is the label the block jumps to at its end, with R0 holding the
	// result word (Maps.Decode reads it).
	Done string
	// Skip, when set, is where the block jumps instead of Done for a
	// packet the rules keep from being copied: dropped, passed, sampled
	// out or bypassed.
	Skip string
	// Drop, when set with Skip, is where a dropped packet goes instead
	// of Skip (XDP_DROP on the AF_XDP path).
	Drop string
	// Keep, when set, is where the block jumps instead of Done for a
	// packet a keep rule or flow captures: it is copied without the
	// filter (spec/RULES.md, "keep"). Unset, keep decides as capture.
	Keep string
	// XDP builds the block for an XDP program (the context is an xdp_md;
	// frames carry their VLAN tags; the queue is rx_queue_index) instead
	// of a tc one.
	XDP bool
}

// xdp_md's receive queue.
const xdpRxQueueIndex = 16

// block emits the classification block for the maps of m.
func (m *Maps) block(o BlockOptions) (asm.Instructions, error) {
	if o.Ctx != asm.R6 {
		return nil, fmt.Errorf("rulemaps: context register %s: want R6", o.Ctx)
	}
	if o.StackTop < 0 || int(o.StackTop)+StackBytes > 512 {
		return nil, fmt.Errorf("rulemaps: stack top %d: the block needs %d bytes below it within 512", o.StackTop, StackBytes)
	}
	if o.Done == "" {
		return nil, fmt.Errorf("rulemaps: no Done label")
	}
	b := &builder{m: m, ctx: o.Ctx, f: newFrame(o.StackTop), done: o.Done, skip: o.Skip, drop: o.Drop, keep: o.Keep, xdp: o.XDP, off: asm.R7, et: asm.R8, end: asm.R9}
	b.parse()
	b.search()
	b.decide()
	return b.insns, nil
}

type builder struct {
	m            *Maps
	ctx          asm.Register
	off, et, end asm.Register // parse: offset, EtherType (then next header), end of data
	f            frame
	done, skip   string
	drop, keep   string
	xdp          bool
	insns        asm.Instructions
	n            int
	pending      string // label for the next instruction
}

func (b *builder) emit(ins ...asm.Instruction) {
	if b.pending != "" && len(ins) > 0 {
		if ins[0].Symbol() != "" {
			b.insns = append(b.insns, asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Ja)}.WithSymbol(b.pending))
		} else {
			ins[0] = ins[0].WithSymbol(b.pending)
		}
		b.pending = ""
	}
	b.insns = append(b.insns, ins...)
}

// label returns a fresh label.
func (b *builder) label(name string) string {
	b.n++
	return fmt.Sprintf("wring_rules_%s_%d", name, b.n)
}

// mark puts label l on the next instruction emitted; two labels in a row
// get a no-op (ja +0) between them.
func (b *builder) mark(l string) {
	if b.pending != "" {
		b.emit(asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Ja)})
	}
	b.pending = l
}

// load copies n bytes at off+add of the packet into the buffer; a failure
// (which the length checks before every call rule out) leaves the packet
// unclassified.
func (b *builder) load(add, n int32) {
	b.emit(
		asm.Mov.Reg(asm.R1, b.ctx),
		asm.Mov.Reg(asm.R2, b.off),
		asm.Add.Imm(asm.R2, add),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, int32(b.f.buf)),
		asm.Mov.Imm(asm.R4, n),
	)
	if b.xdp {
		b.emit(asm.FnXdpLoadBytes.Call())
	} else {
		b.emit(asm.FnSkbLoadBytes.Call())
	}
	b.emit(asm.JNE.Imm(asm.R0, 0, "wring_rules_unclassified"))
}

// frameLen sets dst to the frame's length (clobbers R0 to R5 for XDP).
func (b *builder) frameLen(dst asm.Register) {
	if b.xdp {
		b.emit(asm.Mov.Reg(asm.R1, b.ctx), asm.FnXdpGetBuffLen.Call(), asm.Mov.Reg(dst, asm.R0))
		return
	}
	b.emit(asm.LoadMem(dst, b.ctx, skbLen, asm.Word))
}

// be loads a big-endian field of the buffer into dst.
func (b *builder) be(dst asm.Register, at int16, size asm.Size) {
	b.emit(asm.LoadMem(dst, asm.RFP, b.f.buf+at, size))
	if size != asm.Byte {
		b.emit(asm.HostTo(asm.BE, dst, size))
	}
}

// need jumps to fail unless off+n <= end.
func (b *builder) need(n int32, fail string) {
	b.emit(
		asm.Mov.Reg(asm.R1, b.off),
		asm.Add.Imm(asm.R1, n),
		asm.JGT.Reg(asm.R1, b.end, fail),
	)
}

func (b *builder) store(slot int16, r asm.Register) {
	b.emit(asm.StoreMem(asm.RFP, slot, r, asm.DWord))
}
func (b *builder) ld(r asm.Register, slot int16) { b.emit(asm.LoadMem(r, asm.RFP, slot, asm.DWord)) }
func (b *builder) storeImm(slot int16, v int32) {
	b.emit(asm.Mov.Imm(asm.R1, v), asm.StoreMem(asm.RFP, slot, asm.R1, asm.DWord))
}

// parse fills the key from the frame as capture/packet.Parse and
// rules.KeyFromRecord do for an Ethernet frame (spec/RECORD.md), with the
// kernel's VLAN tag metadata as the outer tag.
func (b *builder) parse() {
	f := b.f
	const (
		keyDone = "wring_rules_keydone"
		etDone  = "wring_rules_etdone"
		ipv4    = "wring_rules_ipv4"
		ipv6    = "wring_rules_ipv6"
		tport   = "wring_rules_transport"
		l3      = "wring_rules_l3"
		setNH   = "wring_rules_setnh"
	)
	b.emit(asm.Mov.Imm(asm.R0, 0))
	for w := int16(0); w < 6; w++ {
		b.store(f.key+8*w, asm.R0)
	}
	for _, s := range []int16{f.sport, f.dport, f.vlan, f.et, f.ver, f.proto, f.flags, f.frag} {
		b.store(s, asm.R0)
	}
	b.frameLen(b.end)
	b.emit(
		asm.JLT.Imm(b.end, 14, keyDone),
		asm.Mov.Imm(b.off, 0),
	)
	b.load(12, 2)
	b.be(b.et, 0, asm.Half)
	b.emit(asm.Mov.Imm(b.off, 14))
	if !b.xdp {
		// A tag the kernel holds in metadata is the outer one. (XDP has
		// no tag metadata: the frame holds its tags.)
		b.emit(
			asm.LoadMem(asm.R1, b.ctx, skbVLANPresent, asm.Word),
			asm.JEq.Imm(asm.R1, 0, "wring_rules_notag"),
			asm.LoadMem(asm.R1, b.ctx, skbVLANTCI, asm.Word),
			asm.And.Imm(asm.R1, 0xfff),
			asm.Or.Imm(asm.R1, 0x8000),
			asm.StoreMem(asm.RFP, f.vlan, asm.R1, asm.DWord),
			asm.Ja.Label("wring_rules_vlans"),
		)
		b.mark("wring_rules_notag")
	}
	// An 802.3 length: only LLC/SNAP with OUI 0 carries an EtherType.
	b.emit(asm.JGE.Imm(b.et, 0x0600, "wring_rules_vlans"))
	b.need(8, keyDone)
	b.load(0, 8)
	b.emit(
		asm.LoadMem(asm.R1, asm.RFP, f.buf, asm.DWord),
		asm.LoadImm(asm.R2, 0xffff_ffff_ffff, asm.DWord),
		asm.And.Reg(asm.R1, asm.R2),
		asm.JNE.Imm(asm.R1, 0x0003_aaaa, keyDone),
	)
	b.be(b.et, 6, asm.Half)
	b.emit(asm.Add.Imm(b.off, 8))
	// VLAN tags, unrolled.
	b.mark("wring_rules_vlans")
	for i := 0; i <= MaxVLANTags; i++ {
		tag, next := b.label("tag"), b.label("vlan")
		b.emit(
			asm.JEq.Imm(b.et, 0x8100, tag),
			asm.JEq.Imm(b.et, 0x88a8, tag),
			asm.JEq.Imm(b.et, 0x9100, tag),
			asm.Ja.Label("wring_rules_pppoe"),
		)
		if i == MaxVLANTags {
			b.emit(asm.Ja.Label("wring_rules_unclassified").WithSymbol(tag))
			break
		}
		b.mark(tag)
		b.need(4, etDone)
		b.load(0, 4)
		b.ld(asm.R1, f.vlan)
		b.emit(asm.JNE.Imm(asm.R1, 0, next))
		b.be(asm.R1, 0, asm.Half)
		b.emit(asm.And.Imm(asm.R1, 0xfff), asm.Or.Imm(asm.R1, 0x8000))
		b.store(f.vlan, asm.R1)
		b.mark(next)
		b.be(b.et, 2, asm.Half)
		b.emit(asm.Add.Imm(b.off, 4))
	}
	// PPPoE session: what PPP carries.
	b.emit(asm.JNE.Imm(b.et, 0x8864, "wring_rules_mpls").WithSymbol("wring_rules_pppoe"))
	b.need(8, etDone)
	b.load(0, 8)
	b.be(asm.R1, 0, asm.Half)
	b.emit(asm.JNE.Imm(asm.R1, 0x1100, "wring_rules_mpls"))
	b.be(asm.R1, 6, asm.Half)
	for _, pe := range [][2]int32{{0x0021, 0x0800}, {0x0057, 0x86dd}, {0x0281, 0x8847}, {0x0283, 0x8848}} {
		l := b.label("ppp")
		b.emit(
			asm.JNE.Imm(asm.R1, pe[0], l),
			asm.Mov.Imm(b.et, pe[1]),
			asm.Add.Imm(b.off, 8),
			asm.Ja.Label("wring_rules_mpls"),
		)
		b.mark(l)
	}
	// MPLS: down to the bottom of the stack, then guess IP from the
	// version nibble.
	b.emit(
		asm.JEq.Imm(b.et, 0x8847, "wring_rules_labels").WithSymbol("wring_rules_mpls"),
		asm.JEq.Imm(b.et, 0x8848, "wring_rules_labels"),
		asm.Ja.Label(l3),
	)
	b.mark("wring_rules_labels")
	for i := 1; i <= 16; i++ {
		b.need(4, etDone)
		b.load(0, 4)
		b.emit(asm.Add.Imm(b.off, 4))
		b.be(asm.R1, 2, asm.Byte)
		b.emit(asm.And.Imm(asm.R1, 1), asm.JNE.Imm(asm.R1, 0, "wring_rules_bos"))
	}
	b.emit(asm.Ja.Label(etDone))
	b.emit(asm.JGE.Reg(b.off, b.end, l3).WithSymbol("wring_rules_bos"))
	b.load(0, 1)
	b.be(asm.R1, 0, asm.Byte)
	b.emit(
		asm.RSh.Imm(asm.R1, 4),
		asm.JNE.Imm(asm.R1, 4, "wring_rules_not4"),
		asm.Mov.Imm(b.et, 0x0800),
		asm.Ja.Label(l3),
		asm.JNE.Imm(asm.R1, 6, l3).WithSymbol("wring_rules_not4"),
		asm.Mov.Imm(b.et, 0x86dd),
	)
	// The network layer.
	b.mark(l3)
	b.store(f.et, b.et)
	b.emit(
		asm.JEq.Imm(b.et, 0x0800, ipv4),
		asm.JEq.Imm(b.et, 0x86dd, ipv6),
		asm.Ja.Label(keyDone),
		// A truncated tag or label stack: the EtherType so far.
		asm.StoreMem(asm.RFP, f.et, b.et, asm.DWord).WithSymbol(etDone),
		asm.Ja.Label(keyDone),
	)
	b.ipv4(ipv4, tport, keyDone)
	b.ipv6(ipv6, tport, keyDone, setNH)
	b.transport(tport, keyDone)
	b.keyWords(keyDone)
	b.launder()
}

// launderSlots are the stack slots the rest of the block reads: the key
// and the parse results.
func (f frame) launderSlots() []int16 {
	s := []int16{f.sport, f.dport, f.vlan, f.et, f.ver, f.proto, f.flags, f.frag}
	for w := int16(0); w < 6; w++ {
		s = append(s, f.key+8*w)
	}
	return s
}

// launder passes the parse results through this CPU's scratch map value
// and back. The verifier tracks what the parse stored on the stack, path
// by path, and cannot prune the search that follows while the paths
// differ; values read back from a map are unknown to it, so every parse
// path reaches the search in one state. It costs a lookup and twenty
// loads and stores per packet.
func (b *builder) launder() {
	f := b.f
	b.emit(asm.Mov.Imm(asm.R1, 0))
	b.store(f.slot, asm.R1)
	b.lookup(b.m.scratch.FD(), f.slot)
	b.emit(asm.JEq.Imm(asm.R0, 0, "wring_rules_unclassified"))
	for i, s := range f.launderSlots() {
		b.ld(asm.R1, s)
		b.emit(asm.StoreMem(asm.R0, int16(8*i), asm.R1, asm.DWord))
	}
	for i, s := range f.launderSlots() {
		b.emit(asm.LoadMem(asm.R1, asm.R0, int16(8*i), asm.DWord))
		b.store(s, asm.R1)
	}
}

func (b *builder) ipv4(entry, tport, keyDone string) {
	f := b.f
	b.mark(entry)
	b.need(20, keyDone)
	b.load(0, 20)
	b.be(asm.R1, 0, asm.Byte)
	b.emit(
		asm.Mov.Reg(asm.R2, asm.R1),
		asm.RSh.Imm(asm.R2, 4),
		asm.JNE.Imm(asm.R2, 4, keyDone),
		asm.And.Imm(asm.R1, 0xf),
		asm.LSh.Imm(asm.R1, 2), // IHL in bytes
	)
	b.be(asm.R2, 2, asm.Half) // total length
	b.emit(
		asm.JNE.Imm(asm.R2, 0, "wring_rules_v4total"),
		asm.Mov.Reg(asm.R2, b.end),
		asm.Sub.Reg(asm.R2, b.off),
		asm.JLT.Imm(asm.R1, 20, keyDone).WithSymbol("wring_rules_v4total"),
		asm.JLT.Reg(asm.R2, asm.R1, keyDone),
	)
	b.storeImmR(f.ver, 4)
	b.be(asm.R3, 9, asm.Byte)
	b.store(f.proto, asm.R3)
	b.be(asm.R3, 12, asm.Word)
	b.emit(asm.LSh.Imm(asm.R3, 32))
	b.store(f.key, asm.R3)
	b.be(asm.R3, 16, asm.Word)
	b.emit(asm.LSh.Imm(asm.R3, 32))
	b.store(f.key+16, asm.R3)
	b.be(asm.R3, 6, asm.Half)
	b.emit(
		asm.Mov.Reg(asm.R4, asm.R3),
		asm.And.Imm(asm.R4, 0x1fff), // a later fragment
		asm.And.Imm(asm.R3, 0x2000),
		asm.Or.Reg(asm.R3, asm.R4),
		asm.JEq.Imm(asm.R3, 0, "wring_rules_v4nofrag"),
		asm.Mov.Imm(asm.R3, 1),
		asm.StoreMem(asm.RFP, f.frag, asm.R3, asm.DWord),
		// end = min(off+total, end)
		asm.Add.Reg(asm.R2, b.off).WithSymbol("wring_rules_v4nofrag"),
		asm.JGE.Reg(asm.R2, b.end, "wring_rules_v4end"),
		asm.Mov.Reg(b.end, asm.R2),
		asm.Add.Reg(b.off, asm.R1).WithSymbol("wring_rules_v4end"),
		asm.JGT.Reg(b.off, b.end, keyDone),
		asm.JNE.Imm(asm.R4, 0, keyDone),
		asm.Ja.Label(tport),
	)
}

// storeImmR stores a constant through R5 (keeping R1 to R4).
func (b *builder) storeImmR(slot int16, v int32) {
	b.emit(asm.Mov.Imm(asm.R5, v), asm.StoreMem(asm.RFP, slot, asm.R5, asm.DWord))
}

func (b *builder) ipv6(entry, tport, keyDone, setNH string) {
	f := b.f
	nh := b.et
	b.mark(entry)
	b.need(40, keyDone)
	b.load(0, 40)
	b.be(asm.R1, 0, asm.Byte)
	b.emit(asm.RSh.Imm(asm.R1, 4), asm.JNE.Imm(asm.R1, 6, keyDone))
	b.storeImmR(f.ver, 6)
	for w := int16(0); w < 4; w++ {
		b.be(asm.R1, 8+8*w, asm.DWord)
		b.store(f.key+8*w, asm.R1)
	}
	b.be(nh, 6, asm.Byte)
	b.be(asm.R2, 4, asm.Half) // payload length
	b.emit(
		asm.JNE.Imm(asm.R2, 0, "wring_rules_v6len"),
		asm.JNE.Imm(nh, 0, "wring_rules_v6len"),
		// A jumbogram: the captured bytes.
		asm.Mov.Reg(asm.R2, b.end),
		asm.Sub.Reg(asm.R2, b.off),
		asm.Add.Imm(asm.R2, -40),
		asm.Add.Reg(asm.R2, b.off).WithSymbol("wring_rules_v6len"),
		asm.Add.Imm(asm.R2, 40),
		asm.JGE.Reg(asm.R2, b.end, "wring_rules_v6end"),
		asm.Mov.Reg(b.end, asm.R2),
		asm.Add.Imm(b.off, 40).WithSymbol("wring_rules_v6end"),
	)
	const ipv6MaxExt = 8 // packet.MaxIPv6ExtHeaders
	for i := 0; i <= ipv6MaxExt; i++ {
		ext, ah, frag, common := b.label("ext"), b.label("ah"), b.label("frag"), b.label("hdr")
		b.emit(asm.JEq.Imm(nh, 44, frag), asm.JEq.Imm(nh, 51, ah))
		for _, p := range []int32{0, 43, 60, 135, 139, 140, 253, 254} {
			b.emit(asm.JEq.Imm(nh, p, ext))
		}
		b.emit(asm.StoreMem(asm.RFP, f.proto, nh, asm.DWord), asm.Ja.Label(tport))
		// Hop-by-hop and the others: length in 8-octet units.
		b.mark(ext)
		b.need(2, setNH)
		b.load(0, 2)
		b.be(asm.R5, 1, asm.Byte)
		b.emit(asm.Add.Imm(asm.R5, 1), asm.LSh.Imm(asm.R5, 3), asm.Ja.Label(common))
		// AH: length in 4-octet units, minus 2.
		b.mark(ah)
		b.need(2, setNH)
		b.load(0, 2)
		b.be(asm.R5, 1, asm.Byte)
		b.emit(asm.Add.Imm(asm.R5, 2), asm.LSh.Imm(asm.R5, 2), asm.Ja.Label(common))
		// Fragment.
		b.mark(frag)
		b.need(8, setNH)
		b.load(0, 8)
		b.emit(asm.Mov.Imm(asm.R5, 8))
		b.be(asm.R1, 2, asm.Half)
		nf := b.label("nofrag")
		b.emit(
			asm.Mov.Reg(asm.R2, asm.R1),
			asm.And.Imm(asm.R2, 0xfff8),
			asm.And.Imm(asm.R1, 1),
			asm.Or.Reg(asm.R1, asm.R2),
			asm.JEq.Imm(asm.R1, 0, nf),
			asm.Mov.Imm(asm.R1, 1),
			asm.StoreMem(asm.RFP, f.frag, asm.R1, asm.DWord),
		)
		b.mark(nf)
		b.emit(asm.JEq.Imm(asm.R2, 0, common))
		// A later fragment: its next header is the protocol, no transport.
		b.be(asm.R1, 0, asm.Byte)
		b.store(f.proto, asm.R1)
		b.emit(asm.Ja.Label(keyDone))
		b.mark(common)
		if i == ipv6MaxExt {
			// Too long a chain: this header's number, no transport.
			b.emit(asm.Ja.Label(setNH))
			break
		}
		b.be(nh, 0, asm.Byte)
		b.emit(
			asm.Mov.Reg(asm.R1, b.off),
			asm.Add.Reg(asm.R1, asm.R5),
			asm.JGT.Reg(asm.R1, b.end, setNH),
			asm.Mov.Reg(b.off, asm.R1),
		)
	}
	b.emit(
		asm.StoreMem(asm.RFP, f.proto, nh, asm.DWord).WithSymbol(setNH),
		asm.Ja.Label(keyDone),
	)
}

// transport reads the ports of TCP, UDP and SCTP and the TCP flags, when
// their bytes lie within the datagram (off to end).
func (b *builder) transport(entry, keyDone string) {
	f := b.f
	b.mark(entry)
	b.ld(asm.R1, f.proto)
	b.emit(
		asm.JEq.Imm(asm.R1, rules.ProtoTCP, "wring_rules_ports"),
		asm.JEq.Imm(asm.R1, rules.ProtoUDP, "wring_rules_ports"),
		asm.JEq.Imm(asm.R1, rules.ProtoSCTP, "wring_rules_ports"),
		asm.Ja.Label(keyDone),
	)
	b.mark("wring_rules_ports")
	b.need(4, keyDone)
	b.load(0, 4)
	b.be(asm.R1, 0, asm.Half)
	b.store(f.sport, asm.R1)
	b.be(asm.R1, 2, asm.Half)
	b.store(f.dport, asm.R1)
	b.ld(asm.R1, f.proto)
	b.emit(asm.JNE.Imm(asm.R1, rules.ProtoTCP, keyDone))
	b.need(20, keyDone)
	b.load(13, 1)
	b.be(asm.R1, 0, asm.Byte)
	b.store(f.flags, asm.R1)
}

// keyWords assembles words 4 and 5 of the key.
func (b *builder) keyWords(entry string) {
	f := b.f
	b.mark(entry)
	b.ld(asm.R1, f.sport)
	b.emit(asm.LSh.Imm(asm.R1, 48))
	for _, p := range []struct {
		slot  int16
		shift int32
	}{{f.dport, 32}, {f.vlan, 16}, {f.et, 0}} {
		b.ld(asm.R2, p.slot)
		if p.shift != 0 {
			b.emit(asm.LSh.Imm(asm.R2, p.shift))
		}
		b.emit(asm.Or.Reg(asm.R1, asm.R2))
	}
	b.store(f.key+32, asm.R1)
	b.emit(
		asm.LoadMem(asm.R1, b.ctx, b.queueField(), asm.Word),
		asm.And.Imm(asm.R1, 0xffff),
		asm.LSh.Imm(asm.R1, 48),
	)
	for _, p := range []struct {
		slot  int16
		shift int32
	}{{f.ver, 40}, {f.proto, 32}, {f.flags, 24}} {
		b.ld(asm.R2, p.slot)
		b.emit(asm.LSh.Imm(asm.R2, p.shift), asm.Or.Reg(asm.R1, asm.R2))
	}
	b.store(f.key+40, asm.R1)
}

// lookup calls bpf_map_lookup_elem(map, fp+keySlot); R0 is the value or
// NULL.
func (b *builder) lookup(fd int, keySlot int16) {
	b.emit(
		asm.LoadMapPtr(asm.R1, fd),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, int32(keySlot)),
		asm.FnMapLookupElem.Call(),
	)
}

// search finds the rule: the exact flow table, then the tuples.
func (b *builder) search() {
	f := b.f
	// The flow key: the key masked with rules.FlowMask.
	b.emit(asm.LoadImm(asm.R3, -1<<16, asm.DWord), asm.LoadImm(asm.R4, 0xffff<<32, asm.DWord))
	for w := int16(0); w < 6; w++ {
		b.ld(asm.R1, f.key+8*w)
		switch w {
		case 4:
			b.emit(asm.And.Reg(asm.R1, asm.R3))
		case 5:
			b.emit(asm.And.Reg(asm.R1, asm.R4))
		}
		b.store(f.mkey+8*w, asm.R1)
	}
	b.lookup(b.m.flows.FD(), f.mkey)
	b.emit(
		asm.JEq.Imm(asm.R0, 0, "wring_rules_wild"),
		asm.LoadMem(asm.R1, asm.R0, 8, asm.Word),
		asm.StoreMem(asm.RFP, f.idx, asm.R1, asm.DWord),
		asm.Ja.Label("wring_rules_decide"),
	)
	// The tuples of the active generation, in order, at most MaxTuples.
	const (
		i    = asm.R7
		base = asm.R8
		n    = asm.R9
	)
	b.emit(
		asm.Mov.Imm(asm.R1, 0).WithSymbol("wring_rules_wild"),
		asm.StoreMem(asm.RFP, f.slot, asm.R1, asm.DWord),
	)
	b.lookup(b.m.active.FD(), f.slot)
	b.emit(
		asm.JEq.Imm(asm.R0, 0, "wring_rules_nomatch"),
		asm.LoadMem(base, asm.R0, 0, asm.Word),
		asm.Mul.Imm(base, MaxTuples),
		asm.LoadMem(n, asm.R0, 4, asm.Word),
		asm.JLE.Imm(n, MaxTuples, "wring_rules_nok"),
		asm.Mov.Imm(n, MaxTuples),
		asm.Mov.Imm(i, 0).WithSymbol("wring_rules_nok"),
		// best starts as the worst rank, so the early stop needs no
		// "found yet" test; bestIdx says at the end whether a rule was
		// found (a rule whose rank is the worst one still takes it: hits
		// of a rank no better than best are taken, and ranks are unique).
		asm.Mov.Imm(asm.R1, -1),
		asm.StoreMem(asm.RFP, f.best, asm.R1, asm.DWord),
		asm.Mov.Imm32(asm.R1, -1),
		asm.StoreMem(asm.RFP, f.bestIdx, asm.R1, asm.DWord),
		// loop:
		asm.JGE.Reg(i, n, "wring_rules_tdone").WithSymbol("wring_rules_loop"),
		asm.Mov.Reg(asm.R1, base),
		asm.Add.Reg(asm.R1, i),
		asm.StoreMem(asm.RFP, f.slot, asm.R1, asm.DWord),
	)
	b.lookup(b.m.desc.FD(), f.slot)
	b.emit(
		asm.JEq.Imm(asm.R0, 0, "wring_rules_tdone"),
		// Stop once no rule of this tuple (nor of the later ones) can win.
		asm.LoadMem(asm.R1, asm.R0, 48, asm.DWord),
		asm.LoadMem(asm.R2, asm.RFP, f.best, asm.DWord),
		asm.JGT.Reg(asm.R1, asm.R2, "wring_rules_tdone"),
	)
	for w := int16(0); w < 6; w++ {
		b.ld(asm.R1, f.key+8*w)
		b.emit(asm.LoadMem(asm.R2, asm.R0, 8*w, asm.DWord), asm.And.Reg(asm.R1, asm.R2))
		b.store(f.mkey+8*w, asm.R1)
	}
	b.lookup(b.m.tuples.FD(), f.slot)
	b.emit(
		asm.JEq.Imm(asm.R0, 0, "wring_rules_next"),
		asm.Mov.Reg(asm.R1, asm.R0),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, int32(f.mkey)),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "wring_rules_next"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.LoadMem(asm.R2, asm.RFP, f.best, asm.DWord),
		asm.JGT.Reg(asm.R1, asm.R2, "wring_rules_next"),
		asm.StoreMem(asm.RFP, f.best, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R0, 8, asm.Word),
		asm.StoreMem(asm.RFP, f.bestIdx, asm.R1, asm.DWord),
		asm.Add.Imm(i, 1).WithSymbol("wring_rules_next"),
		asm.Ja.Label("wring_rules_loop"),
		asm.LoadMem(asm.R1, asm.RFP, f.bestIdx, asm.DWord).WithSymbol("wring_rules_tdone"),
		asm.JEq.Imm32(asm.R1, -1, "wring_rules_nomatch"),
		asm.StoreMem(asm.RFP, f.idx, asm.R1, asm.DWord),
	)
}

// decide counts the packet on its rule and applies the action.
func (b *builder) decide() {
	f := b.f
	const rule = asm.R7
	b.mark("wring_rules_decide")
	b.lookup(b.m.rules.FD(), f.idx)
	b.emit(
		asm.JEq.Imm(asm.R0, 0, "wring_rules_unclassified"),
		asm.Mov.Reg(rule, asm.R0),
	)
	b.lookup(b.m.counts.FD(), f.idx)
	b.emit(
		asm.JEq.Imm(asm.R0, 0, "wring_rules_counted"),
		asm.Mov.Reg(asm.R8, asm.R0),
		asm.LoadMem(asm.R1, asm.R8, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R8, 0, asm.R1, asm.DWord),
	)
	// Bytes: the wire length as userspace sees it, with the tag the
	// kernel holds in metadata put back.
	if b.xdp {
		b.frameLen(asm.R2)
	} else {
		b.emit(
			asm.LoadMem(asm.R2, b.ctx, skbLen, asm.Word),
			asm.LoadMem(asm.R3, b.ctx, skbVLANPresent, asm.Word),
			asm.JEq.Imm(asm.R3, 0, "wring_rules_untagged"),
			asm.Add.Imm(asm.R2, 4),
		)
	}
	b.mark("wring_rules_untagged")
	b.emit(
		asm.LoadMem(asm.R1, asm.R8, 8, asm.DWord),
		asm.Add.Reg(asm.R1, asm.R2),
		asm.StoreMem(asm.R8, 8, asm.R1, asm.DWord),
		asm.FnKtimeGetTaiNs.Call(),
		asm.StoreMem(asm.R8, 16, asm.R0, asm.DWord),
		asm.LoadMem(asm.R1, rule, ruleVerb, asm.Byte).WithSymbol("wring_rules_counted"),
	)
	if b.keep != "" {
		b.emit(asm.JEq.Imm(asm.R1, int32(rules.VerbKeep), "wring_rules_verb_keep"))
	}
	b.emit(
		asm.JEq.Imm(asm.R1, int32(rules.VerbDrop), "wring_rules_out1"),
		asm.JEq.Imm(asm.R1, int32(rules.VerbPass), "wring_rules_out2"),
		asm.JEq.Imm(asm.R1, int32(rules.VerbSample), "wring_rules_sample"),
		asm.JEq.Imm(asm.R1, int32(rules.VerbBypass), "wring_rules_bypass"),
		asm.Ja.Label("wring_rules_out0"),
		// sample N
		asm.LoadMem(asm.R1, rule, ruleN, asm.Word).WithSymbol("wring_rules_sample"),
		asm.JLE.Imm(asm.R1, 1, "wring_rules_out0"),
		asm.LoadMem(asm.R2, rule, rulePerFlow, asm.Byte),
		asm.JNE.Imm(asm.R2, 0, "wring_rules_sflow"),
	)
	// Per packet: the rule's shared count, (k-1) mod N == 0.
	b.lookup(b.m.seq.FD(), f.idx)
	b.emit(
		asm.JEq.Imm(asm.R0, 0, "wring_rules_out0"),
		asm.Mov.Imm(asm.R1, 1),
		fetchAdd(asm.R0, asm.R1),
		asm.LoadMem(asm.R2, rule, ruleN, asm.Word),
		asm.Mod.Reg(asm.R1, asm.R2),
		asm.JEq.Imm(asm.R1, 0, "wring_rules_out0"),
		asm.Ja.Label("wring_rules_out3"),
	)
	// Per flow: h*N < 2^32.
	b.mark("wring_rules_sflow")
	b.flowHash()
	b.emit(
		asm.LoadMem(asm.R1, rule, ruleN, asm.Word),
		asm.Mul.Reg(asm.R0, asm.R1),
		asm.RSh.Imm(asm.R0, 32),
		asm.JEq.Imm(asm.R0, 0, "wring_rules_out0"),
		asm.Ja.Label("wring_rules_out3"),
	)
	// bypass after N: count the (canonical flow, rule) pair.
	b.mark("wring_rules_bypass")
	b.canonical()
	b.lookup(b.m.bypass.FD(), f.bkey)
	b.emit(
		asm.JNE.Imm(asm.R0, 0, "wring_rules_bcount"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreMem(asm.RFP, f.one, asm.R1, asm.DWord),
		asm.LoadMapPtr(asm.R1, b.m.bypass.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, int32(f.bkey)),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, int32(f.one)),
		asm.Mov.Imm(asm.R4, bpfNoExist),
		asm.FnMapUpdateElem.Call(),
		asm.Mov.Imm(asm.R1, 1),
		asm.JEq.Imm(asm.R0, 0, "wring_rules_bcmp"),
	)
	// Another CPU added the flow first: count on its entry.
	b.lookup(b.m.bypass.FD(), f.bkey)
	b.emit(
		asm.JNE.Imm(asm.R0, 0, "wring_rules_bcount"),
	)
	// The table refused the entry: capture, counted.
	b.bumpStat(statBypassFull)
	b.emit(
		asm.Ja.Label("wring_rules_out0"),
		asm.Mov.Imm(asm.R1, 1).WithSymbol("wring_rules_bcount"),
		fetchAdd(asm.R0, asm.R1),
		asm.Add.Imm(asm.R1, 1),
		asm.LoadMem(asm.R2, rule, ruleN, asm.Word).WithSymbol("wring_rules_bcmp"),
		asm.JGT.Reg(asm.R1, asm.R2, "wring_rules_out4"),
		asm.Ja.Label("wring_rules_out0"),
	)
	// Results: outcome<<24 | index+1, counted per outcome.
	for o := int32(0); o <= outBypassed; o++ {
		b.emit(
			asm.LoadMem(asm.R1, asm.RFP, f.idx, asm.DWord).WithSymbol(fmt.Sprintf("wring_rules_out%d", o)),
			asm.Add.Imm(asm.R1, 1),
			asm.Or.Imm(asm.R1, o<<resultOutcomeShift),
			asm.StoreMem(asm.RFP, f.result, asm.R1, asm.DWord),
		)
		b.bumpStat(statCaptured + int(o))
		b.emit(asm.Ja.Label("wring_rules_result"))
	}
	if b.keep != "" {
		// keep: captured, and the result says to skip the filter.
		b.emit(
			asm.LoadMem(asm.R1, asm.RFP, f.idx, asm.DWord).WithSymbol("wring_rules_verb_keep"),
			asm.Add.Imm(asm.R1, 1),
			asm.Or.Imm(asm.R1, outCapture<<resultOutcomeShift|resultKeep),
			asm.StoreMem(asm.RFP, f.result, asm.R1, asm.DWord),
		)
		b.bumpStat(statCaptured)
		b.emit(asm.Ja.Label("wring_rules_result"))
	}
	b.emit(
		asm.Mov.Imm(asm.R1, 0).WithSymbol("wring_rules_nomatch"),
		asm.StoreMem(asm.RFP, f.result, asm.R1, asm.DWord),
	)
	b.bumpStat(statNoMatch)
	b.bumpStat(statCaptured)
	b.emit(
		asm.Ja.Label("wring_rules_result"),
		asm.LoadImm(asm.R1, resultUnclassified, asm.DWord).WithSymbol("wring_rules_unclassified"),
		asm.StoreMem(asm.RFP, f.result, asm.R1, asm.DWord),
	)
	b.bumpStat(statUnclassified)
	b.emit(asm.LoadMem(asm.R0, asm.RFP, f.result, asm.DWord).WithSymbol("wring_rules_result"))
	if b.skip != "" {
		b.emit(
			asm.Mov.Reg(asm.R1, asm.R0),
			asm.RSh.Imm(asm.R1, resultOutcomeShift),
			asm.And.Imm(asm.R1, resultOutcomeMask),
		)
		if b.drop != "" {
			b.emit(asm.JEq.Imm(asm.R1, outDrop, b.drop))
		}
		b.emit(asm.JNE.Imm(asm.R1, outCapture, b.skip))
	}
	// Leave no state of the search in R7 to R9 for the verifier to tell
	// apart in the code that follows (the filter).
	b.emit(asm.Mov.Imm(asm.R7, 0), asm.Mov.Imm(asm.R8, 0), asm.Mov.Imm(asm.R9, 0))
	if b.keep != "" {
		b.emit(
			asm.Mov.Reg(asm.R1, asm.R0),
			asm.RSh.Imm(asm.R1, 30),
			asm.And.Imm(asm.R1, 1),
			asm.JNE.Imm(asm.R1, 0, b.keep),
		)
	}
	b.emit(asm.Ja.Label(b.done))
}

// bumpStat adds one to this CPU's statistic s (clobbers R0 to R5): in
// the XDP block, in the entry of the frame's receive queue (queues from
// MaxQueues up share the last entry); in the tc block, in entry 0.
func (b *builder) bumpStat(s int) {
	l := b.label("stat")
	if b.xdp {
		b.emit(
			asm.LoadMem(asm.R1, b.ctx, xdpRxQueueIndex, asm.Word),
			asm.JLT.Imm(asm.R1, MaxQueues, l+"_key"),
			asm.Mov.Imm(asm.R1, MaxQueues),
			asm.StoreMem(asm.RFP, b.f.slot, asm.R1, asm.DWord).WithSymbol(l+"_key"),
		)
	} else {
		b.emit(
			asm.Mov.Imm(asm.R1, 0),
			asm.StoreMem(asm.RFP, b.f.slot, asm.R1, asm.DWord),
		)
	}
	b.lookup(b.m.stats.FD(), b.f.slot)
	b.emit(
		asm.JEq.Imm(asm.R0, 0, l),
		asm.LoadMem(asm.R1, asm.R0, int16(8*s), asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, int16(8*s), asm.R1, asm.DWord),
	)
	b.mark(l)
}

// canonical writes the bypass key: the flow part of the key with the
// endpoints ordered (rules.Canonical), then the rule's id.
func (b *builder) canonical() {
	f := b.f
	k := func(r asm.Register, w int16) { b.ld(r, f.key+8*w) }
	// R1..R4: addresses; R5: ports
	k(asm.R1, 0)
	k(asm.R2, 1)
	k(asm.R3, 2)
	k(asm.R4, 3)
	k(asm.R5, 4)
	b.emit(
		asm.RSh.Imm(asm.R5, 32), // sport<<16 | dport
		asm.JGT.Reg(asm.R1, asm.R3, "wring_rules_swap"),
		asm.JNE.Reg(asm.R1, asm.R3, "wring_rules_keep"),
		asm.JGT.Reg(asm.R2, asm.R4, "wring_rules_swap"),
		asm.JNE.Reg(asm.R2, asm.R4, "wring_rules_keep"),
		asm.Mov.Reg(asm.R0, asm.R5),
		asm.RSh.Imm(asm.R0, 16),
		asm.And.Imm(asm.R5, 0xffff),
		asm.JGT.Reg(asm.R0, asm.R5, "wring_rules_swapeq"),
		asm.Ja.Label("wring_rules_keep"),
		// Swap endpoints: addresses and ports.
		asm.Mov.Reg(asm.R0, asm.R5).WithSymbol("wring_rules_swap"),
		asm.RSh.Imm(asm.R0, 16),
		asm.And.Imm(asm.R5, 0xffff),
		asm.Mov.Reg(asm.R0, asm.R0).WithSymbol("wring_rules_swapeq"),
		asm.StoreMem(asm.RFP, f.bkey, asm.R3, asm.DWord),
		asm.StoreMem(asm.RFP, f.bkey+8, asm.R4, asm.DWord),
		asm.StoreMem(asm.RFP, f.bkey+16, asm.R1, asm.DWord),
		asm.StoreMem(asm.RFP, f.bkey+24, asm.R2, asm.DWord),
		// ports: dport<<48 | sport<<32
		asm.LSh.Imm(asm.R5, 48),
		asm.LSh.Imm(asm.R0, 32),
		asm.Or.Reg(asm.R5, asm.R0),
		asm.Ja.Label("wring_rules_w4"),
		asm.StoreMem(asm.RFP, f.bkey, asm.R1, asm.DWord).WithSymbol("wring_rules_keep"),
		asm.StoreMem(asm.RFP, f.bkey+8, asm.R2, asm.DWord),
		asm.StoreMem(asm.RFP, f.bkey+16, asm.R3, asm.DWord),
		asm.StoreMem(asm.RFP, f.bkey+24, asm.R4, asm.DWord),
	)
	k(asm.R5, 4)
	b.emit(asm.LoadImm(asm.R0, -1<<32, asm.DWord), asm.And.Reg(asm.R5, asm.R0))
	// Word 4: ports from R5, VLAN from the key (EtherType masked out).
	b.emit(asm.Mov.Reg(asm.R0, asm.R0).WithSymbol("wring_rules_w4"))
	k(asm.R1, 4)
	b.emit(
		asm.And.Imm(asm.R1, -65536), // sign-extended: 0xffff_ffff_ffff_0000
		asm.Mov.Reg32(asm.R1, asm.R1),
		asm.Or.Reg(asm.R1, asm.R5),
		asm.StoreMem(asm.RFP, f.bkey+32, asm.R1, asm.DWord),
		asm.LoadImm(asm.R2, 0xffff<<32, asm.DWord),
	)
	k(asm.R1, 5)
	b.emit(
		asm.And.Reg(asm.R1, asm.R2),
		asm.StoreMem(asm.RFP, f.bkey+40, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R7, ruleID, asm.Word),
		asm.StoreMem(asm.RFP, f.bkey+48, asm.R1, asm.DWord),
	)
}

// Flow hash constants (spec/RECORD.md, "Flow hash"), as the int64 bit
// patterns LoadImm takes.
var (
	flowSeed = imm64(0x9e3779b97f4a7c15)
	flowMul1 = imm64(0xa0761d6478bd642f)
	flowMul2 = imm64(0xe7037ed1a0b428db)
)

func imm64(v uint64) int64 { return int64(v) }

// flowHash leaves in R0 the record's symmetric flow hash (RecFlowHash) of
// the packet: 0 without an IP header; ports only for TCP, UDP and SCTP
// packets that are not fragments. It uses the bypass key's slots.
func (b *builder) flowHash() {
	f := b.f
	k := func(r asm.Register, w int16) { b.ld(r, f.key+8*w) }
	b.ld(asm.R1, f.ver)
	b.emit(
		asm.JNE.Imm(asm.R1, 0, "wring_rules_hash"),
		asm.Mov.Imm(asm.R0, 0),
		asm.Ja.Label("wring_rules_hashed"),
	)
	b.mark("wring_rules_hash")
	b.emit(asm.Mov.Imm(asm.R5, 0))
	b.ld(asm.R1, f.frag)
	b.emit(asm.JNE.Imm(asm.R1, 0, "wring_rules_hports"))
	b.ld(asm.R5, f.sport)
	b.ld(asm.R1, f.dport)
	b.emit(asm.LSh.Imm(asm.R5, 16), asm.Or.Reg(asm.R5, asm.R1))
	b.mark("wring_rules_hports")
	k(asm.R1, 0)
	k(asm.R2, 1)
	k(asm.R3, 2)
	k(asm.R4, 3)
	b.emit(
		asm.JGT.Reg(asm.R1, asm.R3, "wring_rules_hswap"),
		asm.JNE.Reg(asm.R1, asm.R3, "wring_rules_hkeep"),
		asm.JGT.Reg(asm.R2, asm.R4, "wring_rules_hswap"),
		asm.JNE.Reg(asm.R2, asm.R4, "wring_rules_hkeep"),
		asm.Mov.Reg(asm.R0, asm.R5),
		asm.RSh.Imm(asm.R0, 16),
		asm.Mov.Reg(asm.R8, asm.R5),
		asm.And.Imm(asm.R8, 0xffff),
		asm.JGT.Reg(asm.R0, asm.R8, "wring_rules_hswap"),
		asm.Ja.Label("wring_rules_hkeep"),
		asm.StoreMem(asm.RFP, f.bkey, asm.R3, asm.DWord).WithSymbol("wring_rules_hswap"),
		asm.StoreMem(asm.RFP, f.bkey+8, asm.R4, asm.DWord),
		asm.StoreMem(asm.RFP, f.bkey+16, asm.R1, asm.DWord),
		asm.StoreMem(asm.RFP, f.bkey+24, asm.R2, asm.DWord),
		asm.Mov.Reg(asm.R0, asm.R5),
		asm.RSh.Imm(asm.R0, 16),
		asm.And.Imm(asm.R5, 0xffff),
		asm.LSh.Imm(asm.R5, 16),
		asm.Or.Reg(asm.R5, asm.R0),
		asm.Ja.Label("wring_rules_hw"),
		asm.StoreMem(asm.RFP, f.bkey, asm.R1, asm.DWord).WithSymbol("wring_rules_hkeep"),
		asm.StoreMem(asm.RFP, f.bkey+8, asm.R2, asm.DWord),
		asm.StoreMem(asm.RFP, f.bkey+16, asm.R3, asm.DWord),
		asm.StoreMem(asm.RFP, f.bkey+24, asm.R4, asm.DWord),
		// w = A.port<<48 | B.port<<32 | proto<<8 | version
		asm.LSh.Imm(asm.R5, 32).WithSymbol("wring_rules_hw"),
	)
	b.ld(asm.R1, f.proto)
	b.emit(asm.LSh.Imm(asm.R1, 8), asm.Or.Reg(asm.R5, asm.R1))
	b.ld(asm.R1, f.ver)
	b.emit(asm.Or.Reg(asm.R5, asm.R1))
	b.store(f.bkey+32, asm.R5)
	// h = mix(A0^K1, A1^S)
	b.ld(asm.R1, f.bkey)
	b.ld(asm.R2, f.bkey+8)
	b.emit(
		asm.LoadImm(asm.R3, flowMul1, asm.DWord), asm.Xor.Reg(asm.R1, asm.R3),
		asm.LoadImm(asm.R3, flowSeed, asm.DWord), asm.Xor.Reg(asm.R2, asm.R3),
	)
	b.mix()
	// h = mix(h^B0^K2, B1^K1)
	b.ld(asm.R1, f.bkey+16)
	b.ld(asm.R2, f.bkey+24)
	b.emit(
		asm.Xor.Reg(asm.R1, asm.R0),
		asm.LoadImm(asm.R3, flowMul2, asm.DWord), asm.Xor.Reg(asm.R1, asm.R3),
		asm.LoadImm(asm.R3, flowMul1, asm.DWord), asm.Xor.Reg(asm.R2, asm.R3),
	)
	b.mix()
	// h = mix(h^w, K2)
	b.ld(asm.R1, f.bkey+32)
	b.emit(asm.Xor.Reg(asm.R1, asm.R0), asm.LoadImm(asm.R2, flowMul2, asm.DWord))
	b.mix()
	b.emit(
		asm.Mov.Reg(asm.R1, asm.R0),
		asm.RSh.Imm(asm.R1, 32),
		asm.Xor.Reg(asm.R0, asm.R1),
		asm.Mov.Reg32(asm.R0, asm.R0),
	)
	b.mark("wring_rules_hashed")
}

// mix sets R0 = hi(R1*R2) ^ lo(R1*R2), the 128-bit product folded
// (wyhash's mix), from 32-bit halves; it clobbers R1 to R5.
func (b *builder) mix() {
	b.emit(
		asm.Mov.Reg(asm.R0, asm.R1),
		asm.Mul.Reg(asm.R0, asm.R2),   // lo
		asm.Mov.Reg32(asm.R3, asm.R1), // al
		asm.Mov.Reg32(asm.R4, asm.R2), // bl
		asm.Mov.Reg(asm.R5, asm.R3),
		asm.Mul.Reg(asm.R5, asm.R4), // al*bl
		asm.RSh.Imm(asm.R5, 32),
		asm.RSh.Imm(asm.R1, 32),     // ah
		asm.RSh.Imm(asm.R2, 32),     // bh
		asm.Mul.Reg(asm.R3, asm.R2), // al*bh
		asm.Mul.Reg(asm.R4, asm.R1), // ah*bl
		asm.Mul.Reg(asm.R1, asm.R2), // ah*bh
		asm.Mov.Reg32(asm.R2, asm.R3),
		asm.Add.Reg(asm.R5, asm.R2),
		asm.Mov.Reg32(asm.R2, asm.R4),
		asm.Add.Reg(asm.R5, asm.R2), // middle column
		asm.RSh.Imm(asm.R3, 32),
		asm.Add.Reg(asm.R1, asm.R3),
		asm.RSh.Imm(asm.R4, 32),
		asm.Add.Reg(asm.R1, asm.R4),
		asm.RSh.Imm(asm.R5, 32),
		asm.Add.Reg(asm.R1, asm.R5), // hi
		asm.Xor.Reg(asm.R0, asm.R1),
	)
}

// fetchAdd is `src = atomic_fetch_add((u64 *)(dst + 0), src)`. cilium/ebpf
// v0.22 reads an atomic instruction's immediate from Constant before it
// derives it from the opcode, so the fetch flag (BPF_ADD | BPF_FETCH = 1)
// is set here as well (TestFetchAdd).
func fetchAdd(dst, src asm.Register) asm.Instruction {
	ins := asm.FetchAdd.Mem(dst, src, asm.DWord, 0)
	ins.Constant = 1
	return ins
}

// queueField is the context's receive queue field.
func (b *builder) queueField() int16 {
	if b.xdp {
		return xdpRxQueueIndex
	}
	return skbQueueMapping
}
