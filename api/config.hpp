#pragma once
#include <optional>
#include <string>
#include <vector>

#include "api/http_server.hpp"
#include "common/config.hpp"

namespace hookstream::api {

struct ApiConfig {
  RedisConfig redis;
  KafkaConfig kafka;
  EventsConfig events;
  LogConfig log;
  SecretKeyring secret_keys;  // webhook signing secrets at rest
  asio::ip::tcp::endpoint listen;
  HttpServerLimits http;
  bool allow_http = false;                // accept http:// webhook URLs
  bool allow_private_targets = false;     // test pings to loopback/private addresses
  std::int64_t default_rate_limit = 100;  // requests per minute per key
  Millis key_cache_ttl{30'000};           // how long a replica trusts a looked-up key (≤ 60 s)
  Millis publish_timeout{10'000};         // waiting for Kafka's acknowledgement of POST /v1/events
  Millis delivery_timeout{30'000};        // test pings
  std::size_t max_webhooks_per_tenant = 1000;
  std::vector<Millis> retry_schedule;        // redeliveries go to the first tier's topic
  std::optional<std::string> extra_ca_file;  // test pings verify against it too
  // The portal's public address, for the links POST /v1/portal-sessions answers; empty: the
  // request's Host, over http.
  std::string portal_url;
  // Who may show the portal in a frame: CSP frame-ancestors sources ("'none'" by default).
  std::string portal_frame_ancestors = "'none'";
};

// HOOKSTREAM_PORTAL_FRAME_ANCESTORS: space- or comma-separated 'self' and origins (hosts may
// start with "*."); empty: 'none'.
Result<std::string> parse_frame_ancestors(std::string_view text);

// The admin CLI's `keys` commands never touch webhook secrets: they run without a keyring.
enum class NeedsKeyring { yes, no };

// With NeedsKeyring::no, secret_keys stays empty and HOOKSTREAM_SECRET_KEYS is not read.
Result<ApiConfig> load_api_config(const ConfigSource& source,
                                  NeedsKeyring keyring = NeedsKeyring::yes);

}  // namespace hookstream::api
