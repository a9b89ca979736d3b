// Command tls is wring's bundled TLS ClientHello analyzer (work in
// progress): it recognises TLS handshake records carrying a ClientHello on
// any TCP port and reports the server name (SNI), the record, legacy and
// supported versions and ALPN as events.
package main
