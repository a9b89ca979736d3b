// Package spec is wring's contract: the classic BPF (cBPF) instruction set
// exactly as Linux's struct sock_filter, typed instructions, the Linux
// ancillary loads and wring's parse-record extension, the text formats
// (tcpdump -d/-dd/-ddd and bpf_asm), link types, limits, the layout of the
// parse Record and the constants of the Wasm analyzer ABI.
//
// The normative semantics live beside the code: ISA.md (the virtual machine),
// RECORD.md (the parse record) and ABI.md (the analyzer ABI). spec imports
// the standard library only.
package spec
