/* tls: wring's bundled TLS analyzer, in C on the C SDK. It finds TLS
 * ClientHello messages at the start of TCP payloads and reports the server
 * name (SNI), the legacy version and whether TLS 1.3 is offered, as events,
 * with counters. It matches ClientHellos (tag 1). A ClientHello split over
 * TCP segments is decoded as far as the first segment goes. */
#include "wring.h"

static int c_hellos, c_sni, c_no_sni, c_tls13, c_truncated;

int wring_analyzer_init(const uint8_t *cfg, uint32_t len, wring_options *o) {
  (void)cfg;
  (void)len;
  o->need = WRING_NEED_PAYLOAD;
  o->payload_max = 1500;
  c_hellos = wring_counter("client_hellos");
  c_sni = wring_counter("with_sni");
  c_no_sni = wring_counter("without_sni");
  c_tls13 = wring_counter("offers_tls13");
  c_truncated = wring_counter("truncated");
  return 0;
}

static uint32_t be16(const uint8_t *b) { return (uint32_t)b[0] << 8 | b[1]; }

void wring_analyzer_packet(const wring_packet *p, wring_verdict *v) {
  if (wring_u8(p->rec, WRING_REC_IPPROTO) != 6) return;
  uint32_t n;
  const uint8_t *b = wring_payload(p, &n);
  /* record header: handshake (22), version 3.x, length; handshake type 1 */
  if (n < 9 || b[0] != 22 || b[1] != 3 || b[5] != 1) return;
  uint32_t rec_version = be16(b + 1);
  uint32_t end = 5 + be16(b + 3);
  if (end > n) end = n; /* decode what this segment holds */
  uint32_t i = 9;       /* after the 4-byte handshake header */
  if (i + 2 + 32 + 1 > end) { wring_count(c_truncated, 1); return; }
  uint32_t hello_version = be16(b + i);
  i += 2 + 32;
  i += 1 + b[i]; /* session id */
  if (i + 2 > end) goto done_truncated;
  i += 2 + be16(b + i); /* cipher suites */
  if (i + 1 > end) goto done_truncated;
  i += 1 + b[i]; /* compression methods */
  const uint8_t *sni = 0;
  uint32_t sni_len = 0;
  int tls13 = 0;
  if (i + 2 <= end) {
    uint32_t ext_end = i + 2 + be16(b + i);
    if (ext_end > end) ext_end = end;
    i += 2;
    while (i + 4 <= ext_end) {
      uint32_t type = be16(b + i), len = be16(b + i + 2);
      const uint8_t *e = b + i + 4;
      if (i + 4 + len > ext_end) break;
      if (type == 0 && len >= 5 && e[2] == 0) { /* server_name, host_name */
        uint32_t l = be16(e + 3);
        if (5 + l <= len) { sni = e + 5; sni_len = l; }
      } else if (type == 43 && len >= 1) { /* supported_versions */
        for (uint32_t k = 1; k + 1 < len && k < 1u + e[0]; k += 2)
          if (be16(e + k) == 0x0304) tls13 = 1;
      }
      i += 4 + len;
    }
  }
  wring_count(c_hellos, 1);
  wring_count(sni ? c_sni : c_no_sni, 1);
  if (tls13) wring_count(c_tls13, 1);
  wring_event_begin(p->index, "client_hello");
  if (sni) wring_event_str("sni", sni, sni_len);
  wring_event_uint("version", hello_version);
  wring_event_uint("record_version", rec_version);
  wring_event_bool("tls13", tls13);
  wring_event_end();
  v->action = 1;
  v->tag = 1;
  return;
done_truncated:
  wring_count(c_truncated, 1);
}
