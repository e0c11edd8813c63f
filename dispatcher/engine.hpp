#pragma once
// The delivery engine of one shard, on its io_context thread: turns the records the consumer
// thread reads into deliveries, in the stages that follow, a file each:
//
//   consumer_loop  reads partitions, hands records to their shard, commits what is finished
//   engine         routes a record: events to the fan-out, retry tiers to the retry queues
//   fan_out        an event → one delivery per subscribed webhook
//   attempt        per endpoint queue and workers: sign, POST, log, pause, schedule the retry
//   retry_queue    writes retries to their tier and reads the tiers back in due order
//   dead_letters   records that cannot be delivered go to <prefix>.dead
//
// A record is finished, and its offset may be committed, once each of its deliveries succeeded,
// was scheduled for retry, or was recorded as failed for good. The engine depends only on the
// narrow interfaces of ports.hpp and store::DeliveryLogWriter, so its rules are unit-tested on
// fakes (tests/unit/engine_test.cpp).
#include <vector>

#include "dispatcher/attempt.hpp"
#include "dispatcher/dead_letters.hpp"
#include "dispatcher/engine_context.hpp"
#include "dispatcher/fan_out.hpp"
#include "dispatcher/retry_queue.hpp"

namespace hookstream::dispatcher {

class Engine {
 public:
  using RecordDone = EngineContext::RecordDone;
  using FlowControl = EngineContext::FlowControl;
  using RecordAbandoned = EngineContext::RecordAbandoned;
  using WaitingChange = EngineContext::WaitingChange;

  Engine(asio::any_io_executor executor, const DispatcherConfig& config, EngineDeps deps,
         RecordDone on_done, FlowControl flow, RecordAbandoned on_abandon,
         WaitingChange on_waiting);

  // On the io thread. The record was begun in the offset tracker.
  void handle(kafka::Record record);
  // Retry records parked for these partitions are dropped: the partitions' new owner re-reads them.
  void drop_partitions(const std::vector<kafka::TopicPartition>& partitions);
  // Stops starting new work; deliveries in flight finish, parked retry records are handed back.
  void stop();
  std::size_t deliveries_in_flight() const { return attempts_.in_flight(); }

 private:
  EngineContext context_;
  DeadLetters dead_letters_;
  RetryScheduler retry_scheduler_;
  Attempts attempts_;
  FanOut fan_out_;
  RetryQueues retry_queues_;
};

}  // namespace hookstream::dispatcher
