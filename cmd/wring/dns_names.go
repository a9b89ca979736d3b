package main

import (
	"bytes"
	"io"
	"strconv"
)

// dnsTypeNames and dnsRcodeNames name the DNS numbers the bundled dns
// analyzer reports (the names its counters use, qtype.AAAA, rcode.NXDOMAIN).
var (
	dnsTypeNames = map[uint64]string{
		1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV",
		35: "NAPTR", 39: "DNAME", 41: "OPT", 43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 50: "NSEC3",
		52: "TLSA", 64: "SVCB", 65: "HTTPS", 99: "SPF", 251: "IXFR", 252: "AXFR", 255: "ANY", 257: "CAA",
	}
	dnsRcodeNames = map[uint64]string{
		0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
		6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE",
	}
)

// dnsNames is the events writer that adds "type_name" and "rcode_name"
// beside the bundled dns analyzer's numeric "type" and "rcode" (spec/JSON.md:
// numbers and names both). It rewrites only lines of the named analyzer
// instances; a member key can be found by its bytes, since a quote inside a
// JSON string value is always escaped. The host writes whole lines; a
// partial line is kept until its end arrives.
type dnsNames struct {
	w       io.Writer
	prefix  [][]byte // `{"analyzer":"dns",` for each bundled dns instance
	pending []byte
	out     []byte
}

func newDNSNames(w io.Writer, analyzers []string) io.Writer {
	if len(analyzers) == 0 {
		return w
	}
	d := &dnsNames{w: w}
	for _, a := range analyzers {
		d.prefix = append(d.prefix, []byte(`{"analyzer":`+strconv.Quote(a)+`,`))
	}
	return d
}

// Write rewrites the complete lines of p and writes them; it reports all of
// p consumed when the rewritten bytes were written.
func (d *dnsNames) Write(p []byte) (int, error) {
	d.pending = append(d.pending, p...)
	d.out = d.out[:0]
	for {
		i := bytes.IndexByte(d.pending, '\n')
		if i < 0 {
			break
		}
		d.out = d.rewrite(d.out, d.pending[:i+1])
		d.pending = d.pending[i+1:]
	}
	d.pending = append([]byte(nil), d.pending...)
	if len(d.out) == 0 {
		return len(p), nil
	}
	if _, err := d.w.Write(d.out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close writes a trailing partial line, if any, and closes the writer.
func (d *dnsNames) Close() error {
	var err error
	if len(d.pending) > 0 {
		_, err = d.w.Write(d.pending)
		d.pending = nil
	}
	if c, ok := d.w.(io.Closer); ok {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func (d *dnsNames) rewrite(dst, line []byte) []byte {
	ours := false
	for _, p := range d.prefix {
		if bytes.HasPrefix(line, p) {
			ours = true
			break
		}
	}
	if !ours {
		return append(dst, line...)
	}
	for _, m := range []struct {
		key   string
		names map[uint64]string
	}{{`,"type":`, dnsTypeNames}, {`,"rcode":`, dnsRcodeNames}} {
		line = addName(line, m.key, m.names)
	}
	return append(dst, line...)
}

// addName inserts `,"<key>_name":"NAME"` after the integer member key.
func addName(line []byte, key string, names map[uint64]string) []byte {
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return line
	}
	start := i + len(key)
	end := start
	for end < len(line) && line[end] >= '0' && line[end] <= '9' {
		end++
	}
	n, err := strconv.ParseUint(string(line[start:end]), 10, 64)
	if err != nil {
		return line
	}
	name, ok := names[n]
	if !ok {
		return line
	}
	member := `,"` + key[2:len(key)-2] + `_name":"` + name + `"`
	out := make([]byte, 0, len(line)+len(member))
	out = append(out, line[:end]...)
	out = append(out, member...)
	return append(out, line[end:]...)
}
