#include "dispatcher/shard.hpp"

#include "common/thread_name.hpp"

namespace hookstream::dispatcher {
namespace {

std::size_t share(std::size_t total, std::size_t count) {
  return std::max<std::size_t>(1, (total + count - 1) / count);
}

// The process-wide bounds are split between the shards, so a process holds as many deliveries
// in flight, per endpoint and in all, as its settings say, however many shards it runs.
DispatcherConfig shard_config(const DispatcherConfig& config, std::size_t count) {
  DispatcherConfig c = config;
  c.max_in_flight = share(config.max_in_flight, count);
  c.max_in_flight_per_endpoint = share(config.max_in_flight_per_endpoint, count);
  c.max_queued_per_endpoint = share(config.max_queued_per_endpoint, count);
  c.max_pending_deliveries = share(config.max_pending_deliveries, count);
  c.max_pending_records = share(config.max_pending_records, count);  // Attempts' bound per shard
  return c;
}

}  // namespace

Result<std::unique_ptr<Shard>> Shard::create(const DispatcherConfig& config, std::size_t count,
                                             ShardServices services) {
  http::ClientOptions options;
  options.allow_private_targets = config.allow_private_targets;
  options.extra_ca_file = config.extra_ca_file;
  // As many idle connections to one origin as the shard may have requests in flight: many
  // endpoints often share a receiver (one origin, many paths), and a connection closed on its
  // return is a new TCP (and TLS) handshake for the next delivery there. With 8, the fan-out to
  // 1,000 endpoints of one receiver connected anew for most deliveries.
  options.max_idle_per_origin = share(config.max_in_flight, count);
  auto shard = std::unique_ptr<Shard>(new Shard(config, count, services));
  // On the shard's own io_context; creating it can fail (a bad CA file).
  auto client = http::DeliveryClient::create(shard->io_.get_executor(), options);
  if (!client) return fail(std::move(client).error());
  shard->http_ = std::move(*client);
  return shard;
}

Shard::Shard(const DispatcherConfig& config, std::size_t count, ShardServices services)
    : config_(shard_config(config, count)),
      services_(services),
      work_(asio::make_work_guard(io_)),
      redis_(io_.get_executor(), config_.redis),
      webhooks_(redis_, services.clock, services.random, config_.secret_keys),
      delivery_log_(redis_, config_.delivery_log),
      writer_(io_.get_executor(), delivery_log_, {},
              [&metrics = services.metrics](std::size_t entries, const store::StoreError* failure) {
                metrics.delivery_log_call(entries, failure);
              }),
      subscriptions_(io_.get_executor(), redis_, webhooks_, config_.subscription_refresh,
                     services.clock),
      send_slots_(redis_),
      slot_source_(send_slots_),
      kafka_writer_(services.producer) {}

void Shard::connect(Engine::RecordDone done, Engine::FlowControl flow,
                    Engine::RecordAbandoned abandon, Engine::WaitingChange waiting) {
  engine_ = std::make_unique<Engine>(
      io_.get_executor(), config_,
      EngineDeps{writer_, subscriptions_, *http_, kafka_writer_, slot_source_, services_.metrics,
                 services_.clock, services_.random},
      std::move(done), std::move(flow), std::move(abandon), std::move(waiting));
  subscriptions_.start();
}

void Shard::start_thread(const std::string& name) {
  thread_ = std::thread([this, name] {
    name_this_thread(name);
    io_.run();
  });
}

void Shard::run_here(const std::string& name) {
  name_this_thread(name);
  io_.run();
}

void Shard::shut_down() {
  asio::post(io_, [this] {
    subscriptions_.stop();
    redis_.disconnect();
    work_.reset();
    io_.stop();
  });
}

void Shard::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace hookstream::dispatcher
