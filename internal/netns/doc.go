// Package netns is the test harness for live paths: it makes a pair of
// network namespaces joined by a veth pair (with as many RX/TX queues as
// asked), runs code inside either namespace, sends raw frames from one end,
// and removes everything when the test ends. Traffic never leaves the pair.
//
// It exists only on Linux: the tests that use it are Linux tests.
package netns
