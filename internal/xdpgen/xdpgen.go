//go:build linux

// Package xdpgen is a traffic generator for live-capture tests and
// benchmarks: an XDP program run by BPF_PROG_RUN in live-frame mode
// (BPF_F_TEST_XDP_LIVE_FRAMES) transmits a template frame out of an
// interface with XDP_TX, rewriting its UDP ports on every run so flows
// spread and a chosen share of frames match a filter. veth delivers XDP_TX
// frames to its peer only when the peer runs an XDP program; the receive
// queue is the sending CPU's number modulo the peer's queue count.
package xdpgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	unix "github.com/wringcap/wring/internal/linux" // the x/sys/unix names, through wring's one door
)

// Frame layout of the template: Ethernet (14) + IPv4 (20) + UDP (8) +
// payload, 60 bytes in all.
const (
	FrameLen     = 60
	offSrcPort   = 34
	offDstPort   = 36
	MatchPort    = 80 // destination port of the frames meant to match
	NonMatchPort = 9  // destination port of the others
)

// ErrLiveFramesRefused is returned by Supported when the kernel refuses
// BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES (some builds do, with
// EPERM even for root): the generator cannot send there.
var ErrLiveFramesRefused = errors.New("xdpgen: the kernel refuses BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES")

// Supported runs an XDP_DROP program once in live-frame mode, which sends
// nothing, and says whether the kernel allows the mode.
func Supported() error {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "Dual BSD/GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 1), asm.Return()}}) // XDP_DROP
	if err != nil {
		return fmt.Errorf("xdpgen: probe program: %w", err)
	}
	defer prog.Close()
	_, err = prog.Run(&ebpf.RunOptions{Data: Template(), Repeat: 1, Flags: unix.BPF_F_TEST_XDP_LIVE_FRAMES, BatchSize: 1})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLiveFramesRefused, err)
	}
	return nil
}

// Template returns the generator's 60-byte Ethernet/IPv4/UDP frame from
// 198.18.0.1 to 198.18.0.2 (the benchmarking range), addressed to a MAC
// no host owns, so the peer's stack drops it cheaply.
func Template() []byte {
	f := make([]byte, FrameLen)
	copy(f, []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00})
	ip := f[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], FrameLen-14)
	copy(ip[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	binary.BigEndian.PutUint16(f[offSrcPort:], 1024)
	binary.BigEndian.PutUint16(f[offDstPort:], NonMatchPort)
	binary.BigEndian.PutUint16(f[38:], FrameLen-34)
	return f
}

// Generator transmits frames out of one interface.
type Generator struct {
	prog    *ebpf.Program
	counts  *ebpf.Map // per CPU: frames generated, frames made to match
	ifindex int
	netns   uint64 // the network namespace (inode) the generator was made in
}

// currentNetns returns the inode of the calling thread's network namespace.
func currentNetns() (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return 0, fmt.Errorf("xdpgen: network namespace: %w", err)
	}
	return st.Ino, nil
}

// New loads the generator program for interface ifindex of the calling
// thread's network namespace. One frame in every matchEvery gets
// destination port MatchPort (0: none do); the source port is random.
func New(ifindex int, matchEvery uint32) (*Generator, error) {
	ns, err := currentNetns()
	if err != nil {
		return nil, err
	}
	counts, err := ebpf.NewMap(&ebpf.MapSpec{Name: "wring_xdpgen_n", Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 16, MaxEntries: 1})
	if err != nil {
		return nil, fmt.Errorf("xdpgen: counter map: %w", err)
	}
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.Mov.Imm(asm.R9, 0), // 1 when this frame is made to match
		asm.FnGetPrandomU32.Call(),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.LoadMem(asm.R2, asm.R6, 0, asm.Word), // data
		asm.LoadMem(asm.R3, asm.R6, 4, asm.Word), // data_end
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, FrameLen),
		asm.JGT.Reg(asm.R4, asm.R3, "tx"),
		// Source port: random, big-endian is irrelevant for randomness.
		asm.StoreMem(asm.R2, offSrcPort, asm.R7, asm.Half),
		asm.Mov.Imm(asm.R5, int32(htons(NonMatchPort))),
	}
	if matchEvery > 0 {
		insns = append(insns,
			asm.Mov.Reg(asm.R8, asm.R7),
			asm.RSh.Imm(asm.R8, 16),
			asm.Mod.Imm(asm.R8, int32(matchEvery)),
			asm.JNE.Imm(asm.R8, 0, "store"),
			asm.Mov.Imm(asm.R5, int32(htons(MatchPort))),
			asm.Mov.Imm(asm.R9, 1),
		)
	}
	insns = append(insns,
		asm.StoreMem(asm.R2, offDstPort, asm.R5, asm.Half).WithSymbol("store"),
		// Count the frame, and whether it matches, in this CPU's slot.
		asm.StoreImm(asm.RFP, -4, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, counts.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "tx"),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
		asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord),
		asm.Add.Reg(asm.R1, asm.R9),
		asm.StoreMem(asm.R0, 8, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 3).WithSymbol("tx"), // XDP_TX
		asm.Return(),
	)
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Name: "wring_xdpgen", Type: ebpf.XDP, License: "Dual BSD/GPL", Instructions: insns})
	if err != nil {
		counts.Close()
		return nil, fmt.Errorf("xdpgen: load: %w", err)
	}
	return &Generator{prog: prog, counts: counts, ifindex: ifindex, netns: ns}, nil
}

// Counts returns how many frames the generator has built since New, and
// how many of them it made to match (destination port MatchPort), summed
// over CPUs: the generator's own count, independent of any receiver. A
// frame counted here and not received was lost on the way or at the
// receiver.
func (g *Generator) Counts() (frames, matches uint64, err error) {
	var per []struct{ Frames, Matches uint64 }
	if err := g.counts.Lookup(uint32(0), &per); err != nil {
		return 0, 0, fmt.Errorf("xdpgen: read counters: %w", err)
	}
	for _, c := range per {
		frames += c.Frames
		matches += c.Matches
	}
	return frames, matches, nil
}

// xdpMd is struct xdp_md, the context passed to BPF_PROG_RUN.
type xdpMd struct {
	Data, DataEnd, DataMeta, IngressIfindex, RxQueueIndex, EgressIfindex uint32
}

// ErrWrongNamespace is returned by Send on a thread outside the network
// namespace the generator was made in: the interface index would name
// another device there, and frames must never leave the test's namespaces.
var ErrWrongNamespace = errors.New("xdpgen: not in the generator's network namespace")

// Send transmits n frames from the calling thread's CPU (pinned to cpu when
// cpu >= 0) and returns how long the kernel took. The caller's thread must
// be locked (runtime.LockOSThread) in the namespace New ran in, as inside
// netns.Do; otherwise Send refuses.
func (g *Generator) Send(n uint32, cpu int) (time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ns, err := currentNetns()
	if err != nil {
		return 0, err
	}
	if ns != g.netns {
		return 0, ErrWrongNamespace
	}
	if cpu >= 0 {
		var set unix.CPUSet
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			return 0, fmt.Errorf("xdpgen: pin to cpu %d: %w", cpu, err)
		}
	}
	start := time.Now()
	_, err = g.prog.Run(&ebpf.RunOptions{
		Data:      Template(),
		Context:   xdpMd{DataEnd: FrameLen, IngressIfindex: uint32(g.ifindex)},
		Repeat:    n,
		Flags:     unix.BPF_F_TEST_XDP_LIVE_FRAMES,
		BatchSize: 64,
	})
	if err != nil {
		return 0, fmt.Errorf("xdpgen: run %d frames: %w", n, err)
	}
	return time.Since(start), nil
}

// Close unloads the program.
func (g *Generator) Close() error {
	if g == nil || g.prog == nil {
		return errors.New("xdpgen: closed")
	}
	err := errors.Join(g.prog.Close(), g.counts.Close())
	g.prog, g.counts = nil, nil
	return err
}

func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}
