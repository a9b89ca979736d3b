package optimize

import (
	"fmt"
	"strings"

	"github.com/wringcap/wring/spec"
)

// listing prints a program as {op, jt, jf, k} lines for failure messages.
func listing(p spec.Program) string {
	var b strings.Builder
	for pc, ins := range p {
		fmt.Fprintf(&b, "%03d {0x%02x, %d, %d, 0x%08x}\n", pc, ins.Op, ins.Jt, ins.Jf, ins.K)
	}
	return b.String()
}
