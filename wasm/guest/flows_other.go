//go:build !wasip1

package guest

// FlowHook, outside Wasm, receives the records AddFlows and DelFlows would
// hand the host (for tests of analyzers on the build machine); nil refuses
// them as a host without a rule table does.
var FlowHook func(del bool, records []byte) int32

func ruleAdd(n int) int32 { return flowHook(false, n) }
func ruleDel(n int) int32 { return flowHook(true, n) }

func flowHook(del bool, n int) int32 {
	if FlowHook == nil {
		return -FlowErrNoTable
	}
	return FlowHook(del, flowBuf[:n])
}
