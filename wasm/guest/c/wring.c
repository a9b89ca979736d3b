/* wring.c: the C SDK's runtime: the ABI exports and their buffers. */
#include "wring.h"

#define EXPORT(name) __attribute__((export_name(name)))

static uint32_t info[16];
static uint8_t batch[WRING_BATCH_BYTES] __attribute__((aligned(8)));
static uint8_t verdicts[WRING_MAX_PACKETS * 8];
static uint8_t events[WRING_EVENT_BYTES];
static uint8_t config[4096];
static char counter_names[WRING_MAX_COUNTERS * 65];
static uint32_t counter_names_len;
static char sink_names[8 * 65];
static uint32_t sink_names_len;
static int n_counters;
uint64_t wring_counters[WRING_MAX_COUNTERS] __attribute__((aligned(8)));

static uint32_t le32(const uint8_t *b) { return wring_u32(b, 0); }
static void put16(uint8_t *b, uint32_t v) { b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *b, uint32_t v) { put16(b, v); put16(b + 2, v >> 16); }
static void put64(uint8_t *b, uint64_t v) { put32(b, (uint32_t)v); put32(b + 4, (uint32_t)(v >> 32)); }
static uint32_t slen(const char *s) { uint32_t n = 0; while (s[n]) n++; return n; }
static void copy(uint8_t *d, const void *s, uint32_t n) { const uint8_t *p = s; while (n--) *d++ = *p++; }

int wring_counter(const char *name) {
  uint32_t n = slen(name);
  if (n_counters >= WRING_MAX_COUNTERS || n == 0 || n > 64) return -1;
  copy((uint8_t *)counter_names + counter_names_len, name, n + 1);
  counter_names_len += n + 1;
  return n_counters++;
}

EXPORT("wring_abi_version") int32_t wring_abi_version(void) { return WRING_ABI_VERSION; }

EXPORT("wring_config_buffer") int32_t wring_config_buffer(int32_t n) {
  if (n < 0 || n > (int32_t)sizeof config) return 0;
  return (int32_t)(uintptr_t)config;
}

EXPORT("wring_init") int32_t wring_init(int32_t cfg, int32_t n) {
  wring_options o = {0};
  if (wring_analyzer_init((const uint8_t *)(uintptr_t)cfg, (uint32_t)n, &o) != 0) return 0;
  for (int i = 0; i < 8 && o.sinks[i]; i++) {
    uint32_t l = slen(o.sinks[i]);
    copy((uint8_t *)sink_names + sink_names_len, o.sinks[i], l + 1);
    sink_names_len += l + 1;
  }
  uint32_t v[16] = {
      WRING_ABI_VERSION, o.need, o.payload_max, WRING_MAX_PACKETS,
      (uint32_t)(uintptr_t)batch, sizeof batch, (uint32_t)(uintptr_t)verdicts,
      (uint32_t)(uintptr_t)wring_counters, (uint32_t)n_counters,
      (uint32_t)(uintptr_t)counter_names, counter_names_len,
      (uint32_t)(uintptr_t)events, sizeof events,
      (uint32_t)(uintptr_t)sink_names, sink_names_len,
      (o.tick && wring_analyzer_tick) ? 1u : 0u,
  };
  for (int i = 0; i < 16; i++) info[i] = v[i];
  return (int32_t)(uintptr_t)info;
}

EXPORT("wring_process") int32_t wring_process(int32_t n) {
  if (n < 0 || n > WRING_MAX_PACKETS) return 1;
  for (int32_t i = 0; i < n; i++) {
    const uint8_t *d = batch + 32 + i * 104;
    uint32_t off = le32(d + 96), len = le32(d + 100);
    if ((uint64_t)off + len > sizeof batch) return 2;
    wring_packet p = {d, batch + off, len, (uint32_t)i};
    wring_verdict v = {0};
    wring_analyzer_packet(&p, &v);
    uint8_t *o = verdicts + i * 8;
    o[0] = v.action;
    o[1] = 0;
    put16(o + 2, v.sink);
    put32(o + 4, v.tag);
  }
  return 0;
}

static int tick_more;

void wring_tick_more(void) { tick_more = 1; }

EXPORT("wring_tick") int32_t wring_tick(int64_t now, int32_t final) {
  tick_more = 0;
  if (wring_analyzer_tick) wring_analyzer_tick(now, final);
  return tick_more;
}

const wring_batch_header *wring_batch(void) { return (const wring_batch_header *)(const void *)batch; }

uint32_t wring_event_room(void) {
  uint32_t used = 8 + le32(events);
  return used < sizeof events ? (uint32_t)sizeof events - used : 0;
}

int wring_config_get(const uint8_t *cfg, uint32_t len, const char *key, const uint8_t **val, uint32_t *vlen) {
  uint32_t k = slen(key), i = 0;
  while (i < len) {
    uint32_t end = i;
    while (end < len && cfg[end] != '\n') end++;
    if (end - i > k && cfg[i + k] == '=') {
      uint32_t j = 0;
      while (j < k && cfg[i + j] == (uint8_t)key[j]) j++;
      if (j == k) {
        *val = cfg + i + k + 1;
        *vlen = end - (i + k + 1);
        return 1;
      }
    }
    i = end + 1;
  }
  return 0;
}

uint64_t wring_config_uint(const uint8_t *cfg, uint32_t len, const char *key, uint64_t def) {
  const uint8_t *v;
  uint32_t n;
  if (!wring_config_get(cfg, len, key, &v, &n) || n == 0 || n > 19) return def;
  uint64_t x = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (v[i] < '0' || v[i] > '9') return def;
    x = x * 10 + (v[i] - '0');
  }
  return x;
}

/* The event being written: its start, write position, field count. */
static uint32_t ev_start, ev_pos, ev_fields;
static int ev_lost;

static int room(uint32_t n) {
  if (ev_lost || ev_pos + n > sizeof events || ev_pos + n - ev_start > 65535) {
    ev_lost = 1;
    return 0;
  }
  return 1;
}

void wring_event_begin(uint32_t pkt, const char *kind) {
  uint32_t k = slen(kind);
  ev_start = ev_pos = 8 + le32(events);
  ev_fields = 0;
  ev_lost = 0;
  if (k > 64 || !room(9 + k)) { ev_lost = 1; return; }
  put32(events + ev_pos + 4, pkt);
  events[ev_pos + 8] = (uint8_t)k;
  copy(events + ev_pos + 9, kind, k);
  ev_pos += 9 + k;
}

static uint8_t *field(uint8_t type, const char *key, uint32_t n) {
  uint32_t k = slen(key);
  if (k > 64 || !room(2 + k + n)) return 0;
  uint8_t *b = events + ev_pos;
  b[0] = type;
  b[1] = (uint8_t)k;
  copy(b + 2, key, k);
  ev_pos += 2 + k + n;
  ev_fields++;
  return b + 2 + k;
}

void wring_event_str(const char *key, const uint8_t *s, uint32_t len) {
  if (len > 65535) len = 65535;
  uint8_t *b = field(1, key, 2 + len);
  if (b) { put16(b, len); copy(b + 2, s, len); }
}
void wring_event_uint(const char *key, uint64_t v) { uint8_t *b = field(2, key, 8); if (b) put64(b, v); }
void wring_event_int(const char *key, int64_t v) { uint8_t *b = field(3, key, 8); if (b) put64(b, (uint64_t)v); }
void wring_event_bool(const char *key, int v) { uint8_t *b = field(4, key, 1); if (b) b[0] = v ? 1 : 0; }
void wring_event_addr(const char *key, const uint8_t *a, uint32_t len) {
  if (len != 4 && len != 16) return;
  uint8_t *b = field(5, key, 1 + len);
  if (b) { b[0] = (uint8_t)len; copy(b + 1, a, len); }
}

void wring_event_end(void) {
  if (ev_lost) {
    put32(events + 4, le32(events + 4) + 1);
    return;
  }
  put16(events + ev_start, ev_pos - ev_start);
  put16(events + ev_start + 2, ev_fields);
  put32(events, ev_pos - 8);
}

/* The compiler may emit calls to these for struct copies and zeroing; the
 * runtime is freestanding (no libc), so it provides them. */
void *memcpy(void *d, const void *s, unsigned long n) {
  uint8_t *dp = d;
  const uint8_t *sp = s;
  while (n--) *dp++ = *sp++;
  return d;
}

void *memset(void *d, int c, unsigned long n) {
  uint8_t *dp = d;
  while (n--) *dp++ = (uint8_t)c;
  return d;
}
