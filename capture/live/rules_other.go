//go:build !linux

package live

// RulesInKernel returns false.
func (c *Capture) RulesInKernel() bool { return false }
