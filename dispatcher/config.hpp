#pragma once
#include <optional>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/config.hpp"
#include "common/store/delivery_log.hpp"

namespace hookstream::dispatcher {

struct DispatcherConfig {
  RedisConfig redis;
  KafkaConfig kafka;
  LogConfig log;
  SecretKeyring secret_keys;  // opens webhook signing secrets read from Redis
  std::vector<Millis> retry_schedule;
  Millis delivery_timeout{30'000};
  bool allow_http = false;
  bool allow_private_targets = false;
  std::optional<std::string> extra_ca_file;
  // io_context threads, each with its own Redis connection, caches and connection pools; the
  // bounds below are the process's, split between them.
  std::size_t shards = 1;
  std::size_t max_in_flight = 512;             // deliveries at once, all endpoints
  std::size_t max_in_flight_per_endpoint = 8;  // deliveries at once to one webhook
  // Deliveries a stalled endpoint keeps waiting; beyond this they are parked untried in a retry
  // tier, so a slow endpoint cannot hold the consumer back (dispatcher/attempt.hpp).
  std::size_t max_queued_per_endpoint = 64;
  Millis endpoint_stall_after{250};
  // What a rate-limited endpoint's queue may hold, in time at its limit; beyond it deliveries are
  // parked untried in a retry tier (dispatcher/attempt.hpp).
  Millis rate_limit_backlog{10'000};
  std::size_t max_pending_records = 2000;       // records read and not yet finished
  std::size_t max_pending_deliveries = 50'000;  // deliveries of those records started, unfinished
  store::DeliveryLogLimits delivery_log;
  Millis subscription_refresh{200};
  Millis shutdown_grace{20'000};
  std::optional<asio::ip::tcp::endpoint> metrics_listen;  // none: no /metrics server
  std::string instance_id;                                // for logs and the Kafka client id
};

Result<DispatcherConfig> load_dispatcher_config(const ConfigSource& source);

}  // namespace hookstream::dispatcher
