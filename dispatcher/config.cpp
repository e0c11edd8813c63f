#include "dispatcher/config.hpp"

#include "common/http/server.hpp"

#include <unistd.h>

#include <algorithm>
#include <thread>

namespace hookstream::dispatcher {

Result<DispatcherConfig> load_dispatcher_config(const ConfigSource& source) {
  ConfigReader r(source);
  DispatcherConfig cfg;
  cfg.redis = read_redis(r);
  cfg.kafka = read_kafka(r);
  cfg.log = read_log(r);
  cfg.secret_keys = read_secret_keys(r);
  cfg.retry_schedule = read_retry_schedule(r);
  cfg.delivery_timeout = read_delivery_timeout(r);
  cfg.allow_http = r.boolean("HOOKSTREAM_ALLOW_HTTP", false);
  cfg.allow_private_targets = r.boolean("HOOKSTREAM_ALLOW_PRIVATE_TARGETS", false);
  if (auto ca = r.string("HOOKSTREAM_CA_FILE", ""); !ca.empty()) cfg.extra_ca_file = ca;
  const auto cores = std::max<std::int64_t>(1, std::thread::hardware_concurrency());
  cfg.shards = static_cast<std::size_t>(r.integer("HOOKSTREAM_DISPATCHER_SHARDS", cores, 1, 256));
  cfg.max_in_flight =
      static_cast<std::size_t>(r.integer("HOOKSTREAM_MAX_IN_FLIGHT", 512, 1, 100'000));
  cfg.max_in_flight_per_endpoint =
      static_cast<std::size_t>(r.integer("HOOKSTREAM_MAX_IN_FLIGHT_PER_ENDPOINT", 8, 1, 1000));
  cfg.max_queued_per_endpoint =
      static_cast<std::size_t>(r.integer("HOOKSTREAM_MAX_QUEUED_PER_ENDPOINT", 64, 0, 100'000));
  cfg.endpoint_stall_after = r.duration("HOOKSTREAM_ENDPOINT_STALL_AFTER", Millis{250});
  if (cfg.endpoint_stall_after < Millis{10})
    r.problem("HOOKSTREAM_ENDPOINT_STALL_AFTER", "must be at least 10ms");
  cfg.rate_limit_backlog = r.duration("HOOKSTREAM_RATE_LIMIT_BACKLOG", Millis{10'000});
  if (cfg.rate_limit_backlog < Millis{100})
    r.problem("HOOKSTREAM_RATE_LIMIT_BACKLOG", "must be at least 100ms");
  cfg.max_pending_records =
      static_cast<std::size_t>(r.integer("HOOKSTREAM_MAX_PENDING_RECORDS", 2000, 1, 1'000'000));
  cfg.max_pending_deliveries = static_cast<std::size_t>(
      r.integer("HOOKSTREAM_MAX_PENDING_DELIVERIES", 50'000, 1, 10'000'000));
  cfg.delivery_log.pause_after_failures =
      r.integer("HOOKSTREAM_PAUSE_AFTER_FAILURES", 10, 1, 1'000'000);
  cfg.delivery_log.max_per_webhook = static_cast<std::size_t>(
      r.integer("HOOKSTREAM_DELIVERY_LOG_MAX_PER_WEBHOOK", 1000, 10, 1'000'000));
  cfg.delivery_log.retention =
      r.duration("HOOKSTREAM_DELIVERY_LOG_RETENTION", Millis{7LL * 24 * 3600 * 1000});
  cfg.subscription_refresh = r.duration("HOOKSTREAM_SUBSCRIPTION_REFRESH", Millis{200});
  if (cfg.subscription_refresh > Millis{1000})
    r.problem("HOOKSTREAM_SUBSCRIPTION_REFRESH", "must be at most 1s (SPEC: changes within 1 s)");
  cfg.shutdown_grace = r.duration("HOOKSTREAM_SHUTDOWN_GRACE", Millis{20'000});
  if (const auto listen = r.string("HOOKSTREAM_DISPATCHER_LISTEN", ""); !listen.empty()) {
    if (auto ep = http::parse_listen_address(listen))
      cfg.metrics_listen = *ep;
    else
      r.problem("HOOKSTREAM_DISPATCHER_LISTEN", ep.error().message);
  }
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  cfg.instance_id =
      r.string("HOOKSTREAM_INSTANCE_ID", std::string(host) + "-" + std::to_string(::getpid()));
  if (auto ok = r.finish(); !ok) return fail(std::move(ok).error());
  return cfg;
}

}  // namespace hookstream::dispatcher
