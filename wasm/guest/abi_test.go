package guest

import (
	"testing"

	"github.com/wringcap/wring/spec"
)

// TestMirrorsSpec checks that the SDK's copies of the ABI constants agree
// with spec/abi.go and spec/record.go.
func TestMirrorsSpec(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"abiVersion", abiVersion, spec.ABIVersion},
		{"maxCounters", maxCounters, spec.MaxCounters},
		{"infoSize", infoSize, spec.InfoSize},
		{"batchHeaderSize", batchHeaderSize, spec.BatchHeaderSize},
		{"recordSize", recordSize, spec.RecordSize},
		{"descSize", descSize, spec.DescSize},
		{"tunnelSize", tunnelSize, spec.TunnelRecordSize},
		{"descSizeTunnel", descSizeTunnel, spec.DescSizeTunnel},
		{"infoFlagTunnels", infoFlagTunnels, spec.InfoFlagTunnels},
		{"tunType", tunType, spec.TunType},
		{"tunIPVersion", tunIPVersion, spec.TunIPVersion},
		{"tunID", tunID, spec.TunID},
		{"tunSrcAddr", tunSrcAddr, spec.TunSrcAddr},
		{"tunDstAddr", tunDstAddr, spec.TunDstAddr},
		{"TunnelGRE", TunnelGRE, int(spec.TunnelGRE)},
		{"TunnelVXLAN", TunnelVXLAN, int(spec.TunnelVXLAN)},
		{"TunnelGeneve", TunnelGeneve, int(spec.TunnelGeneve)},
		{"TunnelIPIP", TunnelIPIP, int(spec.TunnelIPIP)},
		{"TunnelIP6IP", TunnelIP6IP, int(spec.TunnelIP6IP)},
		{"TunnelGTPU", TunnelGTPU, int(spec.TunnelGTPU)},
		{"TunnelERSPAN", TunnelERSPAN, int(spec.TunnelERSPAN)},
		{"TunnelVXLANGPE", TunnelVXLANGPE, int(spec.TunnelVXLANGPE)},
		{"TunnelNSH", TunnelNSH, int(spec.TunnelNSH)},
		{"TunnelPIM", TunnelPIM, int(spec.TunnelPIM)},
		{"TunnelMACsec", TunnelMACsec, int(spec.TunnelMACsec)},
		{"verdictSize", verdictSize, spec.VerdictSize},
		{"eventsHeader", eventsHeader, spec.EventsHeaderSize},
		{"eventHeader", eventHeader, spec.EventHeaderSize},
		{"eventNoPacket", eventNoPacket, spec.EventNoPacket},
		{"infoFlagTick", infoFlagTick, spec.InfoFlagTick},
		{"actionMatch", actionMatch, spec.VerdictMatch},
		{"actionForward", actionForward, spec.VerdictForward},
		{"actionDrop", actionDrop, spec.VerdictDrop},
		{"fieldString", fieldString, spec.FieldString},
		{"fieldUint", fieldUint, spec.FieldUint},
		{"fieldInt", fieldInt, spec.FieldInt},
		{"fieldBool", fieldBool, spec.FieldBool},
		{"fieldAddr", fieldAddr, spec.FieldAddr},
		{"noOffset", noOffset, spec.NoOffset},
		{"recTimestamp", recTimestamp, spec.RecTimestamp},
		{"recCapLen", recCapLen, spec.RecCapLen},
		{"recWireLen", recWireLen, spec.RecWireLen},
		{"recL3Off", recL3Off, spec.RecL3Off},
		{"recL4Off", recL4Off, spec.RecL4Off},
		{"recPayloadOff", recPayloadOff, spec.RecPayloadOff},
		{"recEtherType", recEtherType, spec.RecEtherType},
		{"recIPVersion", recIPVersion, spec.RecIPVersion},
		{"recIPProto", recIPProto, spec.RecIPProto},
		{"recTCPFlags", recTCPFlags, spec.RecTCPFlags},
		{"recSrcPort", recSrcPort, spec.RecSrcPort},
		{"recDstPort", recDstPort, spec.RecDstPort},
		{"recSrcAddr", recSrcAddr, spec.RecSrcAddr},
		{"recDstAddr", recDstAddr, spec.RecDstAddr},
		{"recFlowHash", recFlowHash, spec.RecFlowHash},
		{"recFlags", recFlags, spec.RecFlags},
		{"recPayloadLen", recPayloadLen, spec.RecPayloadLen},
		{"FlagTruncated", FlagTruncated, spec.RecFlagTruncated},
		{"FlagMalformed", FlagMalformed, spec.RecFlagMalformed},
		{"FlagFragment", FlagFragment, spec.RecFlagFragment},
		{"FlagLaterFragment", FlagLaterFragment, spec.RecFlagLaterFragment},
		{"NeedPayload", int(NeedPayload), spec.NeedPayload},
		{"NeedPacket", int(NeedPacket), spec.NeedPacket},
		{"NeedHeaders", int(NeedHeaders), spec.NeedHeaders},
		{"flowReqSize", flowReqSize, spec.FlowReqSize},
		{"maxFlowReqs", maxFlowReqs, spec.MaxFlowReqs},
		{"FlowKeep", int(FlowKeep), spec.FlowActionKeep},
		{"FlowCapture", int(FlowCapture), spec.FlowActionCapture},
		{"FlowDrop", int(FlowDrop), spec.FlowActionDrop},
		{"FlowBypass", int(FlowBypass), spec.FlowActionBypass},
		{"FlowErrArgs", FlowErrArgs, spec.RuleErrArgs},
		{"FlowErrQuota", FlowErrQuota, spec.RuleErrQuota},
		{"FlowErrRate", FlowErrRate, spec.RuleErrRate},
		{"FlowErrConflict", FlowErrConflict, spec.RuleErrConflict},
		{"FlowErrUnknown", FlowErrUnknown, spec.RuleErrUnknown},
		{"FlowErrNoTable", FlowErrNoTable, spec.RuleErrNoTable},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, spec says %d", c.name, c.got, c.want)
		}
	}
}

// TestEventEncoding writes events natively and checks the bytes the host
// will decode.
func TestEventEncoding(t *testing.T) {
	events = make([]byte, 64)
	p := Packet{index: 2}
	p.Event("x").String("k", "v").Uint("n", 7).Done()
	used := le32(events)
	if used != (8+1+1)+(2+1+2+1)+(2+1+8) { // header and kind, string field, uint field
		t.Fatalf("used %d", used)
	}
	if le16(events[8:]) != uint16(used) || le16(events[10:]) != 2 || le32(events[12:]) != 2 {
		t.Fatalf("header % x", events[8:16])
	}
	// An event that does not fit is counted as lost and leaves the area alone.
	p.Event("big").String("k", string(make([]byte, 100))).Done()
	if le32(events) != used || le32(events[4:]) != 1 {
		t.Fatalf("used %d lost %d", le32(events), le32(events[4:]))
	}
}

func TestConfigGet(t *testing.T) {
	c := Config("a=1\nidle=30\nb=\n")
	if v, ok := c.Get("idle"); !ok || v != "30" {
		t.Fatalf("idle = %q %v", v, ok)
	}
	if v, ok := c.Get("b"); !ok || v != "" {
		t.Fatalf("b = %q %v", v, ok)
	}
	if _, ok := c.Get("zz"); ok {
		t.Fatal("zz found")
	}
}
