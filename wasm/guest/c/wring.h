/* wring.h: the C SDK for wring analyzers (spec/ABI.md, version 1).
 *
 * An analyzer defines wring_analyzer_init and wring_analyzer_packet (and,
 * optionally, wring_analyzer_tick) and links with wring.c, which provides the
 * ABI exports and the buffers they point to:
 *
 *   clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export-dynamic \
 *     -Wl,--strip-all -I wasm/guest/c mine.c wasm/guest/c/wring.c -o mine.wasm
 *
 * The runtime is freestanding: it needs no libc (wasi-libc works too, with
 * --target=wasm32-wasi, if the analyzer wants it).
 *
 * No function here calls the host; everything happens in the module's own
 * memory. Names (counters, sinks, event kinds and keys) are 1..64 bytes of
 * letters, digits and _ . : / -.
 */
#ifndef WRING_H
#define WRING_H

#include <stdint.h>

#define WRING_ABI_VERSION 1

/* What the host copies of each packet (wring_options.need). */
#define WRING_NEED_RECORD 0  /* the Record only */
#define WRING_NEED_HEADERS 1 /* bytes up to the transport payload */
#define WRING_NEED_PAYLOAD 2 /* headers and up to payload_max payload bytes */
#define WRING_NEED_PACKET 3  /* every captured byte */

/* Record field offsets (spec/RECORD.md); read them with wring_u8/16/32/64. */
#define WRING_REC_TIMESTAMP 0
#define WRING_REC_CAPLEN 8
#define WRING_REC_WIRELEN 12
#define WRING_REC_L3OFF 24
#define WRING_REC_L4OFF 26
#define WRING_REC_PAYLOADOFF 28
#define WRING_REC_ETHERTYPE 30
#define WRING_REC_IPVERSION 38
#define WRING_REC_IPPROTO 39
#define WRING_REC_TCPFLAGS 40
#define WRING_REC_SRCPORT 42
#define WRING_REC_DSTPORT 44
#define WRING_REC_SRCADDR 48
#define WRING_REC_DSTADDR 64
#define WRING_REC_FLOWHASH 80
#define WRING_REC_FLAGS 84
#define WRING_REC_PAYLOADLEN 88
#define WRING_NO_OFFSET 0xffff
#define WRING_FLAG_TRUNCATED 4

/* Limits of the static buffers wring.c reserves; define them before
 * compiling wring.c to change them. */
#ifndef WRING_MAX_PACKETS
#define WRING_MAX_PACKETS 256
#endif
#ifndef WRING_BATCH_BYTES
#define WRING_BATCH_BYTES (32 + WRING_MAX_PACKETS * (104 + 1600))
#endif
#ifndef WRING_EVENT_BYTES
#define WRING_EVENT_BYTES 65536
#endif
#ifndef WRING_MAX_COUNTERS
#define WRING_MAX_COUNTERS 256
#endif

/* One packet of a batch: its 96-byte parse record and the copied bytes. */
typedef struct {
  const uint8_t *rec;
  const uint8_t *data;
  uint32_t len;   /* bytes in data */
  uint32_t index; /* position in this call, for events */
} wring_packet;

/* The decision for one packet; zeroed before each wring_analyzer_packet. */
typedef struct {
  uint8_t action; /* 0 none, 1 match, 2 forward, 3 drop */
  uint8_t reserved;
  uint16_t sink; /* forward: index into the declared sinks */
  uint32_t tag;  /* match, forward */
} wring_verdict;

/* What the analyzer declares in wring_analyzer_init. */
typedef struct {
  uint32_t need;
  uint32_t payload_max;
  const char *sinks[8]; /* sink names, NULL-terminated list */
  int tick;             /* call wring_analyzer_tick */
} wring_options;

/* Implemented by the analyzer. */
int wring_analyzer_init(const uint8_t *cfg, uint32_t cfg_len, wring_options *opt); /* 0 = ok */
void wring_analyzer_packet(const wring_packet *p, wring_verdict *v);
void wring_analyzer_tick(int64_t now_ns, int final) __attribute__((weak));

/* Counters: declare in wring_analyzer_init, then add. */
int wring_counter(const char *name); /* returns the counter's index, -1 when full */
extern uint64_t wring_counters[WRING_MAX_COUNTERS];
static inline void wring_count(int c, uint64_t n) {
  if (c >= 0) wring_counters[c] += n;
}

/* Events: begin, add fields, end. A full area counts the event as lost. */
#define WRING_NO_PACKET 0xffffffffu
void wring_event_begin(uint32_t packet_index, const char *kind);
void wring_event_str(const char *key, const uint8_t *s, uint32_t len);
void wring_event_uint(const char *key, uint64_t v);
void wring_event_int(const char *key, int64_t v);
void wring_event_bool(const char *key, int v);
void wring_event_addr(const char *key, const uint8_t *a, uint32_t len); /* 4 or 16 bytes */
void wring_event_end(void);

/* Little-endian field readers for the record. */
static inline uint8_t wring_u8(const uint8_t *r, int off) { return r[off]; }
static inline uint16_t wring_u16(const uint8_t *r, int off) { return (uint16_t)(r[off] | r[off + 1] << 8); }
static inline uint32_t wring_u32(const uint8_t *r, int off) {
  return (uint32_t)r[off] | (uint32_t)r[off + 1] << 8 | (uint32_t)r[off + 2] << 16 | (uint32_t)r[off + 3] << 24;
}
static inline uint64_t wring_u64(const uint8_t *r, int off) {
  return (uint64_t)wring_u32(r, off) | (uint64_t)wring_u32(r, off + 4) << 32;
}

/* The copied transport payload of p (NULL and *len = 0 when it has none). */
static inline const uint8_t *wring_payload(const wring_packet *p, uint32_t *len) {
  uint32_t off = wring_u16(p->rec, WRING_REC_PAYLOADOFF);
  if (off == WRING_NO_OFFSET || off > p->len) {
    *len = 0;
    return 0;
  }
  *len = p->len - off;
  return p->data + off;
}

/* ---- Layouts (spec/ABI.md, spec/RECORD.md), for analyzers that prefer
 * structs to offsets. wring.c keeps the batch area 8-byte aligned, so
 * p->rec may be read as a wring_record. */

/* The 96-byte parse record. */
typedef struct {
  uint64_t timestamp; /* ns since the Unix epoch */
  uint32_t caplen, wirelen, ifindex;
  uint16_t queue, linktype;
  uint16_t l3_off, l4_off, payload_off; /* WRING_NO_OFFSET when absent */
  uint16_t ethertype, vlan_outer, vlan_inner;
  uint8_t vlan_count, mpls_count, ip_version, ip_proto, tcp_flags, ttl;
  uint16_t src_port, dst_port; /* ICMP: src_port is type<<8|code */
  uint16_t mpls_label;
  uint8_t src_addr[16], dst_addr[16]; /* IPv4 in the first 4 bytes */
  uint32_t flow_hash, flags, payload_len, mpls_top;
} wring_record;

/* A packet descriptor in the batch area: the record, then where its bytes are. */
typedef struct {
  wring_record rec;
  uint32_t data_off; /* from the start of the batch area */
  uint32_t data_len;
} wring_desc;

/* The batch area's header. */
typedef struct {
  uint32_t count;
  uint32_t flags; /* WRING_BATCH_RULES_CHANGED */
  uint64_t seq;   /* call number of this instance, from 1 */
  uint64_t now;   /* capture time of the batch's last packet, ns */
  uint32_t rules_gen;
  uint32_t reserved;
} wring_batch_header;
#define WRING_BATCH_RULES_CHANGED 1u

/* The Info block wring_init returns (wring.c fills it). */
typedef struct {
  uint32_t version, need, payload_max, max_packets;
  uint32_t batch_ptr, batch_cap, verdicts_ptr;
  uint32_t counters_ptr, counter_count, names_ptr, names_len;
  uint32_t events_ptr, events_cap, sinks_ptr, sinks_len, flags;
} wring_info;

#define WRING_OFFSET_IS(T, f, off) _Static_assert(__builtin_offsetof(T, f) == (off), #T "." #f " must be at " #off)
WRING_OFFSET_IS(wring_record, caplen, WRING_REC_CAPLEN);
WRING_OFFSET_IS(wring_record, wirelen, WRING_REC_WIRELEN);
WRING_OFFSET_IS(wring_record, l3_off, WRING_REC_L3OFF);
WRING_OFFSET_IS(wring_record, l4_off, WRING_REC_L4OFF);
WRING_OFFSET_IS(wring_record, payload_off, WRING_REC_PAYLOADOFF);
WRING_OFFSET_IS(wring_record, ethertype, WRING_REC_ETHERTYPE);
WRING_OFFSET_IS(wring_record, ip_version, WRING_REC_IPVERSION);
WRING_OFFSET_IS(wring_record, ip_proto, WRING_REC_IPPROTO);
WRING_OFFSET_IS(wring_record, tcp_flags, WRING_REC_TCPFLAGS);
WRING_OFFSET_IS(wring_record, src_port, WRING_REC_SRCPORT);
WRING_OFFSET_IS(wring_record, dst_port, WRING_REC_DSTPORT);
WRING_OFFSET_IS(wring_record, src_addr, WRING_REC_SRCADDR);
WRING_OFFSET_IS(wring_record, dst_addr, WRING_REC_DSTADDR);
WRING_OFFSET_IS(wring_record, flow_hash, WRING_REC_FLOWHASH);
WRING_OFFSET_IS(wring_record, flags, WRING_REC_FLAGS);
WRING_OFFSET_IS(wring_record, payload_len, WRING_REC_PAYLOADLEN);
WRING_OFFSET_IS(wring_record, mpls_top, 92);
WRING_OFFSET_IS(wring_desc, data_off, 96);
WRING_OFFSET_IS(wring_batch_header, seq, 8);
WRING_OFFSET_IS(wring_batch_header, now, 16);
WRING_OFFSET_IS(wring_batch_header, rules_gen, 24);
WRING_OFFSET_IS(wring_info, flags, 60);
_Static_assert(sizeof(wring_record) == 96, "wring_record is 96 bytes");
_Static_assert(sizeof(wring_desc) == 104, "wring_desc is 104 bytes");
_Static_assert(sizeof(wring_batch_header) == 32, "wring_batch_header is 32 bytes");
_Static_assert(sizeof(wring_info) == 64, "wring_info is 64 bytes");
_Static_assert(sizeof(wring_verdict) == 8, "wring_verdict is 8 bytes");

/* The packet's record as a struct. */
static inline const wring_record *wring_rec(const wring_packet *p) { return (const wring_record *)(const void *)p->rec; }

/* The header of the batch being processed (sequence, time, rule flags). */
const wring_batch_header *wring_batch(void);

/* Record flag bits (wring_record.flags). */
#define WRING_FLAG_FRAGMENT 1
#define WRING_FLAG_LATER_FRAGMENT 2
#define WRING_FLAG_MALFORMED 8

/* ---- Verdict helpers. */
#define WRING_ACTION_NONE 0
#define WRING_ACTION_MATCH 1
#define WRING_ACTION_FORWARD 2
#define WRING_ACTION_DROP 3
static inline void wring_match(wring_verdict *v, uint32_t tag) { v->action = WRING_ACTION_MATCH; v->tag = tag; }
static inline void wring_forward(wring_verdict *v, uint16_t sink, uint32_t tag) {
  v->action = WRING_ACTION_FORWARD;
  v->sink = sink;
  v->tag = tag;
}
static inline void wring_drop(wring_verdict *v) { v->action = WRING_ACTION_DROP; }

/* ---- Configuration: key=value lines (wring --analyzer-config key=value).
 * wring_config_get finds key and sets *val and *vlen to its value (not
 * NUL-terminated); it returns 1 when found, 0 otherwise.
 * wring_config_uint parses a decimal value, def when absent or invalid. */
int wring_config_get(const uint8_t *cfg, uint32_t len, const char *key, const uint8_t **val, uint32_t *vlen);
uint64_t wring_config_uint(const uint8_t *cfg, uint32_t len, const char *key, uint64_t def);

/* ---- Events and ticks. */
uint32_t wring_event_room(void); /* bytes left in the event area */
/* From wring_analyzer_tick: ask to be called again with the same arguments
 * once the host has collected the events written so far. */
void wring_tick_more(void);

/* ---- Host imports. Referencing one makes the module import it.
 * wring_log: a log line (levels below), rate limited by the host; not per
 * packet. wring_rules: copies the rule blob if it fits in cap and returns
 * its length, -1 when there is none; needs the rules capability. */
#define WRING_LOG_DEBUG 0
#define WRING_LOG_INFO 1
#define WRING_LOG_WARN 2
#define WRING_LOG_ERROR 3
__attribute__((import_module("wring"), import_name("log"))) void wring_log(int32_t level, const char *msg, int32_t len);
__attribute__((import_module("wring"), import_name("rules"))) int32_t wring_rules(uint8_t *buf, int32_t cap);

#endif
