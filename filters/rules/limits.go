package rules

import "time"

// Limits on what a rule file or the library API may build. Each is checked
// before the work it bounds is done (spec/LIMITS.md, "Rules").
const (
	MaxRules       = 1 << 20 // wildcard rules in one classifier
	MaxFlows       = 1 << 23 // exact flow rules in one classifier
	MaxTuples      = 1024    // distinct mask combinations: the per-packet probe bound
	MaxEntries     = 1 << 23 // hash entries of the wildcard rules after expansion
	MaxRuleEntries = 1024    // hash entries one wildcard rule may expand to
	MaxLine        = 4096    // bytes in one line of the text format
	MaxSinkName    = 64      // bytes in a forward sink name
	MaxIdle        = 24 * 365 * time.Hour
	MaxInput       = 1 << 30 // bytes of rule text or JSON read by ParseText or ParseJSON
)
