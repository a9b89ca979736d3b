package shape

import "github.com/wringcap/wring/wasm/internal/binary"

// instr decodes one instruction and skips its immediates, counting a
// br_table's labels against Limits.BrTableTargets (past the limit, the
// labels are not read). It returns the opcode (the prefix byte for
// prefixed opcodes).
func (c *checker) instr() (byte, error) {
	r := &c.r
	start := r.Pos
	op, labels := r.Instr(c.lim.BrTableTargets)
	if op == binary.OpBrTable && r.Err == nil {
		if err := c.exceed("BrTableTargets", "br_table targets", labels, c.lim.BrTableTargets, start); err != nil {
			return op, err
		}
		c.s.BrTableTargets = max(c.s.BrTableTargets, labels)
	}
	if r.Err != nil {
		return op, c.malformed(r.Err)
	}
	return op, nil
}
