#pragma once
// TLS for deliveries: one client context per DeliveryClient, peer verification on every
// connection.
#include <boost/asio/ssl.hpp>

#include <optional>
#include <string>

#include "common/asio.hpp"
#include "common/result.hpp"
#include "common/url.hpp"

namespace hookstream::http {

// TLS 1.2+, verify_peer, the system's default CA paths (honouring SSL_CERT_FILE/SSL_CERT_DIR)
// plus `extra_ca_file` (PEM) when given. A missing or unreadable file is an error value.
Result<asio::ssl::context> make_client_tls_context(const std::optional<std::string>& extra_ca_file);

// Per-connection settings on `ssl` before the handshake: for a DNS name, SNI and hostname
// verification (no partial wildcards); for an IP literal, no SNI (RFC 6066 forbids it) and
// verification of the certificate's IP address SAN.
Result<void> prepare_peer_verification(SSL* ssl, const Url& url);

}  // namespace hookstream::http
