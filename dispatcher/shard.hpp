#pragma once
// One shard of a dispatcher process: an io_context on a thread of its own, with everything a
// delivery touches — its Redis connection, delivery log writer, subscription cache, HTTP client
// (and so its connection pools) and the delivery Engine. The consumer thread maps every partition
// to one shard and hands each shard its records a batch at a time; nothing else crosses threads per
// delivery. HOOKSTREAM_DISPATCHER_SHARDS sets how many (default: one per core).
#include <memory>
#include <optional>
#include <thread>

#include "common/http/delivery_client.hpp"
#include "common/kafka/producer.hpp"
#include "common/redis/client.hpp"
#include "common/store/delivery_log_writer.hpp"
#include "common/store/webhooks.hpp"
#include "dispatcher/config.hpp"
#include "dispatcher/engine.hpp"
#include "dispatcher/metrics.hpp"
#include "dispatcher/subscription_cache.hpp"

namespace hookstream::dispatcher {

struct ShardServices {
  kafka::Producer& producer;  // thread-safe, one per process
  Metrics& metrics;           // thread-safe
  const Clock& clock;
  Random& random;  // thread-safe (SecureRandom)
};

class Shard {
 public:
  // `config` is the process's; the shard takes its share of the process-wide bounds.
  static Result<std::unique_ptr<Shard>> create(const DispatcherConfig& config, std::size_t count,
                                               ShardServices services);

  // Called once, before the records start: where the Engine reports finished, paused, abandoned
  // and waiting records (any thread may receive them; the callbacks must be thread-safe).
  void connect(Engine::RecordDone done, Engine::FlowControl flow, Engine::RecordAbandoned abandon,
               Engine::WaitingChange waiting);

  asio::io_context& io() { return io_; }
  Engine& engine() { return *engine_; }
  store::WebhookStore& webhooks() { return webhooks_; }

  // Runs the io_context on a new thread (or, with run_here, on the caller's until it stops),
  // named `name` (top -H, perf).
  void start_thread(const std::string& name);
  void run_here(const std::string& name);
  // From any thread: once the consumer has let go, wind the shard down (io_context stops).
  void shut_down();
  void join();

 private:
  Shard(const DispatcherConfig& config, std::size_t count, ShardServices services);

  DispatcherConfig config_;  // the shard's share
  ShardServices services_;
  asio::io_context io_{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::unique_ptr<http::DeliveryClient> http_;
  redis::Client redis_;
  store::WebhookStore webhooks_;
  store::DeliveryLog delivery_log_;
  store::BatchedDeliveryLog writer_;
  SubscriptionCache subscriptions_;
  store::SendSlots send_slots_;
  RedisSlotSource slot_source_;
  KafkaRecordWriter kafka_writer_;
  std::unique_ptr<Engine> engine_;
  std::thread thread_;
};

}  // namespace hookstream::dispatcher
