package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	gonats "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wringcap/wring/internal/natstest"
	"github.com/wringcap/wring/internal/netns"
	"github.com/wringcap/wring/internal/trafficgen"
)

// forwardInto listens on 127.0.0.1 inside namespace ns and forwards each
// connection to to (an address of this process's own namespace): the
// in-process NATS server, reachable from a wring running in ns.
func forwardInto(t *testing.T, ns, to string) string {
	t.Helper()
	var l net.Listener
	if err := netns.Do(ns, func() error {
		var err error
		l, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", to) // a goroutine outside ns: the test's namespace
				if err != nil {
					return
				}
				defer s.Close()
				go func() { io.Copy(s, c); s.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, s)
			}()
		}
	}()
	return l.Addr().String()
}

// TestCaptureEventsNATS: `wring capture --events nats://` on a veth between
// two namespaces, with the HTTP and DNS analyzers, while generated HTTP and
// DNS traffic is sent across: every event the analyzers wrote is published
// to JetStream once (counted by message id in a consumer), and the totals
// equal what wring's summary says (analyzer events, lines, published).
// wring stops on SIGTERM, as under Kubernetes or systemd.
func TestCaptureEventsNATS(t *testing.T) {
	p := netns.New(t, 1)
	c := natstest.Start(t, 1)
	addr := forwardInto(t, p.NSA, strings.TrimPrefix(c.ClientURL(), "nats://"))

	nc, err := gonats.Connect(c.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"wring.>"}, Storage: jetstream.FileStorage, Duplicates: 5 * time.Minute})
	cancel()
	if err != nil {
		t.Fatal(err)
	}

	// Frames: the generated mix, whole frames that fit the veth's MTU.
	g := trafficgen.New(trafficgen.Config{Seed: 23})
	var frames [][]byte
	for len(frames) < 4000 {
		pk := g.Next()
		if uint32(len(pk.Data)) == pk.WireLen && len(pk.Data) <= 1514 {
			frames = append(frames, pk.Data)
		}
	}

	argv, env := wringCommand(t)
	url := fmt.Sprintf("nats://%s/EVENTS?host=live&drain=30s", addr)
	args := append(append([]string{"netns", "exec", p.NSA}, argv...), "capture", "--mode", "passive", "-i", p.IfA, "--count",
		"--analyzer", "http", "--analyzer", "dns", "--events", url, "--duration", "60s")
	cmd := exec.Command("ip", args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout bytes.Buffer
	var stderr syncBuffer // read while wring writes it
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Attached once the capture path is printed.
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stderr.String(), "capture path:"); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("wring capture ended early: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no capture path after 30 s:\n%s", stderr.String())
		}
	}
	sent, err := netns.Send(p.NSB, p.IfB, frames)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := <-done; err != nil {
		t.Fatalf("wring capture: %v\n%s", err, stderr.String())
	}
	r := parseNATSReport(t, stderr.String())
	ids, byHost := countByID(t, js)
	dups := 0
	for id, n := range ids {
		if n != 1 {
			dups++
			if dups <= 5 {
				t.Errorf("message id %s stored %d times", id, n)
			}
		}
	}
	t.Logf("%d frames sent, %s; %d analyzer events; %s; the consumer read %d messages, %d distinct ids",
		sent, strings.TrimSpace(stdout.String()), r.analyzerEvents, natsLine.FindString(r.stderr), byHost["live"], len(ids))
	if r.analyzerEvents < 100 {
		t.Fatalf("only %d analyzer events: the traffic did not reach the analyzers\n%s", r.analyzerEvents, stderr.String())
	}
	if r.lines != r.analyzerEvents || r.published != r.lines || r.dropped != 0 || r.unsent != 0 {
		t.Errorf("analyzers wrote %d events; %d lines to NATS, %d published, %d dropped, %d unacknowledged at exit", r.analyzerEvents, r.lines, r.published, r.dropped, r.unsent)
	}
	if byHost["live"] != r.published || uint64(len(ids)) != r.published {
		t.Errorf("the consumer read %d messages (%d ids), wring published %d", byHost["live"], len(ids), r.published)
	}
}
