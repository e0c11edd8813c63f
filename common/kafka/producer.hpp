#pragma once
// An idempotent Kafka producer (enable.idempotence=true, acks=all) with its own poll thread.
// Every accepted record gets exactly one delivery report: success, or a failure within
// ProducerOptions::delivery_timeout (message.timeout.ms), so an unreachable broker is reported
// rather than waited on forever.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "common/asio.hpp"
#include "common/config.hpp"
#include "common/kafka/error.hpp"
#include "common/kafka/handles.hpp"
#include "common/kafka/record.hpp"
#include "common/result.hpp"
#include "common/time.hpp"

namespace hookstream::kafka {

struct ProducerOptions {
  Millis delivery_timeout{10000};
  std::string client_id = "hookstream";
};

struct DeliveryReport {
  std::string topic;
  std::int32_t partition;
  std::int64_t offset;
};

class Producer {
 public:
  using DeliveryCallback = std::function<void(Result<DeliveryReport>)>;

  // Fails (code kafka_invalid_config) on a bad or guarded property, naming it. Does not wait for
  // the brokers: an unreachable cluster shows up as failed delivery reports.
  static Result<std::unique_ptr<Producer>> create(const KafkaConfig& config,
                                                  const ProducerOptions& options);
  // Waits up to min(delivery_timeout, 5 s) for outstanding deliveries, then purges the rest (their
  // callbacks get kafka_purged) and destroys the handle. Never blocks indefinitely.
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Enqueues without blocking; a full local queue is an error value (kafka_queue_full, retriable).
  // On success, on_delivery is called exactly once, from the producer's poll thread; on failure it
  // is never called.
  Result<void> produce(kafka::Record record, DeliveryCallback on_delivery);

  // Completes with void(Result<DeliveryReport>) on the token's associated executor, also when the
  // record is refused up front.
  template <typename CompletionToken>
  auto async_produce(kafka::Record record, CompletionToken&& token);

  // A fatal error (the idempotent producer's sequence broke, e.g. OUT_OF_ORDER_SEQUENCE_NUMBER when
  // a broker dies mid-batch) leaves a librdkafka handle refusing every record for good. The poll
  // thread then replaces it with a new one (new producer id): its outstanding records fail as
  // kafka_fenced (retriable), later ones go through the new handle. Counts replacements.
  std::size_t handles_replaced() const;
  // Raises a fatal error on the current handle, as a broken sequence would (tests).
  void raise_fatal_error_for_test(const std::string& reason);

  // Waits until every delivery report enqueued so far has been delivered to its callback.
  // Fails with kafka_timed_out if some remain after `timeout`. Callbacks still run on the poll
  // thread.
  Result<void> flush(Millis timeout);

  // Records accepted and not yet reported.
  std::size_t in_flight() const;

  // Asks the cluster for its metadata; fails when no broker answers within `timeout`. Blocks the
  // calling thread, so call it off the io_context (readiness probes).
  Result<void> check_cluster(Millis timeout) const;

 private:
  struct Pending;
  Producer(ProducerOptions options);
  static void on_delivery_report(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void poll_loop();
  bool wait_idle(Millis timeout);
  // On the poll thread: a new handle from conf_, swapped in; the old one's records fail and it is
  // destroyed.
  void replace_fatal_handle();

  ProducerOptions options_;
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
  std::atomic<bool> fatal_{false};
  std::size_t handles_replaced_ = 0;
  ConfPtr conf_;                    // a copy of what the handle was made from, for its replacement
  rd_kafka_t* retiring_ = nullptr;  // the replaced handle while its reports drain (poll thread)
  // Declared after everything the callbacks touch, so the handle is destroyed first. produce()
  // and check_cluster() use it under a shared lock; the poll thread swaps it under an exclusive
  // one.
  mutable std::shared_mutex handle_mu_;
  HandlePtr handle_;
  std::thread poll_thread_;
};

template <typename CompletionToken>
auto Producer::async_produce(kafka::Record record, CompletionToken&& token) {
  return asio::async_initiate<CompletionToken, void(Result<DeliveryReport>)>(
      [this](auto handler, kafka::Record rec) {
        using Handler = decltype(handler);
        // std::function needs a copyable target; the handler (e.g. a coroutine's) is move-only.
        auto shared = std::make_shared<Handler>(std::move(handler));
        // Keeps the handler's executor (an io_context) from running out of work meanwhile.
        auto work = std::make_shared<decltype(asio::prefer(
            asio::get_associated_executor(*shared), asio::execution::outstanding_work.tracked))>(
            asio::prefer(asio::get_associated_executor(*shared),
                         asio::execution::outstanding_work.tracked));
        auto complete = [shared, work](Result<DeliveryReport> result) {
          asio::post(*work, [shared, result = std::move(result)]() mutable {
            (*shared)(std::move(result));
          });
        };
        if (auto accepted = produce(std::move(rec), complete); !accepted)
          complete(Result<DeliveryReport>(fail(std::move(accepted).error())));
      },
      token, std::move(record));
}

}  // namespace hookstream::kafka
