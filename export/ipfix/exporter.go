package ipfix

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Config's zero values.
const (
	DefaultTemplateInterval = 60 * time.Second
	DefaultTemplateMessages = 100
	DefaultFlushInterval    = time.Second
	DefaultQueue            = 256
	DefaultCloseTimeout     = 5 * time.Second
	maxBackoff              = 10 * time.Second
	minBackoff              = 100 * time.Millisecond
)

// Config says where and how an Exporter sends. Zero values mean the
// defaults.
type Config struct {
	Network string // "udp" or "tcp"
	Addr    string // collector host:port
	Domain  uint32 // observation domain id
	MTU     int    // largest message in bytes (DefaultMTU)

	// UDP only: templates are sent on start, then again after
	// TemplateInterval or TemplateMessages data messages, whichever comes
	// first. Over TCP they are sent once per connection.
	TemplateInterval time.Duration
	TemplateMessages int

	FlushInterval time.Duration // a partly filled message is sent when this old
	Queue         int           // messages held while the network is slow or down
	CloseTimeout  time.Duration // how long Close waits to send what is queued

	// Wait is how long Export may wait for room in a full queue before
	// dropping a message's records (DropQueueFull). 0, the default, never
	// waits: a live capture must not stall on the network. Reading a file
	// can afford to wait.
	Wait time.Duration
}

// DropReason says why records were not exported.
type DropReason uint8

// Drop reasons.
const (
	DropInvalid   DropReason = iota // the record could not be encoded (see ErrInvalidRecord)
	DropQueueFull                   // its message found the send queue full
	DropSend                        // its message's send failed (UDP error, TCP write error)
	DropClosed                      // its message was still queued when Close gave up
	NumDropReasons
)

var dropNames = [NumDropReasons]string{"invalid", "queue_full", "send_error", "unsent_at_close"}

// String names the reason as the counters print it.
func (r DropReason) String() string {
	if r < NumDropReasons {
		return dropNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Counters are an Exporter's counts. At any time Received = Exported +
// the drops + the records still pending (in the message being built or in
// the queue); after Close, nothing is pending.
type Counters struct {
	Received         uint64 // records given to Export
	Exported         uint64 // records in messages sent
	Messages         uint64 // messages sent, template messages included
	Bytes            uint64 // bytes of the messages sent
	TemplateMessages uint64 // template messages sent
	Truncated        uint64 // analyzer strings cut to fit a message
	Connects         uint64 // TCP connections made
	ConnectFailures  uint64 // TCP connection attempts that failed
	Dropped          [NumDropReasons]uint64
}

// DroppedTotal returns the records dropped for any reason.
func (c Counters) DroppedTotal() uint64 {
	var n uint64
	for _, d := range c.Dropped {
		n += d
	}
	return n
}

// String formats the counters on one line.
func (c Counters) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d records exported in %d messages (%d bytes, %d template messages), %d dropped", c.Exported, c.Messages, c.Bytes, c.TemplateMessages, c.DroppedTotal())
	var parts []string
	for r, n := range c.Dropped {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", DropReason(r), n))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	if c.Truncated > 0 {
		fmt.Fprintf(&b, ", %d strings truncated", c.Truncated)
	}
	if c.Connects > 0 || c.ConnectFailures > 0 {
		fmt.Fprintf(&b, ", %d connections, %d failed attempts", c.Connects, c.ConnectFailures)
	}
	return b.String()
}

// message is a finished message waiting to be sent.
type message struct {
	buf     []byte
	records int
	seq     uint32
}

// Exporter encodes flow records and sends them to one collector. Export
// never waits for the network: finished messages go to a bounded queue a
// sender goroutine drains. It is safe for concurrent use.
type Exporter struct {
	cfg Config

	mu      sync.Mutex
	enc     *Encoder
	opened  time.Time // when the message being built got its first record
	closed  bool
	invalid error // the first invalid record's error

	queue   chan message
	free    chan []byte
	nextSeq uint32 // the sequence number after the last data message sent; the sender goroutine's
	stop    chan struct{}
	done    chan struct{}
	send    sender

	received, exported, messages, bytes, templates, truncated atomic.Uint64
	connects, connectFailures                                 atomic.Uint64
	dropped                                                   [NumDropReasons]atomic.Uint64
}

// New checks cfg and starts an exporter. A UDP exporter sends its
// templates at once; a TCP exporter connects in the background, so a
// collector that is not up yet is not an error (its records wait in the
// queue, then count as dropped).
func New(cfg Config) (*Exporter, error) {
	if cfg.Network != "udp" && cfg.Network != "tcp" {
		return nil, fmt.Errorf("ipfix: network %q: want udp or tcp", cfg.Network)
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("ipfix: collector address %q: %w", cfg.Addr, err)
	}
	if cfg.TemplateInterval == 0 {
		cfg.TemplateInterval = DefaultTemplateInterval
	}
	if cfg.TemplateMessages == 0 {
		cfg.TemplateMessages = DefaultTemplateMessages
	}
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.Queue == 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.CloseTimeout == 0 {
		cfg.CloseTimeout = DefaultCloseTimeout
	}
	if cfg.TemplateInterval < 0 || cfg.TemplateMessages < 0 || cfg.FlushInterval < 0 || cfg.Queue < 0 || cfg.CloseTimeout < 0 || cfg.Wait < 0 {
		return nil, errors.New("ipfix: negative interval, message count or queue length")
	}
	enc, err := NewEncoder(cfg.Domain, cfg.MTU)
	if err != nil {
		return nil, err
	}
	cfg.MTU = enc.MTU()
	x := &Exporter{cfg: cfg, enc: enc, queue: make(chan message, cfg.Queue), free: make(chan []byte, cfg.Queue),
		stop: make(chan struct{}), done: make(chan struct{})}
	for range cfg.Queue {
		x.free <- make([]byte, 0, cfg.MTU)
	}
	if cfg.Network == "udp" {
		s, err := newUDPSender(x)
		if err != nil {
			return nil, err
		}
		x.send = s
	} else {
		x.send = newTCPSender(x)
	}
	go x.run()
	return x, nil
}

// Config returns the exporter's configuration, defaults filled in.
func (x *Exporter) Config() Config { return x.cfg }

// Export adds r to the message being built, sending that message on when
// it is full. A record that cannot be encoded is counted as dropped
// (DropInvalid); Err returns the first such error. After Close, records are
// counted as dropped (DropClosed).
func (x *Exporter) Export(r *Record) {
	x.received.Add(1)
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		x.dropped[DropClosed].Add(1)
		return
	}
	err := x.enc.Add(r)
	if err == ErrMessageFull {
		x.finishLocked()
		err = x.enc.Add(r)
	}
	if err != nil {
		x.dropped[DropInvalid].Add(1)
		if x.invalid == nil {
			x.invalid = err
		}
		return
	}
	if x.enc.Records() == 1 {
		x.opened = time.Now()
	}
	x.truncated.Store(x.enc.Truncated)
}

// Err returns the error of the first record that could not be encoded.
func (x *Exporter) Err() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.invalid
}

// Flush queues the message being built, if it holds a record.
func (x *Exporter) Flush() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.finishLocked()
}

// finishLocked finishes the message being built and queues it; with the
// queue full, its records are dropped (DropQueueFull).
func (x *Exporter) finishLocked() {
	n := x.enc.Records()
	if n == 0 {
		return
	}
	seq := x.enc.Sequence()
	b := x.enc.Finish(uint32(time.Now().Unix()))
	var buf []byte
	select {
	case buf = <-x.free:
	default:
		if x.cfg.Wait > 0 {
			t := time.NewTimer(x.cfg.Wait)
			select {
			case buf = <-x.free:
			case <-t.C:
			}
			t.Stop()
		}
	}
	if buf == nil {
		x.dropped[DropQueueFull].Add(uint64(n))
		return
	}
	buf = append(buf[:0], b...)
	x.queue <- message{buf: buf, records: n, seq: seq}
}

// flushOld queues the message being built when it is older than the flush
// interval.
func (x *Exporter) flushOld(now time.Time) {
	if !x.mu.TryLock() {
		return // an Export is running (perhaps waiting for this goroutine)
	}
	defer x.mu.Unlock()
	if x.enc.Records() > 0 && now.Sub(x.opened) >= x.cfg.FlushInterval {
		x.finishLocked()
	}
}

// Close sends what is built and queued, waiting at most the close timeout,
// counts what could not be sent (DropClosed), and closes the connection.
func (x *Exporter) Close() error {
	x.mu.Lock()
	if x.closed {
		x.mu.Unlock()
		return nil
	}
	x.finishLocked()
	x.closed = true
	x.mu.Unlock()
	close(x.stop)
	<-x.done
	return nil
}

// Counters returns a copy of the exporter's counters.
func (x *Exporter) Counters() Counters {
	c := Counters{Received: x.received.Load(), Exported: x.exported.Load(), Messages: x.messages.Load(), Bytes: x.bytes.Load(),
		TemplateMessages: x.templates.Load(), Truncated: x.truncated.Load(), Connects: x.connects.Load(), ConnectFailures: x.connectFailures.Load()}
	for i := range c.Dropped {
		c.Dropped[i] = x.dropped[i].Load()
	}
	return c
}

// sender is the transport: it sends a message (data or templates) and says
// how many bytes went out.
type sender interface {
	// ready makes the transport usable (a TCP connection, templates sent
	// on it); it returns how long to wait before trying again, 0 when
	// ready.
	ready(now time.Time) time.Duration
	// sendData sends one data message; an error means it was not sent.
	sendData(m message, now time.Time) error
	// tick does the transport's periodic work (UDP: templates when due).
	tick(now time.Time, nextSeq uint32)
	close()
}

// run is the sender goroutine: it sends queued messages, flushes old
// partial ones, and at Close drains the queue within the close timeout.
func (x *Exporter) run() {
	defer close(x.done)
	defer x.send.close()
	period := x.cfg.FlushInterval / 2
	if period > 100*time.Millisecond || period <= 0 {
		period = 100 * time.Millisecond
	}
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	var deadline time.Time // set once Close was called
	stop := x.stop
	var pending *message // a message to send again on a new connection
	for {
		now := time.Now()
		if wait := x.send.ready(now); wait > 0 {
			if !deadline.IsZero() && now.Add(wait).After(deadline) {
				x.giveUp(pending)
				return
			}
			select {
			case <-time.After(wait):
			case <-stop:
				stop = nil
				deadline = now.Add(x.cfg.CloseTimeout)
			}
			continue
		}
		if pending != nil {
			if x.deliver(*pending, time.Now()) {
				pending = nil
			}
			continue
		}
		if !deadline.IsZero() {
			select {
			case m := <-x.queue:
				if !x.deliver(m, time.Now()) {
					pending = &m
				}
				if time.Now().After(deadline) {
					x.giveUp(pending)
					return
				}
			default:
				return
			}
			continue
		}
		select {
		case m := <-x.queue:
			if !x.deliver(m, time.Now()) {
				pending = &m
			}
		case t := <-ticker.C:
			x.flushOld(t)
			x.send.tick(t, x.nextSeq)
		case <-stop:
			stop = nil
			deadline = time.Now().Add(x.cfg.CloseTimeout)
		}
	}
}

// deliver sends one data message and counts the outcome. It returns false
// when the message is to be tried again on a new connection.
func (x *Exporter) deliver(m message, now time.Time) bool {
	err := x.send.sendData(m, now)
	if err == errRetry {
		return false
	}
	x.nextSeq = m.seq + uint32(m.records) // a collector sees a failed send as a gap
	if err != nil {
		x.dropped[DropSend].Add(uint64(m.records))
	} else {
		x.exported.Add(uint64(m.records))
		x.sent(len(m.buf))
	}
	x.free <- m.buf
	return true
}

// sent counts one message sent.
func (x *Exporter) sent(n int) {
	x.messages.Add(1)
	x.bytes.Add(uint64(n))
}

// giveUp counts the records of pending (if not nil) and of the queued
// messages as unsent at close.
func (x *Exporter) giveUp(pending *message) {
	if pending != nil {
		x.dropped[DropClosed].Add(uint64(pending.records))
		x.free <- pending.buf
	}
	for {
		select {
		case m := <-x.queue:
			x.dropped[DropClosed].Add(uint64(m.records))
			x.free <- m.buf
		default:
			return
		}
	}
}

// templateMessage builds a message holding only the template set, with the
// sequence number seq.
func templateMessage(dst []byte, exportTime, seq, domain uint32) []byte {
	dst = append(dst[:0], 0, version, 0, 0)
	dst = be32(dst, exportTime)
	dst = be32(dst, seq)
	dst = be32(dst, domain)
	dst = append(dst, templateSet...)
	dst[2], dst[3] = byte(len(dst)>>8), byte(len(dst))
	return dst
}
