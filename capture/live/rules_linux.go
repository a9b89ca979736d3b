//go:build linux

package live

import (
	"github.com/cilium/ebpf/asm"

	"github.com/wringcap/wring/capture/afxdp"
	"github.com/wringcap/wring/capture/passive"
	"github.com/wringcap/wring/capture/rulemaps"
	"github.com/wringcap/wring/spec"
)

// passiveRules returns the rules block for the passive program and
// whether the rules run in the kernel; when they cannot, it says why.
func passiveRules(dev Device, ifc iface, opts Options) (asm.Instructions, bool) {
	if opts.Rules == nil {
		return nil, false
	}
	switch {
	case ifc.linkType != spec.LinkEthernet:
		opts.Log("capture %s: the rules run in userspace: the kernel rules read Ethernet frames, not %s", dev, ifc.linkType)
		return nil, false
	case dev.Queue >= 0:
		opts.Log("capture %s: the rules run in userspace: in the kernel they would see every queue's packets", dev)
		return nil, false
	}
	block, err := opts.Rules.Instructions(rulemaps.BlockOptions{Ctx: passive.CtxReg, StackTop: passive.StackOffset,
		Done: passive.RulesDoneLabel, Skip: passive.RulesSkipLabel, Keep: passive.RulesKeepLabel})
	if err != nil {
		opts.Log("capture %s: the rules run in userspace: %v", dev, err)
		return nil, false
	}
	return block, true
}

// xdpRules returns the rules block for the AF_XDP program and whether
// the rules run in the kernel; when they cannot, it says why. The XDP
// block drops (XDP_DROP) what a rule drops and passes to the host
// (XDP_PASS) what the rules pass, sample out or bypass.
func xdpRules(dev Device, opts Options) (asm.Instructions, bool) {
	if opts.Rules == nil {
		return nil, false
	}
	if dev.Queue >= 0 {
		opts.Log("capture %s: the rules run in userspace: in the kernel they would see every queue's packets", dev)
		return nil, false
	}
	block, err := opts.Rules.Instructions(rulemaps.BlockOptions{Ctx: afxdp.CtxReg, StackTop: afxdp.RulesStackTop, XDP: true,
		Done: afxdp.RulesDoneLabel, Skip: afxdp.RulesSkipLabel, Drop: afxdp.RulesDropLabel, Keep: afxdp.RulesKeepLabel})
	if err != nil {
		opts.Log("capture %s: the rules run in userspace: %v", dev, err)
		return nil, false
	}
	return block, true
}

// RulesInKernel reports whether Options.Rules run in the kernel; when they
// do not, the caller applies the rules in the pipeline.
func (c *Capture) RulesInKernel() bool {
	return (c.pas != nil && c.pas.rules) || (c.xdp != nil && c.xdp.rules)
}
