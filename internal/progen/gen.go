package progen

import (
	"math/rand/v2"

	"github.com/wringcap/wring/spec"
)

// Mode selects what a Generator produces.
type Mode int

const (
	// Edges produces programs aimed at the verifier's rules: about a third
	// verify, the rest break one or more rules, and some are random bytes.
	Edges Mode = iota
	// Valid produces only programs that verify with the Generator's
	// options (realistic shape: header loads, compares, arithmetic, scratch
	// use, returns mid-program).
	Valid
)

// Config configures a Generator. The zero value generates Edges programs of
// up to 64 instructions (with a small share of 4096 and 4097), with Linux
// ancillary loads and without parse-record loads.
type Config struct {
	Mode Mode
	// MaxLen bounds the length of ordinary programs (0 means 64). The
	// length edges (4096, 4097) are produced in Edges mode regardless,
	// unless NoLong is set.
	MaxLen int
	// NoLong leaves out the programs of 4096 and 4097 instructions.
	NoLong bool
	// NoAncillary leaves out Linux ancillary loads in Valid mode.
	NoAncillary bool
	// Record allows parse-record loads in Valid mode.
	Record bool
	// HeaderRelative allows SKF_LL_OFF/SKF_NET_OFF loads in Valid mode.
	HeaderRelative bool
	// PacketLen is the typical packet length that loads aim at (0 means 64).
	PacketLen int
}

// Generator produces programs and packets from a seed.
type Generator struct {
	r   *rand.Rand
	cfg Config
}

// New returns a Generator whose output depends only on seed and cfg.
func New(seed uint64, cfg Config) *Generator {
	if cfg.MaxLen <= 0 {
		cfg.MaxLen = 64
	}
	if cfg.MaxLen > spec.MaxInstructions {
		cfg.MaxLen = spec.MaxInstructions
	}
	if cfg.PacketLen <= 0 {
		cfg.PacketLen = 64
	}
	return &Generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), cfg: cfg}
}

// Program returns the next program.
func (g *Generator) Program() spec.Program {
	if g.cfg.Mode == Valid {
		return g.valid(g.length())
	}
	return g.edge()
}

// length picks an ordinary program length: mostly short, sometimes up to
// MaxLen.
func (g *Generator) length() int {
	switch g.r.IntN(10) {
	case 0:
		return 1 + g.r.IntN(g.cfg.MaxLen)
	case 1, 2:
		return 1 + g.r.IntN(min(8, g.cfg.MaxLen))
	}
	return 1 + g.r.IntN(min(32, g.cfg.MaxLen))
}

// pick returns one element of s.
func pick[T any](r *rand.Rand, s ...T) T { return s[r.IntN(len(s))] }
