// Command flow is wring's bundled flow-statistics analyzer (work in
// progress): a bounded NetFlow-style cache of per-flow packet and byte
// counts per direction, exported as events when a flow ends or times out.
package main
