package ipfix

import (
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// errRetry says a message was not written because the connection had
// already been closed by the collector: it goes out on the next one.
var errRetry = errors.New("ipfix: connection closed by the collector")

// tcpSender writes messages on a TCP connection, templates first on each
// new connection. A failed write closes the connection; the next message
// waits for a reconnection, tried with a backoff doubling from 100 ms to
// 10 s.
type tcpSender struct {
	x       *Exporter
	conn    net.Conn
	gone    *atomic.Bool // set when the collector closed conn (a read returned)
	tmpl    []byte
	backoff time.Duration
	next    time.Time // earliest next connection attempt
}

// writeTimeout bounds one write: a collector that stops reading for this
// long counts as gone.
const writeTimeout = 5 * time.Second

func newTCPSender(x *Exporter) *tcpSender {
	return &tcpSender{x: x, tmpl: make([]byte, 0, headerLen+len(templateSet))}
}

func (s *tcpSender) ready(now time.Time) time.Duration {
	if s.conn != nil {
		return 0
	}
	if now.Before(s.next) {
		return s.next.Sub(now)
	}
	c, err := net.DialTimeout("tcp", s.x.cfg.Addr, 2*time.Second)
	if err == nil {
		s.tmpl = templateMessage(s.tmpl, uint32(now.Unix()), s.x.nextSeq, s.x.cfg.Domain)
		c.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err = c.Write(s.tmpl); err != nil {
			c.Close()
		}
	}
	if err != nil {
		s.x.connectFailures.Add(1)
		switch {
		case s.backoff == 0:
			s.backoff = minBackoff
		case s.backoff < maxBackoff:
			s.backoff = min(2*s.backoff, maxBackoff)
		}
		s.next = now.Add(s.backoff)
		return s.backoff
	}
	s.conn, s.backoff = c, 0
	// A collector sends nothing over IPFIX/TCP: a read that returns means
	// it closed the connection (or reset it). Knowing that before the next
	// write keeps that write's message from going into a dead socket.
	gone := new(atomic.Bool)
	s.gone = gone
	go func() {
		var b [1]byte
		c.Read(b[:])
		gone.Store(true)
	}()
	s.x.connects.Add(1)
	s.x.templates.Add(1)
	s.x.sent(len(s.tmpl))
	return 0
}

func (s *tcpSender) sendData(m message, now time.Time) error {
	if s.gone.Load() {
		s.conn.Close()
		s.conn = nil
		return errRetry
	}
	s.conn.SetWriteDeadline(now.Add(writeTimeout))
	if _, err := s.conn.Write(m.buf); err != nil {
		s.conn.Close()
		s.conn = nil
		s.next = now.Add(minBackoff)
		return err
	}
	return nil
}

func (s *tcpSender) tick(time.Time, uint32) {}

func (s *tcpSender) close() {
	if s.conn != nil {
		s.conn.Close()
	}
}
