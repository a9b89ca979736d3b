package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	gonats "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wringcap/wring/internal/natstest"
	"github.com/wringcap/wring/internal/trafficgen"
)

// natsReport is what one wring process printed on exit.
type natsReport struct {
	analyzerEvents                             uint64 // sum of "analyzer X: N packets, E events"
	lines, published, retried, dropped, unsent uint64
	run                                        string
	stderr                                     string
}

var (
	analyzerLine = regexp.MustCompile(`(?m)^analyzer \S+: \d+ packets, (\d+) events`)
	natsLine     = regexp.MustCompile(`(?m)^wring: events to .*?: (\d+) events, (\d+) published \(\d+ acknowledged as duplicates\), (\d+) retried, (\d+) dropped \(buffer full \d+, rejected \d+, unacknowledged at exit (\d+)\)`)
)

func parseNATSReport(t *testing.T, stderr string) natsReport {
	t.Helper()
	r := natsReport{stderr: stderr}
	for _, m := range analyzerLine.FindAllStringSubmatch(stderr, -1) {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		r.analyzerEvents += n
	}
	m := natsLine.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no events report in:\n%s", stderr)
	}
	for i, p := range []*uint64{&r.lines, &r.published, &r.retried, &r.dropped, &r.unsent} {
		*p, _ = strconv.ParseUint(m[i+1], 10, 64)
	}
	return r
}

// startReads starts one `wring read` process per capture, publishing the
// HTTP and DNS analyzers' events to the cluster.
func startReads(t *testing.T, c *natstest.Cluster, files []string, tag string) ([]*exec.Cmd, []*bytes.Buffer) {
	t.Helper()
	argv, env := wringCommand(t)
	var cmds []*exec.Cmd
	var errs []*bytes.Buffer
	for i, f := range files {
		url := fmt.Sprintf("nats://%s/EVENTS?host=%s%d&ack=2s&drain=60s&wait=60s", c.URLs(), tag, i+1)
		cmd := exec.Command(argv[0], "read", "-r", f, "-w", os.DevNull, "--analyzer", "http", "--analyzer", "dns", "--events", url)
		cmd.Env = append(os.Environ(), env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		errs = append(errs, &stderr)
	}
	return cmds, errs
}

func waitReads(t *testing.T, cmds []*exec.Cmd, errs []*bytes.Buffer) []natsReport {
	t.Helper()
	var out []natsReport
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("wring read %d: %v\n%s", i+1, err, errs[i])
		}
		out = append(out, parseNATSReport(t, errs[i].String()))
	}
	return out
}

// streamCount is the stream's message count, read from any node that
// answers.
func streamCount(js jetstream.JetStream) (uint64, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, "EVENTS")
	if err != nil {
		return 0, "", err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, "", err
	}
	leader := ""
	if info.Cluster != nil {
		leader = info.Cluster.Leader
	}
	return info.State.Msgs, leader, nil
}

// waitForMessages waits until the stream holds more than n messages.
func waitForMessages(t *testing.T, js jetstream.JetStream, n uint64) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if got, leader, err := streamCount(js); err == nil && got > n {
			return leader
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("stream EVENTS did not pass %d messages in 30s", n)
	return ""
}

// countByID consumes the whole stream and counts the messages by
// Nats-Msg-Id, grouped by run id (host:run:sequence).
func countByID(t *testing.T, js jetstream.JetStream) (map[string]int, map[string]uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	total, _, err := streamCount(js)
	if err != nil {
		t.Fatal(err)
	}
	ids, byHost := map[string]int{}, map[string]uint64{}
	var got, next uint64 = 0, 1
	for tries := 0; got < total; {
		// An ordered consumer from the next stream sequence; made again
		// when a fetch fails or comes back empty (a cluster that was just
		// restarted may still be electing leaders).
		cons, err := js.OrderedConsumer(ctx, "EVENTS", jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: next})
		n := 0
		if err == nil {
			var batch jetstream.MessageBatch
			batch, err = cons.Fetch(2000, jetstream.FetchMaxWait(3*time.Second))
			if err == nil {
				for m := range batch.Messages() {
					id := m.Headers().Get(jetstream.MsgIDHeader)
					ids[id]++
					host, _, _ := strings.Cut(id, ":")
					byHost[host]++
					if md, err := m.Metadata(); err == nil {
						next = md.Sequence.Stream + 1
					}
					n++
				}
			}
		}
		got += uint64(n)
		if n == 0 {
			if tries++; tries > 10 {
				t.Fatalf("read %d of %d messages, then none (%v)", got, total, err)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	return ids, byHost
}

// TestNATSClusterEvents is issue 17's acceptance 2: three `wring read`
// processes on three captures publish to a three-node JetStream cluster
// (an R3 stream). One node (the stream's leader) is killed mid-run; in a
// second round the whole cluster is stopped for 5 s and restarted. A
// consumer counts every event by its message id: each exactly once, and
// per process as many as it reported published; every event the analyzers
// wrote is published, or counted as lost by wring.
func TestNATSClusterEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node NATS cluster and six wring processes (about a minute)")
	}
	packets := 40000
	dir := t.TempDir()
	var files []string
	for i := 0; i < 3; i++ {
		f := filepath.Join(dir, fmt.Sprintf("mix%d.pcap", i))
		out, err := os.Create(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := trafficgen.Generate(out, trafficgen.Config{Seed: int64(11 + i), Count: packets}); err != nil {
			t.Fatal(err)
		}
		out.Close()
		files = append(files, f)
	}
	c := natstest.Start(t, 3)
	nc, err := gonats.Connect(c.ClientURL(), gonats.MaxReconnects(-1), gonats.ReconnectWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var created error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, created = js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"wring.>"}, Replicas: 3,
			Storage: jetstream.FileStorage, Duplicates: 5 * time.Minute})
		cancel()
		if created == nil {
			break
		}
	}
	if created != nil {
		t.Fatalf("create the R3 stream: %v", created)
	}

	check := func(round string, reports []natsReport, hosts []string) {
		t.Helper()
		ids, byHost := countByID(t, js)
		for id, n := range ids {
			if n != 1 {
				t.Errorf("%s: message id %s stored %d times", round, id, n)
			}
		}
		for i, r := range reports {
			t.Logf("%s: process %d: %d analyzer events; %s", round, i+1, r.analyzerEvents, natsLine.FindString(r.stderr))
			if r.analyzerEvents == 0 || r.lines != r.analyzerEvents {
				t.Errorf("%s: process %d: %d lines to NATS, analyzers wrote %d events", round, i+1, r.lines, r.analyzerEvents)
			}
			got := byHost[hosts[i]]
			// An event left unacknowledged at exit may still have been
			// stored; every other loss is not in the stream.
			if got < r.published || got > r.published+r.unsent {
				t.Errorf("%s: process %d: consumer counted %d events, the process reported %d published, %d unacknowledged", round, i+1, got, r.published, r.unsent)
			}
			if r.published+r.dropped != r.lines {
				t.Errorf("%s: process %d: %d published + %d dropped != %d lines", round, i+1, r.published, r.dropped, r.lines)
			}
			if r.dropped != 0 {
				t.Errorf("%s: process %d: %d events lost (counted)", round, i+1, r.dropped)
			}
		}
	}

	// Round 1: kill the stream leader mid-run.
	start := time.Now()
	base, _, _ := streamCount(js)
	cmds, errs := startReads(t, c, files, "kill")
	leader := waitForMessages(t, js, base+100)
	victim := 0
	if n, err := strconv.Atoi(strings.TrimPrefix(leader, "n")); err == nil && n >= 1 && n <= 3 {
		victim = n - 1
	}
	atKill, _, _ := streamCount(js)
	c.Kill(victim)
	t.Logf("round 1: killed node n%d (the stream leader %q) at %v, with %d of this round's messages stored", victim+1, leader, time.Since(start).Round(time.Millisecond), atKill-base)
	reports := waitReads(t, cmds, errs)
	t.Logf("round 1: processes done after %v", time.Since(start).Round(time.Millisecond))
	c.Restart(victim)
	check("round 1", reports, []string{"kill1", "kill2", "kill3"})

	// Round 2: stop the whole cluster for 5 s, then restart it.
	start = time.Now()
	base, _, _ = streamCount(js)
	cmds, errs = startReads(t, c, files, "stop")
	waitForMessages(t, js, base+100)
	atStop, _, _ := streamCount(js)
	c.StopAll()
	t.Logf("round 2: cluster stopped at %v, with %d of this round's messages stored", time.Since(start).Round(time.Millisecond), atStop-base)
	time.Sleep(5 * time.Second)
	c.StartAll()
	t.Logf("round 2: cluster restarted at %v", time.Since(start).Round(time.Millisecond))
	reports = waitReads(t, cmds, errs)
	t.Logf("round 2: processes done after %v", time.Since(start).Round(time.Millisecond))
	check("round 2", reports, []string{"stop1", "stop2", "stop3"})
	var retried uint64
	for _, r := range reports {
		retried += r.retried
	}
	if retried == 0 {
		t.Error("round 2: no publish was retried across a cluster outage: the outage did not hit the run")
	}
}
