//go:build linux

package passive

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"sync"

	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// A packet the host sends usually leaves its stack with a partial checksum
// (CHECKSUM_PARTIAL: the TCP or UDP checksum field holds the pseudo-header
// sum, and skb->csum_start and csum_offset say where the device is to
// complete it). On a device that checksums in hardware the taps, and so
// tcpdump, see that partial checksum; on one that does not (a tun device
// without offloads, most tunnels) the kernel completes it in software
// between tc egress, where the passive copy is taken, and the taps. The
// egress program therefore records, for a partial packet, where the
// checksum goes and which checksum features the device has, in a trailer
// behind the packet bytes; Header.CompleteChecksum applies the kernel's
// rule (skb_csum_hwoffload_help) to the copy. The __sk_buff context has
// none of these fields: the program reads the kernel's sk_buff through
// bpf_cast_to_kern_ctx with offsets taken from the kernel's BTF.

// csumLayout is what the egress program needs from the kernel's BTF.
type csumLayout struct {
	castID       btf.TypeID // bpf_cast_to_kern_ctx
	ipSummed     uint32     // byte of sk_buff holding ip_summed
	ipSummedBit  uint32     // its first bit within that byte (little-endian)
	csumStart    uint32     // sk_buff.csum_start (u16, from head)
	csumOffset   uint32     // sk_buff.csum_offset (u16, from csum_start)
	head, data   uint32     // sk_buff.head, sk_buff.data (pointers)
	dev          uint32     // sk_buff.dev
	features     uint32     // net_device.features (u64)
	hwBit, ipBit uint32     // NETIF_F_HW_CSUM_BIT, NETIF_F_IP_CSUM_BIT
	ipv6Bit      uint32     // NETIF_F_IPV6_CSUM_BIT
	tsoBit       uint32     // NETIF_F_TSO_BIT
	tso6Bit      uint32     // NETIF_F_TSO6_BIT
	usoBit       uint32     // NETIF_F_GSO_UDP_L4_BIT
	gsoSize      uint32     // __sk_buff.gso_size (u32)
}

var (
	layoutOnce sync.Once
	layout     csumLayout
	layoutErr  error
)

// kernelCsumLayout reads the layout from the kernel's BTF once.
func kernelCsumLayout() (csumLayout, error) {
	layoutOnce.Do(func() { layout, layoutErr = readCsumLayout() })
	return layout, layoutErr
}

func readCsumLayout() (csumLayout, error) {
	var l csumLayout
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return l, fmt.Errorf("kernel btf: %w", err)
	}
	var fn *btf.Func
	if err := spec.TypeByName("bpf_cast_to_kern_ctx", &fn); err != nil {
		return l, fmt.Errorf("kfunc bpf_cast_to_kern_ctx: %w", err)
	}
	if l.castID, err = spec.TypeID(fn); err != nil {
		return l, fmt.Errorf("kfunc bpf_cast_to_kern_ctx: %w", err)
	}
	var skb, dev, ctx *btf.Struct
	if err := spec.TypeByName("sk_buff", &skb); err != nil {
		return l, fmt.Errorf("struct sk_buff: %w", err)
	}
	if err := spec.TypeByName("__sk_buff", &ctx); err != nil {
		return l, fmt.Errorf("struct __sk_buff: %w", err)
	}
	if err := spec.TypeByName("net_device", &dev); err != nil {
		return l, fmt.Errorf("struct net_device: %w", err)
	}
	type want struct {
		t     btf.Type
		name  string
		bytes uint32 // the member's size, 0 for the ip_summed bit field
		off   *uint32
	}
	var sumBits uint32
	for _, w := range []want{
		{skb, "ip_summed", 0, &sumBits},
		{skb, "csum_start", 2, &l.csumStart},
		{skb, "csum_offset", 2, &l.csumOffset},
		{skb, "head", 8, &l.head},
		{skb, "data", 8, &l.data},
		{skb, "dev", 8, &l.dev},
		{dev, "features", 8, &l.features},
		{ctx, "gso_size", 4, &l.gsoSize},
	} {
		m, bitOff, ok := findMember(w.t, w.name, 0)
		if !ok {
			return l, fmt.Errorf("btf: no member %s", w.name)
		}
		if w.bytes == 0 {
			if m.BitfieldSize != 2 {
				return l, fmt.Errorf("btf: %s is %d bits, want 2", w.name, m.BitfieldSize)
			}
			*w.off = bitOff
			continue
		}
		size, err := btf.Sizeof(m.Type)
		if err != nil || uint32(size) != w.bytes || m.BitfieldSize != 0 || bitOff%8 != 0 {
			return l, fmt.Errorf("btf: member %s is not a %d-byte field", w.name, w.bytes)
		}
		*w.off = bitOff / 8
	}
	l.ipSummed, l.ipSummedBit = sumBits/8, sumBits%8
	if l.ipSummedBit > 6 {
		return l, errors.New("btf: ip_summed straddles a byte")
	}
	enumBits := map[string]*uint32{"NETIF_F_HW_CSUM_BIT": &l.hwBit, "NETIF_F_IP_CSUM_BIT": &l.ipBit, "NETIF_F_IPV6_CSUM_BIT": &l.ipv6Bit,
		"NETIF_F_TSO_BIT": &l.tsoBit, "NETIF_F_TSO6_BIT": &l.tso6Bit, "NETIF_F_GSO_UDP_L4_BIT": &l.usoBit}
	if raw, err := os.ReadFile("/sys/kernel/btf/vmlinux"); err == nil {
		if n, err := scanBTFEnums(raw, enumBits); err == nil && n == len(enumBits) {
			return l, nil
		}
	}
	// No raw BTF where the kernel publishes it (LoadKernelSpec found it
	// elsewhere), or not all bits in it: decode every type.
	if err := enumBitsFromSpec(spec, enumBits); err != nil {
		return l, err
	}
	return l, nil
}

// findMember finds a member by name in a struct or union, looking into
// anonymous members, and returns its bit offset from the outer type.
func findMember(t btf.Type, name string, base uint32) (btf.Member, uint32, bool) {
	var members []btf.Member
	switch c := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		members = c.Members
	case *btf.Union:
		members = c.Members
	default:
		return btf.Member{}, 0, false
	}
	for _, m := range members {
		off := base + uint32(m.Offset)
		if m.Name == name {
			return m, off, true
		}
		if m.Name == "" {
			if found, at, ok := findMember(m.Type, name, off); ok {
				return found, at, true
			}
		}
	}
	return btf.Member{}, 0, false
}

// slotCsum holds a partial packet's trailer across the copy: csum start
// (from the copy's first byte) in bits 0-15, csum offset in 16-31, the GSO
// size in 32-47, the GSODev bits in 48-55.
const slotCsum = -24

// checksumPartial is the kernel's CHECKSUM_PARTIAL value of ip_summed.
const checksumPartial = 3

// csumInsns records, for a packet with a partial checksum, the flags and
// the checksum's position in slotCsum; for any other packet it zeroes the
// slot. It runs after stampInsns has written the flags.
func csumInsns(l csumLayout, rec asm.Register) asm.Instructions {
	const (
		skb   = asm.R0
		flags = asm.R2
		slot  = asm.R5
	)
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R1, 0),
		asm.StoreMem(asm.RFP, slotCsum, asm.R1, asm.DWord),
		asm.Mov.Reg(asm.R1, CtxReg),
		{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Src: asm.PseudoKfuncCall, Constant: int64(l.castID)},
		asm.LoadMem(asm.R1, skb, int16(l.ipSummed), asm.Byte),
		asm.RSh.Imm(asm.R1, int32(l.ipSummedBit)),
		asm.And.Imm(asm.R1, 3),
		asm.JNE.Imm(asm.R1, checksumPartial, "wring_passive_csum_done"),
		// start = csum_start - (data - head), from the frame's first byte.
		asm.LoadMem(asm.R3, skb, int16(l.head), asm.DWord),
		asm.LoadMem(asm.R4, skb, int16(l.data), asm.DWord),
		asm.Sub.Reg(asm.R4, asm.R3),
		asm.LoadMem(slot, skb, int16(l.csumStart), asm.Half),
		asm.Sub.Reg(slot, asm.R4),
		asm.JGT.Imm(slot, 0xffff, "wring_passive_csum_done"), // before the frame (or absurd): leave it
		asm.LoadMem(asm.R4, skb, int16(l.csumOffset), asm.Half),
		asm.LSh.Imm(asm.R4, 16),
		asm.Or.Reg(slot, asm.R4),
		asm.LoadMem(asm.R4, CtxReg, int16(l.gsoSize), asm.Word),
		asm.And.Imm(asm.R4, 0xffff),
		asm.LSh.Imm(asm.R4, 32),
		asm.Or.Reg(slot, asm.R4),
		asm.LoadMem(flags, rec, offFlags, asm.Byte),
		asm.Or.Imm(flags, FlagCsumPartial),
		asm.LoadMem(asm.R3, skb, int16(l.dev), asm.DWord),
		asm.JEq.Imm(asm.R3, 0, "wring_passive_csum_flags"),
		asm.LoadMem(asm.R3, asm.R3, int16(l.features), asm.DWord),
	}
	bitTo := func(dst asm.Register, from, to uint32) asm.Instructions {
		return asm.Instructions{
			asm.Mov.Reg(asm.R4, asm.R3),
			asm.RSh.Imm(asm.R4, int32(from)),
			asm.And.Imm(asm.R4, 1),
			asm.LSh.Imm(asm.R4, int32(to)),
			asm.Or.Reg(dst, asm.R4),
		}
	}
	for _, b := range []struct{ bit, flag uint32 }{{l.hwBit, FlagDevHWCsum}, {l.ipBit, FlagDevIPCsum}, {l.ipv6Bit, FlagDevIPv6Csum}} {
		insns = append(insns, bitTo(flags, b.bit, uint32(bits.TrailingZeros32(b.flag)))...)
	}
	for _, b := range []struct{ bit, flag uint32 }{{l.tsoBit, GSODevTSO}, {l.tso6Bit, GSODevTSO6}, {l.usoBit, GSODevUSO}} {
		insns = append(insns, bitTo(slot, b.bit, 48+uint32(bits.TrailingZeros32(b.flag)))...)
	}
	return append(insns,
		asm.StoreMem(rec, offFlags, flags, asm.Byte).WithSymbol("wring_passive_csum_flags"),
		asm.StoreMem(asm.RFP, slotCsum, slot, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("wring_passive_csum_done"),
	)
}

// trailerInsns writes slotCsum behind the keep bytes copied and grows keep
// by TrailerLen, for a record whose flags say its checksum is partial.
func trailerInsns(keep, rec asm.Register) asm.Instructions {
	return asm.Instructions{
		asm.LoadMem(asm.R1, rec, offFlags, asm.Byte),
		asm.JSet.Imm(asm.R1, FlagCsumPartial, "wring_passive_trailer"),
		asm.Ja.Label("wring_passive_trailed"),
		asm.Mov.Reg(asm.R2, rec).WithSymbol("wring_passive_trailer"),
		asm.Add.Imm(asm.R2, HeaderLen),
		asm.Add.Reg(asm.R2, keep),
		asm.LoadMem(asm.R1, asm.RFP, slotCsum, asm.DWord),
		asm.StoreMem(asm.R2, 0, asm.R1, asm.DWord),
		asm.Add.Imm(keep, TrailerLen),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("wring_passive_trailed"),
	}
}
