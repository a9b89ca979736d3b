package ipfix

import (
	"fmt"
	"net"
	"time"
)

// udpSender sends each message as one datagram on a connected UDP socket,
// with templates on start, after TemplateMessages data messages and after
// TemplateInterval.
type udpSender struct {
	x        *Exporter
	conn     net.Conn
	tmpl     []byte
	lastTmpl time.Time // zero: never sent
	since    int       // data messages since the templates
}

func newUDPSender(x *Exporter) (*udpSender, error) {
	c, err := net.Dial("udp", x.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("ipfix: udp %s: %w", x.cfg.Addr, err)
	}
	s := &udpSender{x: x, conn: c, tmpl: make([]byte, 0, headerLen+len(templateSet))}
	s.templates(time.Now(), 0)
	return s, nil
}

func (s *udpSender) ready(time.Time) time.Duration { return 0 }

// templates sends the template message (on failure, it is tried again
// before the next data message).
func (s *udpSender) templates(now time.Time, seq uint32) {
	s.tmpl = templateMessage(s.tmpl, uint32(now.Unix()), seq, s.x.cfg.Domain)
	if _, err := s.conn.Write(s.tmpl); err != nil {
		s.lastTmpl = time.Time{}
		return
	}
	s.lastTmpl, s.since = now, 0
	s.x.templates.Add(1)
	s.x.sent(len(s.tmpl))
}

func (s *udpSender) due(now time.Time) bool {
	return s.lastTmpl.IsZero() || s.since >= s.x.cfg.TemplateMessages || now.Sub(s.lastTmpl) >= s.x.cfg.TemplateInterval
}

func (s *udpSender) sendData(m message, now time.Time) error {
	if s.due(now) {
		s.templates(now, m.seq)
	}
	s.since++
	_, err := s.conn.Write(m.buf)
	return err
}

func (s *udpSender) tick(now time.Time, seq uint32) {
	if s.due(now) {
		s.templates(now, seq)
	}
}

func (s *udpSender) close() { s.conn.Close() }
