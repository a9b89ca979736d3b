package jit

import (
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/wringcap/wring/internal/corpus"
)

// x86Cases pairs each encoder call with the Intel-syntax instruction it
// must produce. The expected bytes were produced by llvm-mc
// (-show-encoding); TestX86CasesAgainstLLVM checks them again whenever
// llvm-mc is installed.
var x86Cases = []struct {
	asm  string
	hex  string
	emit func(a *asm)
}{
	{"mov eax, 305419896", "b878563412", func(a *asm) { a.movRegImm32(rAX, 0x12345678) }},
	{"mov r8d, 305419896", "41b878563412", func(a *asm) { a.movRegImm32(r8, 0x12345678) }},
	{"mov ebx, eax", "89c3", func(a *asm) { a.movRegReg32(rBX, rAX) }},
	{"mov eax, r9d", "4489c8", func(a *asm) { a.movRegReg32(rAX, r9) }},
	{"xor eax, eax", "31c0", func(a *asm) { a.aluRegReg32(aluXor, rAX, rAX) }},
	{"add eax, r8d", "4401c0", func(a *asm) { a.aluRegReg32(aluAdd, rAX, r8) }},
	{"sub eax, ebx", "29d8", func(a *asm) { a.aluRegReg32(aluSub, rAX, rBX) }},
	{"cmp eax, ebx", "39d8", func(a *asm) { a.aluRegReg32(aluCmp, rAX, rBX) }},
	{"cmp rsi, r8", "4c39c6", func(a *asm) { a.aluRegReg64(aluCmp, rSI, r8) }},
	{"add rcx, rbx", "4801d9", func(a *asm) { a.aluRegReg64(aluAdd, rCX, rBX) }},
	{"cmp rcx, rsi", "4839f1", func(a *asm) { a.aluRegReg64(aluCmp, rCX, rSI) }},
	{"add rdx, r8", "4c01c2", func(a *asm) { a.aluRegReg64(aluAdd, rDX, r8) }},
	{"xor r8d, 2596069104", "4181f0f0debc9a", func(a *asm) { a.aluRegImm32(aluXor, r8, 0x9abcdef0) }},
	{"and eax, 8191", "81e0ff1f0000", func(a *asm) { a.aluRegImm32(aluAnd, rAX, 0x1fff) }},
	{"cmp eax, 34525", "81f8dd860000", func(a *asm) { a.aluRegImm32(aluCmp, rAX, 0x86dd) }},
	{"and ebx, 15", "83e30f", func(a *asm) { a.aluRegImm8(aluAnd, rBX, 0xf) }},
	{"cmp ebx, 31", "83fb1f", func(a *asm) { a.aluRegImm8(aluCmp, rBX, 31) }},
	{"add rdi, 19088743", "4881c767452301", func(a *asm) { a.aluRegImm64(aluAdd, rDI, 0x1234567) }},
	{"cmp rsi, 54", "4881fe36000000", func(a *asm) {
		a.rex(true, 0, 0, rSI)
		a.byte1(0x81)
		a.modrmReg(byte(aluCmp), rSI)
		a.imm32(0x36)
	}},
	{"test eax, ebx", "85d8", func(a *asm) { a.testRegReg32(rAX, rBX) }},
	{"test eax, r8d", "4485c0", func(a *asm) { a.testRegReg32(rAX, r8) }},
	{"test rdx, rdx", "4885d2", func(a *asm) { a.testRegReg64(rDX, rDX) }},
	{"test eax, 8191", "f7c0ff1f0000", func(a *asm) { a.testRegImm32(rAX, 0x1fff) }},
	{"imul eax, ebx", "0fafc3", func(a *asm) { a.imulRegReg32(rAX, rBX) }},
	{"imul eax, r8d", "410fafc0", func(a *asm) { a.imulRegReg32(rAX, r8) }},
	{"imul eax, eax, 74565", "69c045230100", func(a *asm) { a.imulRegRegImm32(rAX, rAX, 0x12345) }},
	{"div ebx", "f7f3", func(a *asm) { a.divReg32(rBX) }},
	{"div r8d", "41f7f0", func(a *asm) { a.divReg32(r8) }},
	{"neg eax", "f7d8", func(a *asm) { a.negReg32(rAX) }},
	{"shl eax, cl", "d3e0", func(a *asm) { a.shiftRegCL(shiftLeft, rAX) }},
	{"shr eax, cl", "d3e8", func(a *asm) { a.shiftRegCL(shiftRight, rAX) }},
	{"shl ebx, 2", "c1e302", func(a *asm) { a.shiftRegImm(shiftLeft, rBX, 2) }},
	{"shr eax, 13", "c1e80d", func(a *asm) { a.shiftRegImm(shiftRight, rAX, 13) }},
	{"cmova eax, edx", "0f47c2", func(a *asm) { a.cmov32(ccA, rAX, rDX) }},
	{"movzx eax, byte ptr [rdi + 23]", "0fb64717", func(a *asm) { a.movzxByte(rAX, mem{base: rDI, index: noIndex, disp: 0x17}) }},
	{"movzx eax, byte ptr [rdi - 19088743]", "0fb68799badcfe", func(a *asm) { a.movzxByte(rAX, mem{base: rDI, index: noIndex, disp: -0x1234567}) }},
	{"movzx ebx, byte ptr [rdi]", "0fb61f", func(a *asm) { a.movzxByte(rBX, mem{base: rDI, index: noIndex}) }},
	{"movzx eax, word ptr [rdi + rbx + 16]", "0fb7441f10", func(a *asm) { a.movzxWord(rAX, mem{base: rDI, index: rBX, disp: 0x10}) }},
	{"movzx eax, word ptr [rdi + rdx - 19088743]", "0fb7841799badcfe", func(a *asm) { a.movzxWord(rAX, mem{base: rDI, index: rDX, disp: -0x1234567}) }},
	{"movzx ecx, byte ptr [r11 + 56]", "410fb64b38", func(a *asm) { a.movzxByte(rCX, mem{base: r11, index: noIndex, disp: 0x38}) }},
	{"mov eax, dword ptr [rdi + 26]", "8b471a", func(a *asm) { a.movLoad32(rAX, mem{base: rDI, index: noIndex, disp: 0x1a}) }},
	{"mov eax, dword ptr [r10 + 60]", "418b423c", func(a *asm) { a.movLoad32(rAX, mem{base: r10, index: noIndex, disp: 0x3c}) }},
	{"mov ebx, dword ptr [r10]", "418b1a", func(a *asm) { a.movLoad32(rBX, mem{base: r10, index: noIndex}) }},
	{"mov eax, dword ptr [r12]", "418b0424", func(a *asm) { a.movLoad32(rAX, mem{base: r12, index: noIndex}) }},
	{"mov eax, dword ptr [r13]", "418b4500", func(a *asm) { a.movLoad32(rAX, mem{base: r13, index: noIndex}) }},
	{"mov eax, dword ptr [rsp + 8]", "8b442408", func(a *asm) { a.movLoad32(rAX, mem{base: rSP, index: noIndex, disp: 8}) }},
	{"mov eax, dword ptr [rbp]", "8b4500", func(a *asm) { a.movLoad32(rAX, mem{base: rBP, index: noIndex}) }},
	{"mov eax, dword ptr [rdi + r8 + 256]", "428b840700010000", func(a *asm) { a.movLoad32(rAX, mem{base: rDI, index: r8, disp: 0x100}) }},
	{"mov rdx, qword ptr [r11 + 64]", "498b5340", func(a *asm) { a.movLoad64(rDX, mem{base: r11, index: noIndex, disp: 0x40}) }},
	{"mov dword ptr [r10 + 8], eax", "41894208", func(a *asm) { a.movStore32(mem{base: r10, index: noIndex, disp: 8}, rAX) }},
	{"mov dword ptr [r10], ebx", "41891a", func(a *asm) { a.movStore32(mem{base: r10, index: noIndex}, rBX) }},
	{"mov dword ptr [r10 + 4], 0", "41c7420400000000", func(a *asm) { a.movStoreImm32(mem{base: r10, index: noIndex, disp: 4}, 0) }},
	{"lea rcx, [rdx + 4]", "488d4a04", func(a *asm) { a.lea64(rCX, mem{base: rDX, index: noIndex, disp: 4}) }},
	{"bswap eax", "0fc8", func(a *asm) { a.bswap32(rAX) }},
	{"bswap ebx", "0fcb", func(a *asm) { a.bswap32(rBX) }},
	{"rol ax, 8", "66c1c008", func(a *asm) { a.rol16by8(rAX) }},
	{"rol bx, 8", "66c1c308", func(a *asm) { a.rol16by8(rBX) }},
	{"add r14, qword ptr [r10 + 64]", "4d037240", func(a *asm) { a.addRegMem64(r14, mem{base: r10, index: noIndex, disp: 64}) }},
	{"add r12, 24", "4983c418", func(a *asm) { a.aluRegImm8x64(aluAdd, r12, 24) }},
	{"add r15, 4", "4983c704", func(a *asm) { a.aluRegImm8x64(aluAdd, r15, 4) }},
	{"cmp r12, r13", "4d39ec", func(a *asm) { a.aluRegReg64(aluCmp, r12, r13) }},
	{"mov dword ptr [r15], eax", "418907", func(a *asm) { a.movStore32(mem{base: r15, index: noIndex}, rAX) }},
	{"mov rdi, qword ptr [r12]", "498b3c24", func(a *asm) { a.movLoad64(rDI, mem{base: r12, index: noIndex}) }},
	{"mov rsi, qword ptr [r12 + 8]", "498b742408", func(a *asm) { a.movLoad64(rSI, mem{base: r12, index: noIndex, disp: 8}) }},
	{"mov r9d, dword ptr [r14]", "458b0e", func(a *asm) { a.movLoad32(r9, mem{base: r14, index: noIndex}) }},
	{"ret", "c3", func(a *asm) { a.ret() }},
	{"int3", "cc", func(a *asm) { a.int3() }},
}

func TestX86Encoder(t *testing.T) {
	for _, c := range x86Cases {
		var a asm
		c.emit(&a)
		if got := hex.EncodeToString(a.b); got != c.hex {
			t.Errorf("%s: encoded %s, want %s", c.asm, got, c.hex)
		}
	}
}

func TestX86Jumps(t *testing.T) {
	var a asm
	a.byte1(0x90, 0x90)
	a.jmp(0, true)           // back 4: eb fc
	a.jcc(ccE, 0x100, false) // 0f 84 rel32
	a.jcc(ccB, 8, true)
	a.jmp(0x1000, false)
	// Offsets: jmp at 2 (len 2) -> rel -4; jcc near at 4 (len 6) -> 0x100-10=0xf6;
	// jb short at 10 (len 2) -> 8-12=-4 (fc); jmp near at 12 (len 5) -> 0x1000-17=0xfef.
	want := "9090ebfc0f84f600000072fce9ef0f0000"
	if got := hex.EncodeToString(a.b); got != want {
		t.Errorf("jumps: %s, want %s", got, want)
	}
}

// TestX86CasesAgainstLLVM disassembles every expected encoding with
// llvm-mc and compares the result with the instruction text: the table's
// bytes are checked against an independent decoder, not just against
// themselves.
func TestX86CasesAgainstLLVM(t *testing.T) {
	var src strings.Builder
	for _, c := range x86Cases {
		for i := 0; i+1 < len(c.hex); i += 2 {
			src.WriteString("0x" + c.hex[i:i+2] + " ")
		}
		src.WriteString("\n")
	}
	got := llvmDisassemble(t, src.String())
	if len(got) != len(x86Cases) {
		t.Fatalf("llvm-mc decoded %d instructions for %d cases: %q", len(got), len(x86Cases), got)
	}
	for i, c := range x86Cases {
		if got[i] != c.asm {
			t.Errorf("%s decodes as %q, want %q", c.hex, got[i], c.asm)
		}
	}
}

// llvmDisassemble runs llvm-mc --disassemble on hex bytes ("0x90 0xc3")
// and returns the instructions, spaces normalised.
func llvmDisassemble(t *testing.T, hexBytes string) []string {
	t.Helper()
	mc := ""
	for _, name := range []string{"llvm-mc", "llvm-mc-19", "llvm-mc-18", "llvm-mc-17", "llvm-mc-16", "llvm-mc-15", "llvm-mc-14"} {
		if p, err := exec.LookPath(name); err == nil {
			mc = p
			break
		}
	}
	if mc == "" {
		corpus.Unavailable(t, "llvm-mc (Debian package llvm) is not installed")
	}
	cmd := exec.Command(mc, "--disassemble", "-triple=x86_64", "-output-asm-variant=1")
	cmd.Stdin = strings.NewReader(hexBytes)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("llvm-mc: %v\n%s", err, out)
	}
	var insns []string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" || strings.HasPrefix(line, ".") {
			continue
		}
		if strings.Contains(line, "warning") || strings.Contains(line, "error") {
			t.Fatalf("llvm-mc: %s", out)
		}
		insns = append(insns, line)
	}
	return insns
}
