package wasm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/wringcap/wring/spec"
)

// FlowRule is an exact flow rule an analyzer asks for through wring.rule_add
// (spec/ABI.md §12), validated by the host.
type FlowRule struct {
	Owner     string // the analyzer's name
	IPVersion uint8  // 4 or 6
	Proto     uint8
	Src, Dst  netip.AddrPort
	Tagged    bool   // the flow's packets carry an outer VLAN tag with id VLAN
	VLAN      uint16 // 0..4095
	Both      bool   // also the reverse direction
	Idle      time.Duration
	Action    uint8  // spec.FlowAction*
	Arg       uint32 // bypass N
	Now       int64  // capture time (ns) of the batch that asked: the idle timeout counts from it
}

// FlowTable is the capture's rule table as the host sees it: the caller
// (cmd/wring) adapts its classifier to it, so the host does not depend on
// the rule package. Its methods are called from the workers' goroutines,
// concurrently.
type FlowTable interface {
	// UpdateFlows removes the flows of del (ids it gave earlier; unknown
	// ids are ignored) and adds those of add, all of it or none; on
	// success ids[i] is the id of add[i]. A refusal is a *FlowTableError
	// naming the first add it could not take.
	UpdateFlows(add []FlowRule, del []uint64, ids []uint64) error
	// FlowsAlive keeps in ids those still in the table at capture time now
	// (not removed, not idle past their timeout) and returns them.
	FlowsAlive(ids []uint64, now int64) []uint64
}

// Errors a FlowTable wraps in a *FlowTableError.
var (
	ErrFlowConflict = errors.New("another rule holds the flow's key")
	ErrFlowFull     = errors.New("the rule table is full")
)

// FlowTableError is a FlowTable's refusal of add[Index].
type FlowTableError struct {
	Index int
	Err   error // wraps ErrFlowConflict, ErrFlowFull or another cause
}

func (e *FlowTableError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *FlowTableError) Unwrap() error { return e.Err }

// Defaults of the per-analyzer flow quota (WithFlowQuota).
const (
	DefaultFlowsAlive  = 4096 // flows one analyzer may have in the table
	DefaultFlowsPerSec = 1024 // flows one analyzer may add (or refresh) per second of wall time
)

// flowConfig is the host's flow rule configuration.
type flowConfig struct {
	table  FlowTable
	alive  int // 0: DefaultFlowsAlive
	perSec int // 0: DefaultFlowsPerSec
}

// WithFlowTable gives the host the capture's rule table: analyzers granted
// the rules capability add exact flow rules to it through wring.rule_add.
// Without one, rule_add refuses every record (spec.RuleErrNoTable).
func (c Config) WithFlowTable(t FlowTable) Config {
	c.flows.table = t
	return c
}

// WithFlowQuota bounds what one analyzer may do to the flow table: alive
// flows in it at once and adds (new or refreshed) per second of wall time.
// Values below 1 keep the defaults. What is over the quota is refused,
// counted (FlowStats) and logged with the analyzer's name.
func (c Config) WithFlowQuota(alive, perSecond int) Config {
	if alive > 0 {
		c.flows.alive = alive
	}
	if perSecond > 0 {
		c.flows.perSec = perSecond
	}
	return c
}

func (f flowConfig) maxAlive() int {
	if f.alive > 0 {
		return f.alive
	}
	return DefaultFlowsAlive
}

func (f flowConfig) maxPerSec() int {
	if f.perSec > 0 {
		return f.perSec
	}
	return DefaultFlowsPerSec
}

// ruleKey is a flow request's key: the bytes of a record that say which
// flow it is (version, protocol, flags, VLAN, ports, addresses), with a
// both-directions flow's endpoints in a fixed order so that either
// direction names it.
type ruleKey [42]byte

func (r *FlowRule) key() ruleKey {
	var k ruleKey
	k[0], k[1] = r.IPVersion, r.Proto
	if r.Both {
		k[2] |= spec.FlowReqFlagBoth
	}
	if r.Tagged {
		k[2] |= spec.FlowReqFlagVLAN
	}
	binary.BigEndian.PutUint16(k[4:], r.VLAN)
	a, b := r.Src, r.Dst
	if r.Both && b.Compare(a) < 0 {
		a, b = b, a
	}
	binary.BigEndian.PutUint16(k[6:], a.Port())
	binary.BigEndian.PutUint16(k[8:], b.Port())
	a16, b16 := a.Addr().As16(), b.Addr().As16()
	copy(k[10:], a16[:])
	copy(k[26:], b16[:])
	return k
}

// DecodeFlowRequest checks one FlowReqSize-byte record of rule_add or
// rule_del and returns the flow it asks for, or the spec.RuleErr* code of
// the first field at fault. forDel skips the action, idle and argument
// checks (rule_del reads only the key).
func DecodeFlowRequest(b []byte, forDel bool) (FlowRule, int) {
	var r FlowRule
	if len(b) != spec.FlowReqSize {
		return r, spec.RuleErrArgs
	}
	le := binary.LittleEndian
	flags := b[spec.FlowReqFlags]
	if flags&^(spec.FlowReqFlagBoth|spec.FlowReqFlagVLAN) != 0 || le.Uint16(b[spec.FlowReqRsvd1:]) != 0 ||
		le.Uint32(b[spec.FlowReqRsvd2:]) != 0 || le.Uint64(b[spec.FlowReqRsvd3:]) != 0 {
		return r, spec.RuleErrReserved
	}
	r.IPVersion, r.Proto = b[spec.FlowReqIPVer], b[spec.FlowReqProto]
	r.Both, r.Tagged = flags&spec.FlowReqFlagBoth != 0, flags&spec.FlowReqFlagVLAN != 0
	r.VLAN = le.Uint16(b[spec.FlowReqVLAN:])
	if r.VLAN > 4095 || (!r.Tagged && r.VLAN != 0) {
		return r, spec.RuleErrVLAN
	}
	var src, dst netip.Addr
	switch r.IPVersion {
	case 4:
		for _, off := range []int{spec.FlowReqSrcAddr, spec.FlowReqDstAddr} {
			for _, c := range b[off+4 : off+16] {
				if c != 0 {
					return r, spec.RuleErrIPVersion
				}
			}
		}
		src = netip.AddrFrom4([4]byte(b[spec.FlowReqSrcAddr:]))
		dst = netip.AddrFrom4([4]byte(b[spec.FlowReqDstAddr:]))
	case 6:
		src = netip.AddrFrom16([16]byte(b[spec.FlowReqSrcAddr:]))
		dst = netip.AddrFrom16([16]byte(b[spec.FlowReqDstAddr:]))
		if src.Is4In6() || dst.Is4In6() {
			return r, spec.RuleErrIPVersion // the rule table speaks IPv4 in its own form
		}
	default:
		return r, spec.RuleErrIPVersion
	}
	sp, dp := le.Uint16(b[spec.FlowReqSrcPort:]), le.Uint16(b[spec.FlowReqDstPort:])
	ported := r.Proto == 6 || r.Proto == 17 || r.Proto == 132
	if !ported && (sp != 0 || dp != 0) {
		return r, spec.RuleErrPorts
	}
	r.Src, r.Dst = netip.AddrPortFrom(src, sp), netip.AddrPortFrom(dst, dp)
	if forDel {
		return r, 0
	}
	r.Action, r.Arg = b[spec.FlowReqAction], le.Uint32(b[spec.FlowReqArg:])
	switch r.Action {
	case spec.FlowActionKeep, spec.FlowActionCapture, spec.FlowActionDrop:
		if r.Arg != 0 {
			return r, spec.RuleErrAction
		}
	case spec.FlowActionBypass:
	default:
		return r, spec.RuleErrAction
	}
	ms := le.Uint32(b[spec.FlowReqIdleMs:])
	if ms == 0 || ms > spec.MaxFlowIdleMs {
		return r, spec.RuleErrIdle
	}
	r.Idle = time.Duration(ms) * time.Millisecond
	return r, 0
}

// EncodeFlowRequest writes r as a FlowReqSize-byte record (for tests and
// hosts that drive the import); b must hold FlowReqSize bytes.
func EncodeFlowRequest(b []byte, r *FlowRule) {
	clear(b[:spec.FlowReqSize])
	le := binary.LittleEndian
	b[spec.FlowReqIPVer], b[spec.FlowReqProto], b[spec.FlowReqAction] = r.IPVersion, r.Proto, r.Action
	if r.Both {
		b[spec.FlowReqFlags] |= spec.FlowReqFlagBoth
	}
	if r.Tagged {
		b[spec.FlowReqFlags] |= spec.FlowReqFlagVLAN
	}
	le.PutUint16(b[spec.FlowReqSrcPort:], r.Src.Port())
	le.PutUint16(b[spec.FlowReqDstPort:], r.Dst.Port())
	le.PutUint16(b[spec.FlowReqVLAN:], r.VLAN)
	le.PutUint32(b[spec.FlowReqIdleMs:], uint32(r.Idle/time.Millisecond))
	le.PutUint32(b[spec.FlowReqArg:], r.Arg)
	s, d := r.Src.Addr(), r.Dst.Addr()
	if r.IPVersion == 4 {
		s4, d4 := s.As4(), d.As4()
		copy(b[spec.FlowReqSrcAddr:], s4[:])
		copy(b[spec.FlowReqDstAddr:], d4[:])
	} else {
		s16, d16 := s.As16(), d.As16()
		copy(b[spec.FlowReqSrcAddr:], s16[:])
		copy(b[spec.FlowReqDstAddr:], d16[:])
	}
}

// flowState is one analyzer's flows in the table and its quota.
type flowState struct {
	mu      sync.Mutex
	owned   map[ruleKey]uint64 // key -> the table's id
	sec     int64              // the wall-clock second of the rate window
	inSec   int                // adds in it
	pruned  int64              // wall-clock second of the last prune
	logSec  int64              // the last second a refusal was logged
	logSkip uint64             // refusals not logged since

	adds, refreshes, dels, refused                     flowCounter
	refusedQuota, refusedRate, refusedBad, refusedConf flowCounter
	refusedTable, refusedNoTable, refusedUnknown       flowCounter
	expired                                            flowCounter

	// Scratch, reused under mu.
	add  []FlowRule
	keys []ruleKey
	del  []uint64
	ids  []uint64
}

type flowCounter struct{ n uint64 }

func (c *flowCounter) inc(d int) { c.n += uint64(d) }

// FlowStats are one analyzer's flow rule counts.
type FlowStats struct {
	Analyzer        string
	Alive           int    // flows it holds in the table now (as last checked)
	Added           uint64 // flows added
	Refreshed       uint64 // flows added again (timeout and action renewed)
	Removed         uint64 // flows removed by rule_del
	Expired         uint64 // flows found gone from the table (idle timeout) when the quota was checked
	Refused         uint64 // records refused, all causes
	RefusedQuota    uint64 // over the alive quota
	RefusedRate     uint64 // over the adds-per-second quota
	RefusedInvalid  uint64 // bad records or arguments
	RefusedConflict uint64 // the key was another rule's
	RefusedTable    uint64 // the table was full or refused
	RefusedNoTable  uint64 // the host has no table
	RefusedUnknown  uint64 // rule_del of a flow the analyzer does not hold
}

// FlowStats returns the flow rule counts of every analyzer granted the
// rules capability, in order.
func (h *Host) FlowStats() []FlowStats {
	var out []FlowStats
	for _, a := range h.analyzers {
		if !a.grant {
			continue
		}
		f := &a.flows
		f.mu.Lock()
		out = append(out, FlowStats{Analyzer: a.name, Alive: len(f.owned), Added: f.adds.n, Refreshed: f.refreshes.n,
			Removed: f.dels.n, Expired: f.expired.n, Refused: f.refused.n, RefusedQuota: f.refusedQuota.n,
			RefusedRate: f.refusedRate.n, RefusedInvalid: f.refusedBad.n, RefusedConflict: f.refusedConf.n,
			RefusedTable: f.refusedTable.n, RefusedNoTable: f.refusedNoTable.n, RefusedUnknown: f.refusedUnknown.n})
		f.mu.Unlock()
	}
	return out
}

// Fuel of the flow imports: hostCallCost per call, and per record the bytes
// read plus flowRecordCost for the table work.
const flowRecordCost = 2000

const (
	ruleAddImport = spec.ABIModule + "." + spec.ImportRuleAdd
	ruleDelImport = spec.ABIModule + "." + spec.ImportRuleDel
)

// hostRuleAdd implements wring.rule_add(ptr, len) -> i32.
func (a *analyzer) hostRuleAdd(ctx context.Context, mod api.Module, stack []uint64) {
	in := charge(ctx, mod, ruleAddImport, hostCallCost)
	stack[0] = api.EncodeI32(a.ruleCall(in, mod, uint32(stack[0]), uint32(stack[1]), false))
}

// hostRuleDel implements wring.rule_del(ptr, len) -> i32.
func (a *analyzer) hostRuleDel(ctx context.Context, mod api.Module, stack []uint64) {
	in := charge(ctx, mod, ruleDelImport, hostCallCost)
	stack[0] = api.EncodeI32(a.ruleCall(in, mod, uint32(stack[0]), uint32(stack[1]), true))
}

// ruleCall checks the argument, charges its fuel and applies the records.
func (a *analyzer) ruleCall(in *instance, mod api.Module, ptr, n uint32, del bool) int32 {
	op := ruleAddImport
	if del {
		op = ruleDelImport
	}
	if n == 0 || n%spec.FlowReqSize != 0 || n/spec.FlowReqSize > spec.MaxFlowReqs {
		a.refuse(op, 1, spec.RuleErrArgs, "length %d is not 1..%d records of %d bytes", n, spec.MaxFlowReqs, spec.FlowReqSize)
		return spec.RuleResult(0, spec.RuleErrArgs)
	}
	count := int(n / spec.FlowReqSize)
	in.charge(mod, op, int64(n)*hostByteCost+int64(count)*flowRecordCost)
	buf, ok := mod.Memory().Read(ptr, n)
	if !ok {
		a.refuse(op, count, spec.RuleErrArgs, "records at %#x+%d lie outside memory", ptr, n)
		return spec.RuleResult(0, spec.RuleErrArgs)
	}
	now := in.callNow
	if now == 0 {
		now = in.lastNow
	}
	return a.applyFlows(op, buf, count, del, now, time.Now())
}

// applyFlows validates the count records of buf and applies them to the
// table in one update, up to the first refused one. wall is the time the
// rate quota counts in.
func (a *analyzer) applyFlows(op string, buf []byte, count int, del bool, now int64, wall time.Time) int32 {
	f := &a.flows
	f.mu.Lock()
	defer f.mu.Unlock()
	t := a.h.cfg.flows.table
	if f.owned == nil {
		f.owned = map[ruleKey]uint64{}
	}
	f.add, f.keys, f.del = f.add[:0], f.keys[:0], f.del[:0]
	bad, code, why := -1, 0, ""
	sec := wall.Unix()
	if sec != f.sec {
		f.sec, f.inSec = sec, 0
	}
	newFlows := 0
	for i := 0; i < count; i++ {
		r, c := DecodeFlowRequest(buf[i*spec.FlowReqSize:(i+1)*spec.FlowReqSize], del)
		if c != 0 {
			bad, code, why = i, c, "bad record"
			break
		}
		if t == nil {
			bad, code, why = i, spec.RuleErrNoTable, "the capture has no rule table"
			break
		}
		k := r.key()
		dup := false
		for _, pk := range f.keys {
			dup = dup || pk == k
		}
		if dup {
			bad, code, why = i, spec.RuleErrConflict, "the same flow twice in one call"
			break
		}
		id, held := f.owned[k]
		if del {
			if !held {
				bad, code, why = i, spec.RuleErrUnknown, "no such flow"
				break
			}
			f.keys = append(f.keys, k)
			f.del = append(f.del, id)
			continue
		}
		if f.inSec >= a.h.cfg.flows.maxPerSec() {
			bad, code, why = i, spec.RuleErrRate, "over the adds-per-second quota"
			break
		}
		if !held && len(f.owned)+newFlows >= a.h.cfg.flows.maxAlive() {
			a.prune(t, now, sec)
			if len(f.owned)+newFlows >= a.h.cfg.flows.maxAlive() {
				bad, code, why = i, spec.RuleErrQuota, "over the alive-flows quota"
				break
			}
		}
		if held {
			f.del = append(f.del, id)
		} else {
			newFlows++
		}
		f.inSec++
		r.Owner, r.Now = a.name, now
		f.add = append(f.add, r)
		f.keys = append(f.keys, k)
	}
	applied := len(f.keys)
	if applied > 0 {
		if del {
			if err := t.UpdateFlows(nil, f.del, nil); err != nil {
				// Removing takes nothing: a table that refuses it is broken.
				bad, code, why, applied = 0, spec.RuleErrTable, err.Error(), 0
			} else {
				for _, k := range f.keys {
					delete(f.owned, k)
				}
				f.dels.inc(applied)
			}
		} else {
			a.updateAdds(t, &bad, &code, &why)
			applied = len(f.add)
		}
	}
	if bad >= 0 {
		a.refuseLocked(op, count-bad, code, "record %d: %s", bad, why)
		return spec.RuleResult(bad, code)
	}
	return int32(applied)
}

// updateAdds applies f.add (with f.del, the replaced ids of refreshed
// flows) to the table. When the table refuses add j, it applies the adds
// before j and records the refusal in bad, code and why. It trims f.add to
// what was applied.
func (a *analyzer) updateAdds(t FlowTable, bad, code *int, why *string) {
	f := &a.flows
	for len(f.add) > 0 {
		f.ids = append(f.ids[:0], make([]uint64, len(f.add))...)
		del := f.del
		err := t.UpdateFlows(f.add, del, f.ids)
		if err == nil {
			for j, r := range f.add {
				k := f.keys[j]
				if _, held := f.owned[r.key()]; held {
					f.refreshes.inc(1)
				} else {
					f.adds.inc(1)
				}
				f.owned[k] = f.ids[j]
			}
			return
		}
		var te *FlowTableError
		j := 0
		if errors.As(err, &te) && te.Index >= 0 && te.Index < len(f.add) {
			j = te.Index
		}
		c := spec.RuleErrTable
		if errors.Is(err, ErrFlowConflict) {
			c = spec.RuleErrConflict
		}
		*bad, *code, *why = j, c, err.Error()
		// Retry with the adds before j, and the replaced ids among them.
		f.del = f.del[:0]
		for _, r := range f.add[:j] {
			if id, held := f.owned[r.key()]; held {
				f.del = append(f.del, id)
			}
		}
		f.add, f.keys = f.add[:j], f.keys[:j]
	}
}

// prune forgets the flows the table no longer has (idle timeouts), at most
// once per wall-clock second: the check is O(flows held).
func (a *analyzer) prune(t FlowTable, now, sec int64) {
	f := &a.flows
	if f.pruned == sec {
		return
	}
	f.pruned = sec
	ids := make([]uint64, 0, len(f.owned))
	for _, id := range f.owned {
		ids = append(ids, id)
	}
	alive := map[uint64]bool{}
	for _, id := range t.FlowsAlive(ids, now) {
		alive[id] = true
	}
	for k, id := range f.owned {
		if !alive[id] {
			delete(f.owned, k)
			f.expired.inc(1)
		}
	}
}

// refuse counts and logs refused records.
func (a *analyzer) refuse(op string, records, code int, format string, args ...any) {
	a.flows.mu.Lock()
	defer a.flows.mu.Unlock()
	a.refuseLocked(op, records, code, format, args...)
}

// refuseLocked counts the refusal of records records (the refused one and
// those after it, which were not tried) by cause, and logs it, at most one
// line per second per analyzer (the lines skipped are counted in the next).
func (a *analyzer) refuseLocked(op string, records, code int, format string, args ...any) {
	f := &a.flows
	f.refused.inc(records)
	switch code {
	case spec.RuleErrQuota:
		f.refusedQuota.inc(records)
	case spec.RuleErrRate:
		f.refusedRate.inc(records)
	case spec.RuleErrConflict:
		f.refusedConf.inc(records)
	case spec.RuleErrTable:
		f.refusedTable.inc(records)
	case spec.RuleErrNoTable:
		f.refusedNoTable.inc(records)
	case spec.RuleErrUnknown:
		f.refusedUnknown.inc(records)
	default:
		f.refusedBad.inc(records)
	}
	sec := time.Now().Unix()
	if f.logSec == sec {
		f.logSkip++
		return
	}
	f.logSec = sec
	skipped := f.logSkip
	f.logSkip = 0
	a.h.cfg.logger.Warn("analyzer flow rule refused", "analyzer", a.name, "import", op, "code", code,
		"reason", fmt.Sprintf(format, args...), "refused_total", f.refused.n, "not_logged", skipped)
}
