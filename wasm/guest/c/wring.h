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

#endif
