// Package nats publishes wring's analyzer events (flow records included:
// the flow analyzer's events) to a NATS JetStream stream, one message per
// event line, on the subject prefix.host.analyzer.event (spec/NATS.md).
//
// Every message carries a Nats-Msg-Id of host:run:sequence, stable across
// retries, so the stream's duplicate window removes the copies a retry
// makes. Events wait in a bounded buffer until JetStream acknowledges them;
// a failed or unacknowledged publish is repeated with the same id, and the
// connection reconnects without limit. Nothing is lost silently: an event
// is published, dropped because the buffer stayed full, rejected by the
// server, or left unacknowledged when Close's drain time ran out, and
// Stats counts each.
package nats
