#pragma once
// The delivery engine, on one io_context thread: turns records read by the consumer thread into
// deliveries. For an event record: decode (or dead-letter), look up the tenant's subscribers, and
// start one delivery per subscribed webhook. For a retry record: wait until it is due (the
// partition is paused meanwhile), then make the next attempt. A record is finished, and its
// offset may be committed, once each of its deliveries succeeded, was scheduled for retry, or was
// recorded as failed for good.
#include <functional>
#include <map>
#include <memory>

#include "common/clock.hpp"
#include "common/event.hpp"
#include "common/http/delivery_client.hpp"
#include "common/kafka/consumer.hpp"
#include "common/kafka/producer.hpp"
#include "common/store/delivery_log_writer.hpp"
#include "dispatcher/async_semaphore.hpp"
#include "dispatcher/config.hpp"
#include "dispatcher/metrics.hpp"
#include "dispatcher/retry_schedule.hpp"
#include "dispatcher/subscription_cache.hpp"

namespace hookstream::dispatcher {

struct DispatcherDeps {
  store::DeliveryLogWriter& delivery_log;
  SubscriptionCache& subscriptions;
  http::DeliveryClient& http;
  kafka::Producer& producer;
  Metrics& metrics;
  const Clock& clock;
  Random& random;
};

class Dispatcher {
 public:
  // Called when a record is finished (its offset may be committed).
  using RecordDone = std::function<void(const kafka::TopicPartition&, std::int64_t offset)>;
  // Asks the consumer thread to pause (true) or resume (false) a retry partition.
  using FlowControl = std::function<void(const kafka::TopicPartition&, bool pause)>;
  // Called for records handed back unfinished at shutdown (they stay uncommitted).
  using RecordAbandoned = std::function<void(const kafka::TopicPartition&, std::int64_t offset)>;

  Dispatcher(asio::any_io_executor executor, const DispatcherConfig& config, DispatcherDeps deps,
             RecordDone on_done, FlowControl flow, RecordAbandoned on_abandon);

  // On the io thread. The record was begun in the offset tracker.
  void handle(kafka::Record record);
  // Retry records parked for these partitions are dropped: the partitions' new owner re-reads them.
  void drop_partitions(const std::vector<kafka::TopicPartition>& partitions);
  // Stops starting new work; deliveries in flight finish, parked retry records are handed back.
  void stop();
  std::size_t deliveries_in_flight() const { return in_flight_; }

 private:
  struct RecordContext;
  struct DeliveryTask;
  struct RetryQueue;
  struct EndpointGate;

  asio::awaitable<void> process_event(std::shared_ptr<const kafka::Record> record);
  asio::awaitable<void> drain_retry_queue(kafka::TopicPartition tp, std::shared_ptr<RetryQueue> q);
  void pause_if_read_ahead(const kafka::TopicPartition& tp, RetryQueue& q);
  asio::awaitable<void> process_retry(std::shared_ptr<const kafka::Record> record);
  asio::awaitable<void> deliver(DeliveryTask task);
  asio::awaitable<void> deliver_counted(DeliveryTask task);  // deliver, then free a pending unit
  // One attempt: the signed POST (under the endpoint's and the global slot), then settle() logs
  // it and schedules the retry (after the slots are released).
  asio::awaitable<http::DeliveryResult> send(const DeliveryTask& task, EndpointGate& gate,
                                             const TenantWebhooksPtr& snapshot,
                                             const store::Webhook& webhook, TimePoint started);
  asio::awaitable<void> settle(DeliveryTask& task, const store::Webhook& webhook,
                               http::DeliveryResult result, TimePoint started);
  // Writes the retry record to the topic of `tier` (a delay of the schedule), due at `due`.
  asio::awaitable<bool> schedule_retry(const DeliveryTask& task, int attempt, Millis tier,
                                       TimePoint due);
  asio::awaitable<void> record_not_attempted(const DeliveryTask& task,
                                             const store::Webhook& webhook, std::string reason);
  // Logs the delivery as pending, parked untried until `due` (a stalled endpoint).
  asio::awaitable<void> record_deferred(const DeliveryTask& task, TimePoint due);
  // The log entry of this delivery, to be completed by the caller.
  store::AttemptUpdate log_entry(const DeliveryTask& task, store::LogEntryKind kind) const;
  // Logs `entry`, trying again until Redis answers; nothing when stopping first.
  asio::awaitable<std::optional<store::WebhookHealth>> log_until_answered(
      store::AttemptUpdate entry);
  asio::awaitable<void> dead_letter(const kafka::Record& record, const std::string& reason);
  asio::awaitable<void> backoff(int round);
  asio::awaitable<void> sweep_stalled_endpoints();
  bool stalled(const EndpointGate& gate) const;
  void finish(const std::shared_ptr<RecordContext>& ctx);
  // Stopping: `deliveries` of this record (or its one step before the fan-out) will not be
  // finished here. Once the others finish, the record is given up: never committed past, and the
  // consumer's drain stops waiting for it; the partition's next owner delivers it.
  void hand_back(const std::shared_ptr<RecordContext>& ctx, std::size_t deliveries = 1);
  void spawn(asio::awaitable<void> work, const char* what);

  asio::any_io_executor executor_;
  const DispatcherConfig& config_;
  DispatcherDeps deps_;
  RecordDone on_done_;
  FlowControl flow_;
  RecordAbandoned on_abandon_;
  RetrySchedule schedule_;
  AsyncSemaphore global_slots_;
  AsyncSemaphore pending_deliveries_;  // first deliveries of events spawned and not finished
  std::map<std::string, std::shared_ptr<EndpointGate>, std::less<>> gates_;
  std::map<kafka::TopicPartition, std::shared_ptr<RetryQueue>> retry_queues_;
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
  asio::steady_timer sweep_timer_;
};

}  // namespace hookstream::dispatcher
