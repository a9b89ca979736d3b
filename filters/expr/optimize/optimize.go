package optimize

import (
	"fmt"

	"github.com/wringcap/wring/spec"
)

// A Pass is one transformation of a program's control-flow graph. Every
// pass preserves what the program returns on every packet.
type Pass struct {
	// Name says what the pass does, for tests and listings.
	Name string
	run  func(*graph) bool
	// keepsFlow is set for passes whose changes leave the analysis of the
	// graph true (they preserve values and only remove edges).
	keepsFlow bool
}

// The passes, in the order the driver tries them.
var (
	// Fold propagates and folds constants and known values, removes
	// redundant loads and recomputations, and turns jumps whose outcome is
	// known into unconditional ones.
	Fold = Pass{Name: "fold", run: fold, keepsFlow: true}
	// Thread sends edges past blocks whose jump is decided on that edge.
	Thread = Pass{Name: "thread", run: thread}
	// DeadCode removes statements whose results are never read.
	DeadCode = Pass{Name: "deadcode", run: deadcode}
	// Merge joins identical blocks and shortens jumps to jumps.
	Merge = Pass{Name: "merge", run: merge}
	// Peephole folds a block's last ALU operation into its jump.
	Peephole = Pass{Name: "peephole", run: peephole}
	// Offsets folds a constant added to X into indirect load offsets.
	Offsets = Pass{Name: "offsets", run: offsets}
	// Share jumps into equivalent code elsewhere instead of repeating it.
	Share = Pass{Name: "share", run: share}
	// Narrow loads only the bytes a mask keeps.
	Narrow = Pass{Name: "narrow", run: narrow}
	// Hoist sets X earlier where that removes a block that only sets it.
	Hoist = Pass{Name: "hoist", run: hoist}
)

// Passes returns every pass in the order Program runs them. Program runs
// them in turn, round after round, until each has run on the graph as it
// is without changing it.
func Passes() []Pass {
	return []Pass{Fold, Thread, DeadCode, Peephole, Narrow, Offsets, Merge, Share, Hoist}
}

// maxRounds bounds the driver. Each change makes the program smaller or its
// jumps more decided, so a fixed point comes long before; the bound only
// guards against a pass that keeps undoing another.
const maxRounds = 10000

// Run applies passes to p until none changes it, and lays the result out
// again. It returns ErrUnsupported for programs it cannot analyse (see
// ErrUnsupported); a verified program is always supported.
func Run(p spec.Program, passes ...Pass) (spec.Program, error) {
	s := scratchPool.Get().(*scratch)
	if len(p) <= maxPooledInstructions {
		defer scratchPool.Put(s)
	}
	g, err := s.build(p)
	if err != nil {
		return nil, err
	}
	// Every pass in turn, until each has run on the graph as it is and
	// changed nothing: this is where rounds of every pass would stop too,
	// without the last round's repeat of the passes before the last change.
	clean := 0 // passes in a row that changed nothing
	for i, runs := 0, 0; clean < len(passes) && runs < maxRounds*len(passes); i, runs = (i+1)%len(passes), runs+1 {
		ps := passes[i]
		if !ps.run(g) {
			clean++
			continue
		}
		clean = 0
		if ps.keepsFlow {
			g.relink()
		} else {
			g.refresh()
		}
	}
	out, err := g.linearize()
	if err != nil {
		return nil, err
	}
	if len(out) > spec.MaxInstructions && len(out) > len(p) {
		return nil, fmt.Errorf("optimize: result has %d instructions, more than the input's %d", len(out), len(p))
	}
	return out, nil
}

// Program returns an optimized program that returns the same value as p on
// every packet. It never returns a longer program than p; a program it
// cannot analyse is returned unchanged (as a copy).
func Program(p spec.Program) spec.Program {
	out, err := Run(p, Passes()...)
	if err != nil || len(out) > len(p) {
		return append(spec.Program(nil), p...)
	}
	return out
}
