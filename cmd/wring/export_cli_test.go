package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// TestExportFlagErrors checks that a bad --export URL stops wring before
// it reads a packet, with exit status 2 and a message naming the part.
func TestExportFlagErrors(t *testing.T) {
	for _, c := range []struct{ url, says string }{
		{"ipfix://127.0.0.1", "want HOST:PORT"},
		{"nats://127.0.0.1:4222", `scheme "nats"`},
		{"ipfix://127.0.0.1:4739?mtu=10", "option mtu=10"},
		{"ipfix+tcp://127.0.0.1:99999", `port "99999"`},
	} {
		var stderr bytes.Buffer
		code := run([]string{"read", "--count", "--export", c.url}, nil, io.Discard, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), "--export") || !strings.Contains(stderr.String(), c.says) ||
			strings.Contains(stderr.String(), "packets captured") {
			t.Errorf("--export %s: exit %d, stderr %q; want 2 and a message saying %q", c.url, code, stderr.String(), c.says)
		}
	}
}

// TestExportTCP exports the sample over TCP to a listener of this test and
// checks that the bytes it received are the messages the summary counts,
// each a whole IPFIX message, the templates first.
func TestExportTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var (
		mu              sync.Mutex
		messages, total int
		firstSet        uint16
		wg              sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		hdr := make([]byte, 16)
		for {
			if _, err := io.ReadFull(conn, hdr); err != nil {
				return
			}
			n := int(binary.BigEndian.Uint16(hdr[2:]))
			body := make([]byte, n-16)
			if _, err := io.ReadFull(conn, body); err != nil {
				return
			}
			mu.Lock()
			if messages == 0 {
				firstSet = binary.BigEndian.Uint16(body)
			}
			messages++
			total += n
			mu.Unlock()
		}
	}()
	var stderr bytes.Buffer
	url := "ipfix+tcp://" + ln.Addr().String()
	if code := run([]string{"read", "--count", "--export", url}, nil, io.Discard, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	ln.Close()
	wg.Wait()
	want := fmt.Sprintf("export %s: 459 flow events, 463 records exported in %d messages (%d bytes, 1 template messages), 0 dropped, 1 connections", url, messages, total)
	if !strings.Contains(stderr.String(), want) || firstSet != 2 {
		t.Fatalf("collector got %d messages, %d bytes, first set %d; summary:\n%s\nwant %q", messages, total, firstSet, stderr.String(), want)
	}
}

// TestExportCollectorDown exports to a TCP port nobody listens on: every
// record is counted as not sent, and the exit status says so.
func TestExportCollectorDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var stderr bytes.Buffer
	code := run([]string{"read", "--count", "--export", "ipfix+tcp://" + addr}, nil, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "0 records exported in 0 messages (0 bytes, 0 template messages), 463 dropped (unsent_at_close 463)") ||
		!strings.Contains(stderr.String(), "463 flow records not exported") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
}
