package rules

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrLimit is wrapped by the errors of a rule set over one of the limits.
var ErrLimit = errors.New("over a limit")

// check validates an action.
func (a Action) check() error {
	switch a.Verb {
	case VerbCapture, VerbDrop, VerbPass, VerbKeep:
		if a.N != 0 || a.PerFlow || a.Tag != 0 || a.Sink != "" {
			return fmt.Errorf("%s takes no argument", a.Verb)
		}
	case VerbSample:
		if a.N == 0 {
			return errors.New("sample 0: N must be at least 1")
		}
		if a.Tag != 0 || a.Sink != "" {
			return errors.New("sample takes only N and packet or flow")
		}
	case VerbBypass:
		if a.PerFlow || a.Tag != 0 || a.Sink != "" {
			return errors.New("bypass takes only N")
		}
	case VerbTag:
		if a.N != 0 || a.PerFlow || a.Sink != "" {
			return errors.New("tag takes only T")
		}
	case VerbForward:
		if a.N != 0 || a.PerFlow || a.Tag != 0 {
			return errors.New("forward takes only a sink name")
		}
		if err := checkSink(a.Sink); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown action %d", uint8(a.Verb))
	}
	return nil
}

func checkSink(s string) error {
	if s == "" {
		return errors.New("forward needs a sink name")
	}
	if len(s) > MaxSinkName {
		return fmt.Errorf("sink name of %d bytes, at most %d: %w", len(s), MaxSinkName, ErrLimit)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("sink name %q: only letters, digits, '_', '-' and '.'", s)
		}
	}
	if !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return fmt.Errorf("sink name %q must start with a letter", s)
	}
	return nil
}

func checkPrefix(name string, p netip.Prefix) error {
	if !p.IsValid() {
		return fmt.Errorf("%s: invalid prefix", name)
	}
	if p.Addr().Is4In6() {
		return fmt.Errorf("%s %s: an IPv4-mapped IPv6 prefix; write the IPv4 form", name, p)
	}
	if p.Addr().Zone() != "" {
		return fmt.Errorf("%s %s: a zone is not allowed", name, p)
	}
	if p != p.Masked() {
		return fmt.Errorf("%s %s: host bits set (the network is %s)", name, p, p.Masked())
	}
	return nil
}

func ipVersion(a netip.Addr) uint8 {
	if a.Is4() {
		return 4
	}
	return 6
}

// check validates a match.
func (m *Match) check() error {
	f := m.Fields
	if f&^(FieldQueue|FieldVLAN|FieldEtherType|FieldIPVersion|FieldProto|FieldSrc|FieldDst|FieldSrcPort|FieldDstPort|FieldTCPFlags) != 0 {
		return fmt.Errorf("unknown match fields %#x", uint16(f))
	}
	zero := func(has Field, isZero bool, name string) error {
		if f&has == 0 && !isZero {
			return fmt.Errorf("%s set but not in Fields", name)
		}
		return nil
	}
	for _, z := range []error{
		zero(FieldQueue, m.Queue == 0, "queue"), zero(FieldVLAN, m.VLAN == 0, "vlan"),
		zero(FieldEtherType, m.EtherType == 0, "ethertype"), zero(FieldIPVersion, m.IPVersion == 0, "ip"),
		zero(FieldProto, m.Proto == 0, "proto"), zero(FieldSrc, m.Src == netip.Prefix{}, "src"),
		zero(FieldDst, m.Dst == netip.Prefix{}, "dst"), zero(FieldSrcPort, m.SrcPort == PortRange{}, "sport"),
		zero(FieldDstPort, m.DstPort == PortRange{}, "dport"), zero(FieldTCPFlags, m.Flags == 0 && m.FlagMask == 0, "flags"),
	} {
		if z != nil {
			return z
		}
	}
	if f&FieldVLAN != 0 && m.VLAN > 4095 {
		return fmt.Errorf("vlan %d: at most 4095", m.VLAN)
	}
	if f&FieldIPVersion != 0 && m.IPVersion != 4 && m.IPVersion != 6 {
		return fmt.Errorf("ip %d: want 4 or 6", m.IPVersion)
	}
	ver := m.IPVersion
	for _, p := range []struct {
		has  Field
		name string
		p    netip.Prefix
	}{{FieldSrc, "src", m.Src}, {FieldDst, "dst", m.Dst}} {
		if f&p.has == 0 {
			continue
		}
		if err := checkPrefix(p.name, p.p); err != nil {
			return err
		}
		v := ipVersion(p.p.Addr())
		if ver != 0 && v != ver {
			return fmt.Errorf("%s %s is IPv%d but the rule is IPv%d", p.name, p.p, v, ver)
		}
		ver = v
	}
	if f&(FieldSrcPort|FieldDstPort) != 0 && (f&FieldProto == 0 || !hasPorts(m.Proto)) {
		return errors.New("ports need proto tcp, udp or sctp")
	}
	for _, r := range []struct {
		has  Field
		name string
		r    PortRange
	}{{FieldSrcPort, "sport", m.SrcPort}, {FieldDstPort, "dport", m.DstPort}} {
		if f&r.has != 0 && r.r.Lo > r.r.Hi {
			return fmt.Errorf("%s %d-%d: the range is empty", r.name, r.r.Lo, r.r.Hi)
		}
	}
	if f&FieldTCPFlags != 0 {
		if f&FieldProto == 0 || m.Proto != ProtoTCP {
			return errors.New("flags need proto tcp")
		}
		if m.Flags&^m.FlagMask != 0 {
			return fmt.Errorf("flags %#02x/%#02x: value bits outside the mask", m.Flags, m.FlagMask)
		}
	}
	return nil
}

// Check reports whether the rule is valid: a known action with its
// argument, and a consistent match.
func (r *Rule) Check() error {
	if err := r.Match.check(); err != nil {
		return fmt.Errorf("rule %d: %w", r.ID, err)
	}
	if err := r.Action.check(); err != nil {
		return fmt.Errorf("rule %d: %w", r.ID, err)
	}
	if n := r.entryCount(); n > MaxRuleEntries {
		return fmt.Errorf("rule %d: expands to %d table entries, at most %d (narrow its port ranges): %w", r.ID, n, MaxRuleEntries, ErrLimit)
	}
	return nil
}

// Check reports whether the flow rule is valid.
func (fl *Flow) Check() error {
	if err := fl.check(); err != nil {
		return fmt.Errorf("flow %d: %w", fl.ID, err)
	}
	return nil
}

func (fl *Flow) check() error {
	if !fl.Src.IsValid() || !fl.Dst.IsValid() {
		return errors.New("needs src and dst address:port")
	}
	for _, a := range []netip.Addr{fl.Src.Addr(), fl.Dst.Addr()} {
		if a.Is4In6() {
			return fmt.Errorf("%s: an IPv4-mapped IPv6 address; write the IPv4 form", a)
		}
		if a.Zone() != "" {
			return fmt.Errorf("%s: a zone is not allowed", a)
		}
	}
	if fl.Src.Addr().Is4() != fl.Dst.Addr().Is4() {
		return errors.New("src and dst are of different IP versions")
	}
	if !hasPorts(fl.Proto) && (fl.Src.Port() != 0 || fl.Dst.Port() != 0) {
		return fmt.Errorf("proto %d has no ports: give port 0", fl.Proto)
	}
	if fl.VLAN > 4095 {
		return fmt.Errorf("vlan %d: at most 4095", fl.VLAN)
	}
	if !fl.Tagged && fl.VLAN != 0 {
		return errors.New("vlan set on an untagged flow")
	}
	if fl.Idle < 0 || fl.Idle > MaxIdle {
		return fmt.Errorf("idle %v: want 0 to %v", fl.Idle, MaxIdle)
	}
	return fl.Action.check()
}

// Check validates every rule and that ids are unique across rules and
// flows.
func (f *File) Check() error {
	if len(f.Rules) > MaxRules {
		return fmt.Errorf("%d rules, at most %d: %w", len(f.Rules), MaxRules, ErrLimit)
	}
	if len(f.Flows) > MaxFlows {
		return fmt.Errorf("%d flows, at most %d: %w", len(f.Flows), MaxFlows, ErrLimit)
	}
	seen := make(map[uint32]bool, len(f.Rules)+len(f.Flows))
	for i := range f.Rules {
		if err := f.Rules[i].Check(); err != nil {
			return err
		}
		if seen[f.Rules[i].ID] {
			return fmt.Errorf("rule %d: the id is used twice", f.Rules[i].ID)
		}
		seen[f.Rules[i].ID] = true
	}
	for i := range f.Flows {
		if err := f.Flows[i].Check(); err != nil {
			return err
		}
		if seen[f.Flows[i].ID] {
			return fmt.Errorf("flow %d: the id is used twice", f.Flows[i].ID)
		}
		seen[f.Flows[i].ID] = true
	}
	return nil
}
