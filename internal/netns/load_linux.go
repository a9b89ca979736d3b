package netns

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Load is request/response traffic from a client namespace to a server
// namespace: UDP datagrams the server echoes, and TCP connections each
// carrying request/response rounds. Every request waits for its reply
// before the next is sent, so each flow's packets have one order.
type Load struct {
	UDP     int // datagrams to echo
	TCP     int // connections
	Rounds  int // request/response rounds per connection
	UDPPort int // default 7007
	TCPPort int // default 7008
}

// LoadResult counts what the client got back.
type LoadResult struct {
	UDPSent, UDPReplies int
	TCPRounds, TCPOK    int
}

// Complete reports whether every request got its reply.
func (r LoadResult) Complete() bool { return r.UDPSent == r.UDPReplies && r.TCPRounds == r.TCPOK }

func (r LoadResult) String() string {
	return fmt.Sprintf("UDP %d of %d echoed, TCP %d of %d rounds answered", r.UDPReplies, r.UDPSent, r.TCPOK, r.TCPRounds)
}

// Run starts the servers in serverNS on server's address, runs the
// clients from clientNS and returns when every reply has arrived or timed
// out (1 s each). An error means the load could not run; lost replies
// show in the result.
func (l Load) Run(serverNS, clientNS string, server netip.Addr) (LoadResult, error) {
	if l.UDPPort == 0 {
		l.UDPPort = 7007
	}
	if l.TCPPort == 0 {
		l.TCPPort = 7008
	}
	var res LoadResult
	var uc *net.UDPConn
	var tl *net.TCPListener
	if err := Do(serverNS, func() error {
		var err error
		if uc, err = net.ListenUDP("udp4", &net.UDPAddr{IP: server.AsSlice(), Port: l.UDPPort}); err != nil {
			return err
		}
		tl, err = net.ListenTCP("tcp4", &net.TCPAddr{IP: server.AsSlice(), Port: l.TCPPort})
		return err
	}); err != nil {
		if uc != nil {
			uc.Close()
		}
		return res, fmt.Errorf("load: servers in %s: %w", serverNS, err)
	}
	var servers sync.WaitGroup
	servers.Add(2)
	go func() { // UDP echo
		defer servers.Done()
		buf := make([]byte, 2048)
		for {
			n, from, err := uc.ReadFromUDP(buf)
			if err != nil {
				return
			}
			_, _ = uc.WriteToUDP(buf[:n], from)
		}
	}()
	go func() { // TCP: one response line per request line
		defer servers.Done()
		var conns sync.WaitGroup
		defer conns.Wait()
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := c.Write([]byte("response to " + line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	defer func() {
		uc.Close()
		tl.Close()
		servers.Wait()
	}()

	err := Do(clientNS, func() error {
		if l.UDP > 0 {
			c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: server.AsSlice(), Port: l.UDPPort})
			if err != nil {
				return err
			}
			defer c.Close()
			buf := make([]byte, 2048)
			for i := range l.UDP {
				msg := fmt.Sprintf("echo request %d %s", i, strings.Repeat("u", i%97))
				res.UDPSent++
				if _, err := c.Write([]byte(msg)); err != nil {
					return err
				}
				_ = c.SetReadDeadline(time.Now().Add(time.Second))
				n, err := c.Read(buf)
				if err == nil && string(buf[:n]) == msg {
					res.UDPReplies++
				}
			}
		}
		for k := range l.TCP {
			c, err := net.DialTimeout("tcp4", netip.AddrPortFrom(server, uint16(l.TCPPort)).String(), 2*time.Second)
			if err != nil {
				res.TCPRounds += l.Rounds
				continue
			}
			r := bufio.NewReader(c)
			for i := range l.Rounds {
				req := fmt.Sprintf("request %d.%d %s\n", k, i, strings.Repeat("t", (k*7+i)%301))
				res.TCPRounds++
				_ = c.SetDeadline(time.Now().Add(time.Second))
				if _, err := c.Write([]byte(req)); err != nil {
					continue
				}
				line, err := r.ReadString('\n')
				if err == nil && line == "response to "+req {
					res.TCPOK++
				}
			}
			c.Close()
		}
		return nil
	})
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return res, fmt.Errorf("load: clients in %s: %w", clientNS, err)
	}
	return res, nil
}
