//go:build unix

package main

import (
	"bufio"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wringcap/wring/capture/sample"
)

// firstOutputBeforeEOF runs wring reading the sample from a pipe that
// gives the first part and then waits, and reports whether stdout
// produced its first n bytes before the rest of the input was sent.
func firstOutputBeforeEOF(t *testing.T, n int, args ...string) bool {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := wringProcess(append([]string{"read", "-r", "-"}, args...)...)
	cmd.Stdin, cmd.Stdout = inR, outW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	defer func() {
		inW.Close()
		io.Copy(io.Discard, outR)
		outR.Close()
		cmd.Wait()
	}()
	if _, err := inW.Write(sample.Pcap[:len(sample.Pcap)/2]); err != nil {
		t.Fatal(err)
	}
	got := make(chan bool, 1)
	go func() {
		_, err := io.ReadFull(bufio.NewReader(outR), make([]byte, n))
		got <- err == nil
	}()
	select {
	case ok := <-got:
		return ok
	case <-time.After(3 * time.Second):
		return false
	}
}

// TestLineBuffered: with -l, packet lines come out as they are made, not
// when the buffer fills or the input ends; with -U, -w - writes each
// batch's packets at once. Without them, nothing comes out of a 64 KiB
// buffer before the input ends.
func TestLineBuffered(t *testing.T) {
	if !firstOutputBeforeEOF(t, 20, "-l") {
		t.Error("-l: no line while the input waits")
	}
	if !firstOutputBeforeEOF(t, 100, "-U", "-w", "-") {
		t.Error("-U -w -: no packet while the input waits")
	}
	if !firstOutputBeforeEOF(t, 20, "--json", "-l") {
		t.Error("--json -l: no line while the input waits")
	}
	if firstOutputBeforeEOF(t, 20) {
		t.Error("without -l, output came before the input ended: the test cannot tell -l's effect")
	}
}

// TestPostRotateCommand: -z runs its command on each file -C closes.
func TestPostRotateCommand(t *testing.T) {
	dir := t.TempDir()
	script := dir + "/mark.sh"
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntouch \"$1.done\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errw strings.Builder
	big := bigCapture(t, 30)
	if code := run([]string{"read", "-r", big, "-w", dir + "/part.pcap", "-C", "1", "-z", script}, nil, &out, &errw); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		files, _ := os.ReadDir(dir)
		var pcaps, done int
		for _, f := range files {
			switch {
			case strings.HasSuffix(f.Name(), ".done"):
				done++
			case strings.HasPrefix(f.Name(), "part.pcap"): // part.pcap, part.pcap1, ...
				pcaps++
			}
		}
		if pcaps > 1 && done == pcaps {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d capture files, %d marked by -z: %v\n%s", pcaps, done, files, errw.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRelinquishPrivileges: -Z switches to the user once the files are
// open (as root; otherwise it only checks the user exists, as tcpdump
// does nothing then).
func TestRelinquishPrivileges(t *testing.T) {
	out := t.TempDir() + "/out.pcap"
	cmd := wringProcess("read", "-Z", "nobody", "-w", out, "-c", "3")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if st, err := os.Stat(out); err != nil || st.Size() <= 24 {
		t.Fatalf("output: %v", err)
	}
}
