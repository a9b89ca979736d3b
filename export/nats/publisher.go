package nats

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gonats "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Stats are a publisher's counters. Every event line written is in exactly
// one of Published, DroppedFull, Rejected, Unsent or Pending:
//
//	Lines = Published + DroppedFull + Rejected + Unsent + Pending
//
// and Pending is 0 once Close returned.
type Stats struct {
	Lines       uint64 // event lines written to the publisher
	Published   uint64 // events JetStream acknowledged, each counted once
	Duplicates  uint64 // of Published, acknowledgements saying the stream had the message already (an earlier attempt was stored, its acknowledgement lost)
	Retried     uint64 // publishes repeated after an error or a missing acknowledgement
	DroppedFull uint64 // lines dropped because the buffer stayed full for Config.Wait
	Rejected    uint64 // events the server refused after repeated tries (too large, no stream for the subject)
	Unsent      uint64 // events unacknowledged when Close's drain time ran out (some may have been stored)
	Pending     uint64 // events in the buffer now, sent or not
	Reconnects  uint64 // reconnections to a server
}

// Lost is the number of events that may not be in the stream.
func (s Stats) Lost() uint64 { return s.DroppedFull + s.Rejected + s.Unsent }

// String is the one-line report printed on exit.
func (s Stats) String() string {
	return fmt.Sprintf("%d events, %d published (%d acknowledged as duplicates), %d retried, %d dropped (buffer full %d, rejected %d, unacknowledged at exit %d), %d reconnects",
		s.Lines, s.Published, s.Duplicates, s.Retried, s.Lost(), s.DroppedFull, s.Rejected, s.Unsent, s.Reconnects)
}

// rejectAfter is how many tries an event gets when the server answers each
// with an error: a definite refusal, unlike a missing acknowledgement.
const rejectAfter = 8

// entry is one buffered event.
type entry struct {
	id      string // Nats-Msg-Id: host:run:sequence
	subject string
	data    []byte
	tries   int
}

// Publisher publishes event lines to a JetStream stream. It is an
// io.WriteCloser: Write takes whole JSON lines (a partial line waits for
// its end), Close drains what is buffered.
type Publisher struct {
	cfg  Config
	host string
	run  string
	nc   *gonats.Conn
	js   jetstream.JetStream

	wmu     sync.Mutex // guards the write side
	partial []byte
	seq     uint64
	closed  bool
	subj    []byte

	slots   chan struct{} // one token per buffered event
	queue   chan *entry
	closing chan struct{}
	done    chan struct{}

	lines, published, duplicates, retried     atomic.Uint64
	droppedFull, rejected, unsent, reconnects atomic.Uint64

	errMu     sync.Mutex
	rejectErr error // the first refusal, for the report
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("nats events publisher closed")

// Dial connects to the servers, checks (or creates) the stream and starts
// publishing. ctx bounds the connection and the stream check.
func Dial(ctx context.Context, cfg Config) (*Publisher, error) {
	if len(cfg.Servers) == 0 || cfg.Stream == "" {
		return nil, fmt.Errorf("%w: no server or no stream", ErrURL)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	for _, t := range []struct {
		v  *int
		d  int
		hi int
	}{{&cfg.Buffer, DefaultBuffer, MaxBuffer}, {&cfg.Window, DefaultWindow, MaxWindow}, {&cfg.Replicas, DefaultReplicas, MaxReplicas}} {
		if *t.v <= 0 {
			*t.v = t.d
		}
		if *t.v > t.hi {
			*t.v = t.hi
		}
	}
	if cfg.Ack <= 0 {
		cfg.Ack = DefaultAck
	}
	if cfg.Window > cfg.Buffer {
		cfg.Window = cfg.Buffer
	}
	p := &Publisher{cfg: cfg, host: cfg.Host, run: cfg.Run,
		slots: make(chan struct{}, cfg.Buffer), queue: make(chan *entry, cfg.Buffer),
		closing: make(chan struct{}), done: make(chan struct{})}
	if p.host == "" {
		h, err := os.Hostname()
		if err != nil {
			h = "unknown"
		}
		p.host = Token(h)
	}
	if p.run == "" {
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("run id: %w", err)
		}
		p.run = hex.EncodeToString(b[:])
	}
	timeout := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	nc, err := gonats.Connect(strings.Join(cfg.Servers, ","),
		gonats.Name("wring "+p.host),
		gonats.Timeout(timeout),
		gonats.MaxReconnects(-1),
		gonats.ReconnectWait(250*time.Millisecond),
		gonats.ReconnectBufSize(32<<20),
		gonats.ReconnectHandler(func(*gonats.Conn) { p.reconnects.Add(1) }),
		gonats.NoCallbacksAfterClientClose(),
	)
	if err != nil {
		return nil, fmt.Errorf("nats events %s: connect: %w", cfg.Redacted(), err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(cfg.Window), jetstream.WithPublishAsyncTimeout(cfg.Ack))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats events %s: %w", cfg.Redacted(), err)
	}
	p.nc, p.js = nc, js
	if err := p.ensureStream(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats events %s: %w", cfg.Redacted(), err)
	}
	go p.send()
	return p, nil
}

// ensureStream checks that the stream exists and stores this publisher's
// subjects, creating it (subjects prefix.>) when it does not exist.
func (p *Publisher) ensureStream(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ours := p.cfg.Prefix + "." + p.host + ".a.e"
	s, err := p.js.Stream(ctx, p.cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) && p.cfg.Create {
		_, err = p.js.CreateStream(ctx, jetstream.StreamConfig{
			Name: p.cfg.Stream, Subjects: []string{p.cfg.Prefix + ".>"}, Storage: jetstream.FileStorage,
			Replicas: p.cfg.Replicas, Duplicates: 2 * time.Minute,
		})
		if err != nil {
			return fmt.Errorf("create stream %s: %w", p.cfg.Stream, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", p.cfg.Stream, err)
	}
	for _, subj := range s.CachedInfo().Config.Subjects {
		if subjectMatches(subj, ours) {
			return nil
		}
	}
	return fmt.Errorf("stream %s stores %v, not %s.%s.>", p.cfg.Stream, s.CachedInfo().Config.Subjects, p.cfg.Prefix, p.host)
}

// subjectMatches reports whether the subject filter (with * and >
// wildcards) matches subj.
func subjectMatches(filter, subj string) bool {
	f, s := strings.Split(filter, "."), strings.Split(subj, ".")
	for i, t := range f {
		if t == ">" {
			return len(s) > i
		}
		if i >= len(s) || t != "*" && t != s[i] {
			return false
		}
	}
	return len(f) == len(s)
}

// Host and Run are the subject's host token and the run id of the message
// ids.
func (p *Publisher) Host() string { return p.host }

// Run is the run id in this publisher's message ids.
func (p *Publisher) Run() string { return p.run }

// Config is the configuration the publisher runs with, defaults filled.
func (p *Publisher) Config() Config { return p.cfg }

// Write takes event lines. It returns an error only after Close: an event
// the buffer has no room for is dropped and counted, never an error, so a
// slow or absent server does not stop the capture.
func (p *Publisher) Write(b []byte) (int, error) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	if p.closed {
		return 0, ErrClosed
	}
	rest := b
	if len(p.partial) > 0 {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			p.partial = append(p.partial, rest...)
			return len(b), nil
		}
		p.partial = append(p.partial, rest[:i]...)
		p.enqueue(p.partial)
		p.partial = p.partial[:0]
		rest = rest[i+1:]
	}
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		p.enqueue(rest[:i])
		rest = rest[i+1:]
	}
	p.partial = append(p.partial, rest...)
	return len(b), nil
}

// enqueue buffers one line, waiting up to Wait for room. The sequence
// number is taken before the wait, so a dropped event leaves a gap in the
// message ids a consumer can see.
func (p *Publisher) enqueue(line []byte) {
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	p.lines.Add(1)
	p.seq++
	select {
	case p.slots <- struct{}{}:
	default:
		if p.cfg.Wait <= 0 {
			p.droppedFull.Add(1)
			return
		}
		t := time.NewTimer(p.cfg.Wait)
		select {
		case p.slots <- struct{}{}:
			t.Stop()
		case <-t.C:
			p.droppedFull.Add(1)
			return
		}
	}
	p.subj = appendSubject(p.subj[:0], p.cfg.Prefix, p.host, line)
	p.queue <- &entry{
		id:      p.host + ":" + p.run + ":" + strconv.FormatUint(p.seq, 10),
		subject: string(p.subj),
		data:    append([]byte(nil), line...),
	}
}

// Close publishes a trailing partial line, waits up to Drain for every
// buffered event to be acknowledged, counts the rest as unsent and closes
// the connection. It returns an error when an event was rejected or left
// unsent (Stats says how many); events dropped for want of buffer room are
// counted only.
func (p *Publisher) Close() error {
	p.wmu.Lock()
	if p.closed {
		p.wmu.Unlock()
		<-p.done
		return nil
	}
	if len(p.partial) > 0 {
		p.enqueue(p.partial)
		p.partial = nil
	}
	p.closed = true
	p.wmu.Unlock()
	close(p.closing)
	<-p.done
	p.nc.Close()
	st := p.Stats()
	var errs []error
	if st.Rejected > 0 {
		p.errMu.Lock()
		errs = append(errs, fmt.Errorf("%d events rejected (first: %w)", st.Rejected, p.rejectErr))
		p.errMu.Unlock()
	}
	if st.Unsent > 0 {
		errs = append(errs, fmt.Errorf("%d events unacknowledged after waiting %v", st.Unsent, p.cfg.Drain))
	}
	if len(errs) > 0 {
		return fmt.Errorf("nats events %s: %w", p.cfg.Redacted(), errors.Join(errs...))
	}
	return nil
}

// Stats returns the counters; safe to call at any time.
func (p *Publisher) Stats() Stats {
	s := Stats{Lines: p.lines.Load(), Published: p.published.Load(), Duplicates: p.duplicates.Load(), Retried: p.retried.Load(),
		DroppedFull: p.droppedFull.Load(), Rejected: p.rejected.Load(), Unsent: p.unsent.Load(), Reconnects: p.reconnects.Load()}
	if out := s.Published + s.DroppedFull + s.Rejected + s.Unsent; s.Lines > out {
		s.Pending = s.Lines - out
	}
	return s
}

// flight is a publish awaiting its acknowledgement.
type flight struct {
	e   *entry
	fut jetstream.PubAckFuture
}

// send is the publishing goroutine: it keeps up to Window publishes
// awaiting acknowledgement, republishes (same message id) those that fail
// or time out, and on Close drains until everything is acknowledged or
// Drain has passed.
func (p *Publisher) send() {
	defer close(p.done)
	var (
		inflight []flight
		ready    []*entry // to publish: retries, then new events taken from the queue
		backoff  time.Duration
		pause    <-chan time.Time
		closing  = p.closing
		deadline <-chan time.Time
		isClosed bool
	)
	release := func() { <-p.slots }
	fail := func(e *entry, err error) {
		if isRefusal(err) && e.tries >= rejectAfter || isPermanent(err) {
			p.errMu.Lock()
			if p.rejectErr == nil {
				p.rejectErr = err
			}
			p.errMu.Unlock()
			p.rejected.Add(1)
			release()
			return
		}
		ready = append(ready, e)
		if backoff == 0 {
			backoff = 50 * time.Millisecond
		} else if backoff < 2*time.Second {
			backoff *= 2
		}
		if pause == nil {
			pause = time.After(backoff)
		}
	}
	for {
		for pause == nil && len(inflight) < p.cfg.Window {
			var e *entry
			if len(ready) > 0 {
				e, ready = ready[0], ready[1:]
			} else {
				select {
				case e = <-p.queue:
				default:
				}
			}
			if e == nil {
				break
			}
			if e.tries > 0 {
				p.retried.Add(1)
			}
			e.tries++
			m := &gonats.Msg{Subject: e.subject, Data: e.data, Header: gonats.Header{}}
			fut, err := p.js.PublishMsgAsync(m, jetstream.WithMsgID(e.id), jetstream.WithExpectStream(p.cfg.Stream))
			if err != nil {
				fail(e, err)
				continue
			}
			inflight = append(inflight, flight{e, fut})
		}
		if isClosed && len(inflight) == 0 && len(ready) == 0 && len(p.queue) == 0 {
			return
		}
		var okc <-chan *jetstream.PubAck
		var errc <-chan error
		if len(inflight) > 0 {
			okc, errc = inflight[0].fut.Ok(), inflight[0].fut.Err()
		}
		var queue chan *entry
		if pause == nil && len(inflight) < p.cfg.Window && len(ready) == 0 {
			queue = p.queue
		}
		select {
		case ack := <-okc:
			inflight = inflight[1:]
			p.published.Add(1)
			if ack != nil && ack.Duplicate {
				p.duplicates.Add(1)
			}
			backoff = 0
			release()
		case err := <-errc:
			e := inflight[0].e
			inflight = inflight[1:]
			fail(e, err)
		case e := <-queue:
			ready = append(ready, e)
		case <-pause:
			pause = nil
		case <-closing:
			closing, isClosed = nil, true
			deadline = time.After(p.cfg.Drain)
		case <-deadline:
			n := uint64(len(inflight) + len(ready))
			for len(p.queue) > 0 {
				<-p.queue
				n++
			}
			p.unsent.Add(n)
			for i := uint64(0); i < n; i++ {
				release()
			}
			return
		}
	}
}

// isRefusal reports an answer of the server refusing the message.
func isRefusal(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr)
}

// isPermanent reports an error no retry can cure.
func isPermanent(err error) bool {
	return errors.Is(err, gonats.ErrMaxPayload) || errors.Is(err, gonats.ErrBadSubject) || errors.Is(err, gonats.ErrConnectionClosed)
}
