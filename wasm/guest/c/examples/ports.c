/* ports: an example analyzer on the C SDK. It counts TCP, UDP and SCTP
 * packets per destination port, for the ports listed in its configuration,
 * and matches packets to one port (tag = the port), reporting each as an
 * event.
 *
 *   ports=53,80,443   the ports with a counter "port.N" (default 53,80,443;
 *                     at most 32); other ports count as "port.other"
 *   match=443         match packets to this destination port (0: none)
 *
 * Counters: packets (all), with_ports (TCP, UDP or SCTP with a transport
 * header), port.N, port.other, matched. It reads the record only. */
#include "wring.h"

#define MAX_PORTS 32

static uint16_t ports[MAX_PORTS];
static int port_counter[MAX_PORTS];
static int n_ports;
static int c_packets, c_with_ports, c_other, c_matched;
static uint16_t match_port;

/* add_port declares the counter "port.N" for a new port. */
static int add_port(uint32_t port) {
  if (port > 65535) return -1;
  for (int k = 0; k < n_ports; k++)
    if (ports[k] == port) return 0; /* listed twice */
  if (n_ports == MAX_PORTS) return -1;
  char name[12] = "port.", digits[5];
  int n = 0, i = 5;
  uint32_t x = port;
  do {
    digits[n++] = (char)('0' + x % 10);
    x /= 10;
  } while (x);
  while (n) name[i++] = digits[--n];
  name[i] = 0;
  ports[n_ports] = (uint16_t)port;
  port_counter[n_ports++] = wring_counter(name);
  return 0;
}

int wring_analyzer_init(const uint8_t *cfg, uint32_t len, wring_options *o) {
  o->need = WRING_NEED_RECORD;
  c_packets = wring_counter("packets");
  c_with_ports = wring_counter("with_ports");
  const uint8_t *v;
  uint32_t n;
  static const uint8_t def[] = "53,80,443";
  if (!wring_config_get(cfg, len, "ports", &v, &n)) {
    v = def;
    n = sizeof def - 1;
  }
  uint32_t port = 0;
  int digits = 0;
  for (uint32_t i = 0; i <= n; i++) {
    if (i == n || v[i] == ',') {
      if (!digits || add_port(port) != 0) return 1; /* empty entry, too many ports or > 65535 */
      port = 0;
      digits = 0;
    } else if (v[i] >= '0' && v[i] <= '9' && digits < 5) {
      port = port * 10 + (uint32_t)(v[i] - '0');
      digits++;
    } else {
      return 1; /* not a port number */
    }
  }
  c_other = wring_counter("port.other");
  c_matched = wring_counter("matched");
  uint64_t m = wring_config_uint(cfg, len, "match", 0);
  if (m > 65535) return 1;
  match_port = (uint16_t)m;
  return 0;
}

void wring_analyzer_packet(const wring_packet *p, wring_verdict *v) {
  const wring_record *r = wring_rec(p);
  wring_count(c_packets, 1);
  if ((r->ip_proto != 6 && r->ip_proto != 17 && r->ip_proto != 132) || r->l4_off == WRING_NO_OFFSET) return;
  wring_count(c_with_ports, 1);
  int counted = 0;
  for (int i = 0; i < n_ports; i++) {
    if (ports[i] == r->dst_port) {
      wring_count(port_counter[i], 1);
      counted = 1;
      break;
    }
  }
  if (!counted) wring_count(c_other, 1);
  if (match_port != 0 && r->dst_port == match_port) {
    wring_count(c_matched, 1);
    wring_match(v, match_port);
    wring_event_begin(p->index, "match");
    wring_event_addr("src", r->src_addr, r->ip_version == 6 ? 16 : 4);
    wring_event_uint("sport", r->src_port);
    wring_event_uint("dport", r->dst_port);
    wring_event_end();
  }
}
