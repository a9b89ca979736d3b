package wasm

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wringcap/wring/spec"
)

// fakeFlows is a FlowTable over a map; reserved keys (by FlowRule.key)
// belong to someone else and conflict.
type fakeFlows struct {
	mu       sync.Mutex
	next     uint64
	flows    map[uint64]FlowRule
	reserved map[ruleKey]bool
	updates  int
	gone     map[uint64]bool // FlowsAlive reports these as expired
}

func newFakeFlows() *fakeFlows {
	return &fakeFlows{flows: map[uint64]FlowRule{}, reserved: map[ruleKey]bool{}, gone: map[uint64]bool{}}
}

func (f *fakeFlows) UpdateFlows(add []FlowRule, del []uint64, ids []uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range add {
		if f.reserved[add[i].key()] {
			return &FlowTableError{Index: i, Err: fmt.Errorf("flow %d: %w", i, ErrFlowConflict)}
		}
	}
	f.updates++
	for _, id := range del {
		delete(f.flows, id)
	}
	for i, r := range add {
		f.next++
		f.flows[f.next] = r
		ids[i] = f.next
	}
	return nil
}

func (f *fakeFlows) FlowsAlive(ids []uint64, now int64) []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := ids[:0]
	for _, id := range ids {
		if _, ok := f.flows[id]; ok && !f.gone[id] {
			out = append(out, id)
		}
	}
	return out
}

func (f *fakeFlows) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.flows)
}

var testFlow = FlowRule{IPVersion: 4, Proto: 17, Src: netip.MustParseAddrPort("192.0.2.1:4000"),
	Dst: netip.MustParseAddrPort("198.51.100.2:5000"), Both: true, Idle: 30 * time.Second, Action: spec.FlowActionKeep}

// watBytes writes b as a WAT data string.
func watBytes(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		fmt.Fprintf(&s, `\%02x`, c)
	}
	return s.String()
}

// flowModule is the test analyzer with the flow imports and the record r at
// 0x9000; after each batch it runs body (which may use $add and $del).
func flowModule(t *testing.T, r FlowRule, body string) []byte {
	var rec [spec.FlowReqSize]byte
	EncodeFlowRequest(rec[:], &r)
	imp := `(import "wring" "rule_add" (func $add (param i32 i32) (result i32)))
	        (import "wring" "rule_del" (func $del (param i32 i32) (result i32)))`
	return analyzerWAT(t, map[string]string{"{{IMPORTS}}": imp, "{{AFTER}}": body,
		"{{EXTRA}}": `(data (i32.const 0x9000) "` + watBytes(rec[:]) + `")`})
}

func TestRuleAddCapability(t *testing.T) {
	bin := flowModule(t, testFlow, `(drop (call $add (i32.const 0x9000) (i32.const 64)))`)
	_, err := NewHost(context.Background(), testConfig(nil), Analyzer{Name: "sipper", Binary: bin})
	if !errors.Is(err, ErrCapability) || !strings.Contains(err.Error(), `"sipper"`) || !strings.Contains(err.Error(), "rule_add") {
		t.Fatalf("without the grant: %v", err)
	}
}

// TestRuleAddDel: an add, a refresh, a delete and a delete of what is gone,
// each result seen by the guest (stored in its "http" counter) and counted
// by the host.
func TestRuleAddDel(t *testing.T) {
	tbl := newFakeFlows()
	// Batch 1 adds; batch 2 adds again (a refresh); batch 3 deletes; batch
	// 4 deletes again. The counter "http" gets the last result + 1000.
	bin := flowModule(t, testFlow, `
	  (local.set $i (i32.wrap_i64 (i64.load (i32.const 0x10008))))
	  (if (i32.le_u (local.get $i) (i32.const 2))
	    (then (i64.store (i32.const 0x1010) (i64.extend_i32_s (i32.add (i32.const 1000) (call $add (i32.const 0x9000) (i32.const 64))))))
	    (else (i64.store (i32.const 0x1010) (i64.extend_i32_s (i32.add (i32.const 1000) (call $del (i32.const 0x9000) (i32.const 64)))))))`)
	h := newHost(t, testConfig(nil).WithFlowTable(tbl), Analyzer{Name: "sip", Binary: bin, GrantRules: true})
	w := h.NewWorker()
	want := []int64{1001, 1001, 1001, 1000 + int64(spec.RuleResult(0, spec.RuleErrUnknown))}
	wantLen := []int{1, 1, 0, 0}
	for i, wv := range want {
		if err := w.Handle(mkBatch([]uint16{1}, 64)); err != nil {
			t.Fatal(err)
		}
		got, _ := counter(h, "sip", "http")
		if int64(got) != wv {
			t.Errorf("batch %d: the guest saw %d, want %d", i+1, int64(got)-1000, wv-1000)
		}
		if n := tbl.len(); n != wantLen[i] {
			t.Errorf("batch %d: table holds %d flows, want %d", i+1, n, wantLen[i])
		}
	}
	fs := h.FlowStats()
	if len(fs) != 1 || fs[0].Added != 1 || fs[0].Refreshed != 1 || fs[0].Removed != 1 || fs[0].RefusedUnknown != 1 || fs[0].Refused != 1 || fs[0].Alive != 0 {
		t.Fatalf("flow stats %+v", fs)
	}
	tbl.mu.Lock()
	defer tbl.mu.Unlock()
	if tbl.updates != 3 {
		t.Errorf("%d table updates, want 3", tbl.updates)
	}
}

// TestRuleAddFlood: a module that adds a new flow per loop iteration, 5,000
// per batch, is held to its quota (alive flows, adds per second): the rest
// is refused, counted and logged with its name, and the capture goes on
// (every batch handled, no analyzer failure).
func TestRuleAddFlood(t *testing.T) {
	var logs logBuffer
	tbl := newFakeFlows()
	// Port i for the source: each add is a new flow. Count successes in
	// "http".
	bin := flowModule(t, testFlow, `
	  (local.set $i (i32.const 0))
	  (block $out (loop $l
	    (br_if $out (i32.ge_u (local.get $i) (i32.const 5000)))
	    (i32.store16 (i32.const 0x9004) (i32.add (local.get $i) (i32.mul (i32.wrap_i64 (i64.load (i32.const 0x10008))) (i32.const 5000))))
	    (if (i32.eq (call $add (i32.const 0x9000) (i32.const 64)) (i32.const 1))
	      (then (i64.store (i32.const 0x1010) (i64.add (i64.load (i32.const 0x1010)) (i64.const 1)))))
	    (local.set $i (i32.add (local.get $i) (i32.const 1)))
	    (br $l)))`)
	cfg := testConfig(&logs).WithFlowTable(tbl).WithFlowQuota(300, 1000).WithFuel(100_000_000)
	h := newHost(t, cfg, Analyzer{Name: "flooder", Binary: bin, GrantRules: true})
	w := h.NewWorker()
	const batches = 3
	for i := 0; i < batches; i++ {
		if err := w.Handle(mkBatch([]uint16{2, 1}, 64)); err != nil {
			t.Fatal(err)
		}
	}
	st := statsOf(h, "flooder")
	ok, _ := counter(h, "flooder", "http")
	fs := h.FlowStats()[0]
	t.Logf("guest saw %d adds succeed; host: %+v; calls %d, failures %d", ok, fs, st.Calls, st.Failures)
	if st.Failures != 0 || st.Calls != batches || st.Packets != 2*batches {
		t.Fatalf("the capture did not go on: %+v", st)
	}
	if ok != 300 || fs.Added != 300 || tbl.len() != 300 || fs.Alive != 300 {
		t.Fatalf("adds %d (host %d, table %d), want the quota of 300", ok, fs.Added, tbl.len())
	}
	if fs.Refused != batches*5000-300 || fs.RefusedQuota+fs.RefusedRate != fs.Refused || fs.RefusedQuota == 0 {
		t.Fatalf("refusals %+v, want %d", fs, batches*5000-300)
	}
	if !strings.Contains(logs.String(), "analyzer=flooder") || !strings.Contains(logs.String(), "flow rule refused") {
		t.Fatalf("no refusal logged with the module's name:\n%s", logs.String())
	}
	if n := strings.Count(logs.String(), "flow rule refused"); n > 3 {
		t.Errorf("%d refusal lines: the log is not rate limited", n)
	}
	// Expired flows free the quota: the table says they are gone.
	tbl.mu.Lock()
	for id := range tbl.flows {
		tbl.gone[id] = true
	}
	tbl.mu.Unlock()
	time.Sleep(1100 * time.Millisecond) // the next wall-clock second: a new rate window and prune
	if err := w.Handle(mkBatch([]uint16{1}, 64)); err != nil {
		t.Fatal(err)
	}
	fs = h.FlowStats()[0]
	if fs.Expired != 300 || fs.Added != 600 {
		t.Fatalf("after expiry: %+v, want 300 expired and 300 more added", fs)
	}
}

// TestRuleAddRate: the adds-per-second quota alone.
func TestRuleAddRate(t *testing.T) {
	tbl := newFakeFlows()
	h := newHost(t, testConfig(nil).WithFlowTable(tbl).WithFlowQuota(10000, 50), Analyzer{Name: "r", Binary: flowModule(t, testFlow, ""), GrantRules: true})
	a := h.analyzers[0]
	var rec [spec.FlowReqSize]byte
	wall := time.Unix(1000, 0)
	okN := 0
	for i := 0; i < 80; i++ {
		r := testFlow
		r.Src = netip.AddrPortFrom(r.Src.Addr(), uint16(i+1))
		EncodeFlowRequest(rec[:], &r)
		if a.applyFlows(ruleAddImport, rec[:], 1, false, 1, wall) == 1 {
			okN++
		}
	}
	if fs := h.FlowStats()[0]; okN != 50 || fs.RefusedRate != 30 {
		t.Fatalf("%d adds in one second, %+v; want 50 and 30 refused by rate", okN, fs)
	}
	r := testFlow
	r.Src = netip.AddrPortFrom(r.Src.Addr(), 999)
	EncodeFlowRequest(rec[:], &r)
	if got := a.applyFlows(ruleAddImport, rec[:], 1, false, 1, wall.Add(time.Second)); got != 1 {
		t.Fatalf("next second: %d", got)
	}
}

// TestRuleAddErrors: bad records give their code and the index; the records
// before the bad one are applied; a conflict with the operator's rule is
// named.
func TestRuleAddErrors(t *testing.T) {
	tbl := newFakeFlows()
	reserved := testFlow
	reserved.Src = netip.AddrPortFrom(reserved.Src.Addr(), 7)
	tbl.reserved[reserved.key()] = true
	h := newHost(t, testConfig(nil).WithFlowTable(tbl), Analyzer{Name: "e", Binary: flowModule(t, testFlow, ""), GrantRules: true})
	a := h.analyzers[0]
	mk := func(edit func(b []byte), rs ...FlowRule) []byte {
		var out []byte
		for i, r := range rs {
			var rec [spec.FlowReqSize]byte
			EncodeFlowRequest(rec[:], &r)
			if i == len(rs)-1 && edit != nil {
				edit(rec[:])
			}
			out = append(out, rec[:]...)
		}
		return out
	}
	port := func(p uint16) FlowRule {
		r := testFlow
		r.Src = netip.AddrPortFrom(r.Src.Addr(), p)
		return r
	}
	for _, tc := range []struct {
		name string
		buf  []byte
		want int32
	}{
		{"reserved", mk(func(b []byte) { b[spec.FlowReqRsvd3] = 1 }, port(1)), spec.RuleResult(0, spec.RuleErrReserved)},
		{"flag", mk(func(b []byte) { b[spec.FlowReqFlags] |= 0x80 }, port(1)), spec.RuleResult(0, spec.RuleErrReserved)},
		{"version", mk(func(b []byte) { b[spec.FlowReqIPVer] = 5 }, port(1)), spec.RuleResult(0, spec.RuleErrIPVersion)},
		{"v4 tail", mk(func(b []byte) { b[spec.FlowReqSrcAddr+5] = 1 }, port(1)), spec.RuleResult(0, spec.RuleErrIPVersion)},
		{"ports on icmp", mk(func(b []byte) { b[spec.FlowReqProto] = 1 }, port(1)), spec.RuleResult(0, spec.RuleErrPorts)},
		{"action", mk(func(b []byte) { b[spec.FlowReqAction] = 9 }, port(1)), spec.RuleResult(0, spec.RuleErrAction)},
		{"keep with arg", mk(func(b []byte) { b[spec.FlowReqArg] = 1 }, port(1)), spec.RuleResult(0, spec.RuleErrAction)},
		{"idle 0", mk(func(b []byte) { clear(b[spec.FlowReqIdleMs : spec.FlowReqIdleMs+4]) }, port(1)), spec.RuleResult(0, spec.RuleErrIdle)},
		{"vlan untagged", mk(func(b []byte) { b[spec.FlowReqVLAN] = 3 }, port(1)), spec.RuleResult(0, spec.RuleErrVLAN)},
		{"third bad", mk(func(b []byte) { b[spec.FlowReqIPVer] = 0 }, port(10), port(11), port(12)), spec.RuleResult(2, spec.RuleErrIPVersion)},
		{"twice", mk(nil, port(20), port(20)), spec.RuleResult(1, spec.RuleErrConflict)},
		{"operator's", mk(nil, port(30), port(7), port(31)), spec.RuleResult(1, spec.RuleErrConflict)},
		{"fine", mk(nil, port(40), port(41)), 2},
	} {
		before := tbl.len()
		got := a.applyFlows(ruleAddImport, tc.buf, len(tc.buf)/spec.FlowReqSize, false, 1, time.Unix(1, 0))
		if got != tc.want {
			t.Errorf("%s: got %d (index %d code %d), want %d", tc.name, got, -got/256, -got%256, tc.want)
		}
		applied := int(tc.want)
		if tc.want < 0 {
			applied = int(-tc.want / 256)
		}
		if n := tbl.len() - before; n != applied {
			t.Errorf("%s: %d flows applied, want %d", tc.name, n, applied)
		}
	}
	// Without a table every record is refused.
	h2 := newHost(t, testConfig(nil), Analyzer{Name: "n", Binary: flowModule(t, testFlow, ""), GrantRules: true})
	if got := h2.analyzers[0].applyFlows(ruleAddImport, mk(nil, port(1)), 1, false, 1, time.Unix(1, 0)); got != spec.RuleResult(0, spec.RuleErrNoTable) {
		t.Fatalf("no table: %d", got)
	}
}

// TestRuleAddArgs: lengths that are not whole records, and records outside
// memory, through the import.
func TestRuleAddArgs(t *testing.T) {
	for _, tc := range []struct{ ptr, n string }{
		{"0x9000", "63"}, {"0x9000", "0"}, {"0x9000", fmt.Sprint(64 * (spec.MaxFlowReqs + 1))}, {"0x10fff0", "64"},
	} {
		tbl := newFakeFlows()
		bin := flowModule(t, testFlow, `(i64.store (i32.const 0x1010) (i64.extend_i32_s (i32.sub (i32.const 0) (call $add (i32.const `+tc.ptr+`) (i32.const `+tc.n+`)))))`)
		h := newHost(t, testConfig(nil).WithFlowTable(tbl), Analyzer{Name: "a", Binary: bin, GrantRules: true})
		if err := h.Handle(mkBatch([]uint16{1}, 64)); err != nil {
			t.Fatal(err)
		}
		if got, _ := counter(h, "a", "http"); got != spec.RuleErrArgs {
			t.Errorf("ptr %s len %s: result -%d, want -%d", tc.ptr, tc.n, got, spec.RuleErrArgs)
		}
		if st := statsOf(h, "a"); st.Failures != 0 || tbl.len() != 0 {
			t.Errorf("ptr %s len %s: %+v, %d flows", tc.ptr, tc.n, st, tbl.len())
		}
	}
}

func TestFlowRequestRoundTrip(t *testing.T) {
	for _, r := range []FlowRule{testFlow,
		{IPVersion: 6, Proto: 6, Src: netip.MustParseAddrPort("[2001:db8::1]:443"), Dst: netip.MustParseAddrPort("[2001:db8::2]:55000"),
			Tagged: true, VLAN: 4095, Idle: spec.MaxFlowIdleMs * time.Millisecond, Action: spec.FlowActionBypass, Arg: 10},
		{IPVersion: 4, Proto: 1, Src: netip.MustParseAddrPort("10.0.0.1:0"), Dst: netip.MustParseAddrPort("10.0.0.2:0"), Idle: time.Millisecond, Action: spec.FlowActionDrop},
	} {
		var b [spec.FlowReqSize]byte
		EncodeFlowRequest(b[:], &r)
		got, code := DecodeFlowRequest(b[:], false)
		if code != 0 || got != r {
			t.Errorf("%+v: decoded %+v, code %d", r, got, code)
		}
	}
}

// FuzzRuleAdd feeds arbitrary bytes to the import's decoding and to the whole
// add path (with a table that refuses some keys): a record that decodes
// encodes back to the same flow, the result is the record count or a
// refusal of a record inside the call with a known code, and the table
// holds exactly the flows applied.
func FuzzRuleAdd(f *testing.F) {
	var rec [spec.FlowReqSize]byte
	EncodeFlowRequest(rec[:], &testFlow)
	f.Add(rec[:], false)
	two := append(append([]byte(nil), rec[:]...), rec[:]...)
	two[spec.FlowReqSize+spec.FlowReqSrcPort]++
	f.Add(two, false)
	f.Add(rec[:], true)
	f.Add(rec[:63], false)
	f.Add(make([]byte, 128), false)
	f.Fuzz(func(t *testing.T, buf []byte, del bool) {
		if len(buf) > spec.FlowReqSize*8 {
			buf = buf[:spec.FlowReqSize*8]
		}
		for i := 0; i+spec.FlowReqSize <= len(buf); i += spec.FlowReqSize {
			r, code := DecodeFlowRequest(buf[i:i+spec.FlowReqSize], false)
			if code != 0 {
				continue
			}
			var b [spec.FlowReqSize]byte
			EncodeFlowRequest(b[:], &r)
			if r2, c2 := DecodeFlowRequest(b[:], false); c2 != 0 || r2 != r {
				t.Fatalf("round trip: %+v -> %+v (%d)", r, r2, c2)
			}
		}
		tbl := newFakeFlows()
		tbl.reserved[testFlow.key()] = true
		a := &analyzer{name: "fuzz", grant: true, h: &Host{cfg: testConfig(nil).WithFlowTable(tbl).WithFlowQuota(4, 1000)}}
		n := len(buf) / spec.FlowReqSize
		if n == 0 {
			return
		}
		got := a.applyFlows(ruleAddImport, buf[:n*spec.FlowReqSize], n, del, 1, time.Unix(1, 0))
		applied := int(got)
		if got < 0 {
			idx, code := int(-got/256), int(-got%256)
			if idx >= n || code < spec.RuleErrArgs || code > spec.RuleErrNoTable {
				t.Fatalf("result %d: index %d code %d for %d records", got, idx, code, n)
			}
			applied = idx
		} else if applied != n {
			t.Fatalf("result %d for %d records", got, n)
		}
		if !del && tbl.len() != len(a.flows.owned) || tbl.len() > 4 || (!del && applied > 0 && tbl.len() == 0) {
			t.Fatalf("table %d flows, analyzer holds %d, applied %d", tbl.len(), len(a.flows.owned), applied)
		}
	})
}
