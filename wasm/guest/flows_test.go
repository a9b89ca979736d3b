package guest

import (
	"encoding/binary"
	"testing"

	"github.com/wringcap/wring/spec"
)

// TestFlowRecord checks the SDK's record against spec/abi.go's offsets.
func TestFlowRecord(t *testing.T) {
	var got []byte
	FlowHook = func(del bool, rec []byte) int32 { got = append([]byte(nil), rec...); return 1 }
	defer func() { FlowHook = nil }()
	f := Flow{Src: []byte{192, 0, 2, 1}, Dst: []byte{198, 51, 100, 2}, SrcPort: 4000, DstPort: 5000, Proto: 17,
		Both: true, Tagged: true, VLAN: 7, IdleMs: 30000, Action: FlowBypass, Arg: 9}
	if r := AddFlows([]Flow{f}); r != 1 || len(got) != spec.FlowReqSize {
		t.Fatalf("AddFlows: %d, %d bytes", r, len(got))
	}
	le := binary.LittleEndian
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"version", uint64(got[spec.FlowReqIPVer]), 4},
		{"proto", uint64(got[spec.FlowReqProto]), 17},
		{"flags", uint64(got[spec.FlowReqFlags]), spec.FlowReqFlagBoth | spec.FlowReqFlagVLAN},
		{"action", uint64(got[spec.FlowReqAction]), spec.FlowActionBypass},
		{"sport", uint64(le.Uint16(got[spec.FlowReqSrcPort:])), 4000},
		{"dport", uint64(le.Uint16(got[spec.FlowReqDstPort:])), 5000},
		{"vlan", uint64(le.Uint16(got[spec.FlowReqVLAN:])), 7},
		{"idle", uint64(le.Uint32(got[spec.FlowReqIdleMs:])), 30000},
		{"arg", uint64(le.Uint32(got[spec.FlowReqArg:])), 9},
		{"src", uint64(le.Uint32(got[spec.FlowReqSrcAddr:])), uint64(le.Uint32([]byte{192, 0, 2, 1}))},
		{"dst", uint64(le.Uint32(got[spec.FlowReqDstAddr:])), uint64(le.Uint32([]byte{198, 51, 100, 2}))},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	if i, c := FlowRefused(spec.RuleResult(3, spec.RuleErrQuota)); i != 3 || c != FlowErrQuota {
		t.Errorf("FlowRefused: %d %d", i, c)
	}
	if r := AddFlows([]Flow{{Src: []byte{1}, Dst: []byte{2}}}); r != -FlowErrArgs {
		t.Errorf("bad address: %d", r)
	}
}
