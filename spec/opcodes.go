package spec

// Full 16-bit opcodes of the classic instructions that are not ALU
// operations, by name: class, size, mode and source combined as Linux's
// classic checker (chk_code_allowed) lists them. ALU operations are
// ClassALU|ALUAdd..ALURsh|SrcK or SrcX.
const (
	OpLdImm  = ClassLD | ModeIMM          // ld #k
	OpLdMem  = ClassLD | ModeMEM          // ld M[k]
	OpLdLen  = ClassLD | SizeW | ModeLEN  // ld #len
	OpLdAbsW = ClassLD | SizeW | ModeABS  // ld [k]
	OpLdAbsH = ClassLD | SizeH | ModeABS  // ldh [k]
	OpLdAbsB = ClassLD | SizeB | ModeABS  // ldb [k]
	OpLdIndW = ClassLD | SizeW | ModeIND  // ld [x + k]
	OpLdIndH = ClassLD | SizeH | ModeIND  // ldh [x + k]
	OpLdIndB = ClassLD | SizeB | ModeIND  // ldb [x + k]
	OpLdxImm = ClassLDX | ModeIMM         // ldx #k
	OpLdxMem = ClassLDX | ModeMEM         // ldx M[k]
	OpLdxLen = ClassLDX | SizeW | ModeLEN // ldx #len
	OpLdxMsh = ClassLDX | SizeB | ModeMSH // ldxb 4*([k]&0xf)
	OpSt     = ClassST                    // st M[k]
	OpStx    = ClassSTX                   // stx M[k]
	OpTax    = ClassMISC | MiscTAX        // tax
	OpTxa    = ClassMISC | MiscTXA        // txa
	OpRetK   = ClassRET | RetK            // ret #k
	OpRetA   = ClassRET | RetA            // ret a
	OpNeg    = ClassALU | ALUNeg          // neg
	OpJa     = ClassJMP | JumpJA          // ja k
	OpJeqK   = ClassJMP | JumpJEQ | SrcK  // jeq #k
	OpJeqX   = ClassJMP | JumpJEQ | SrcX  // jeq x
	OpJgtK   = ClassJMP | JumpJGT | SrcK  // jgt #k
	OpJgtX   = ClassJMP | JumpJGT | SrcX  // jgt x
	OpJgeK   = ClassJMP | JumpJGE | SrcK  // jge #k
	OpJgeX   = ClassJMP | JumpJGE | SrcX  // jge x
	OpJsetK  = ClassJMP | JumpJSET | SrcK // jset #k
	OpJsetX  = ClassJMP | JumpJSET | SrcX // jset x
)
