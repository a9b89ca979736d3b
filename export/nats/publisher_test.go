package nats

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	gonats "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wringcap/wring/internal/natstest"
)

// readStream returns every message of the stream: count by message id,
// and subjects by id.
func readStream(t *testing.T, urls, stream string) (map[string]int, map[string]string) {
	t.Helper()
	nc, err := gonats.Connect(urls)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := info.State.Msgs
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ids, subjects := map[string]int{}, map[string]string{}
	var got uint64
	for got < total {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			id := m.Headers().Get(jetstream.MsgIDHeader)
			ids[id]++
			subjects[id] = m.Subject()
			got++
			n++
		}
		if n == 0 {
			t.Fatalf("stream %s: %d of %d messages read, then none", stream, got, total)
		}
	}
	return ids, subjects
}

func dialTest(t *testing.T, c *natstest.Cluster, query string) *Publisher {
	t.Helper()
	cfg, err := ParseURL("nats://" + c.URLs() + "/EVENTS?host=h1&run=r1" + query)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func eventLine(i int) string {
	kinds := []string{`"analyzer":"http","event":"request"`, `"analyzer":"dns","event":"query"`, `"analyzer":"flow","event":"flow"`}
	return fmt.Sprintf(`{%s,"ts":%d,"n":%d}`+"\n", kinds[i%3], 1767225600000000000+i, i)
}

// TestPublish publishes lines (some split across writes) to one server and
// reads them back: each once, on its subject, with its id.
func TestPublish(t *testing.T) {
	c := natstest.Start(t, 1)
	p := dialTest(t, c, "")
	const n = 3000
	var all strings.Builder
	for i := 0; i < n; i++ {
		all.WriteString(eventLine(i))
	}
	b := []byte(all.String())
	for len(b) > 0 { // odd-sized writes: lines arrive in pieces
		k := min(len(b), 977)
		if _, err := p.Write(b[:k]); err != nil {
			t.Fatal(err)
		}
		b = b[k:]
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Lines != n || st.Published != n || st.Lost() != 0 || st.Pending != 0 {
		t.Fatalf("stats %+v, want %d lines all published", st, n)
	}
	ids, subjects := readStream(t, c.ClientURL(), "EVENTS")
	if len(ids) != n {
		t.Fatalf("%d distinct ids in the stream, want %d", len(ids), n)
	}
	want := []string{"wring.h1.http.request", "wring.h1.dns.query", "wring.h1.flow.flow"}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("h1:r1:%d", i+1)
		if ids[id] != 1 {
			t.Fatalf("id %s seen %d times", id, ids[id])
		}
		if subjects[id] != want[i%3] {
			t.Fatalf("id %s on %q, want %q", id, subjects[id], want[i%3])
		}
	}
	if _, err := p.Write([]byte(eventLine(0))); err == nil {
		t.Fatal("write after Close succeeded")
	}
}

// TestServerRestart restarts the only server while events are published:
// the publisher reconnects and republishes with the same ids; the stream
// holds each event once and the counters add up.
func TestServerRestart(t *testing.T) {
	c := natstest.Start(t, 1)
	p := dialTest(t, c, "&ack=1s")
	const n = 4000
	for i := 0; i < n; i++ {
		if i == n/2 {
			c.Kill(0)
			time.Sleep(time.Second)
			c.Restart(0)
		}
		if _, err := p.Write([]byte(eventLine(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	t.Logf("stats: %v", st)
	if st.Published != n || st.Lost() != 0 {
		t.Fatalf("stats %+v, want all %d published", st, n)
	}
	if st.Reconnects == 0 {
		t.Fatal("no reconnect counted across a server restart")
	}
	ids, _ := readStream(t, c.ClientURL(), "EVENTS")
	if len(ids) != n {
		t.Fatalf("%d distinct ids, want %d", len(ids), n)
	}
	for id, k := range ids {
		if k != 1 {
			t.Fatalf("id %s stored %d times", id, k)
		}
	}
}

// TestBufferFull stops the server, so nothing is acknowledged: the buffer
// fills, later lines are dropped at once (wait=0), and Close counts what was
// buffered as unacknowledged. Every line is in one counter.
func TestBufferFull(t *testing.T) {
	c := natstest.Start(t, 1)
	p := dialTest(t, c, "&buffer=10&wait=0&drain=300ms")
	c.Kill(0)
	for i := 0; i < 50; i++ {
		if _, err := p.Write([]byte(eventLine(i))); err != nil {
			t.Fatal(err)
		}
	}
	err := p.Close()
	st := p.Stats()
	if st.Lines != 50 || st.DroppedFull != 40 || st.Unsent != 10 || st.Published != 0 || st.Pending != 0 {
		t.Fatalf("stats %+v, want 50 lines: 40 dropped for buffer, 10 unsent", st)
	}
	if err == nil || !strings.Contains(err.Error(), "10 events unacknowledged") {
		t.Fatalf("Close: %v, want the unacknowledged events reported", err)
	}
}

// TestStreamMismatch refuses a stream that does not store wring's
// subjects, naming the stream and its subjects.
func TestStreamMismatch(t *testing.T) {
	c := natstest.Start(t, 1)
	nc, err := gonats.Connect(c.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"other.>"}}); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseURL("nats://" + c.URLs() + "/OTHER?host=h1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Dial(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "stream OTHER stores [other.>], not wring.h1.>") {
		t.Fatalf("Dial: %v", err)
	}
	cfg, _ = ParseURL("nats://" + c.URLs() + "/MISSING?create=false")
	if _, err = Dial(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "stream MISSING") {
		t.Fatalf("Dial of a missing stream with create=false: %v", err)
	}
}
