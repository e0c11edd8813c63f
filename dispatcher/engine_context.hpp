#pragma once
// What the stages of the delivery engine share (engine.hpp says how they fit): its executor,
// settings and dependencies, whether it is stopping, and the bookkeeping that says when a Kafka
// record is finished. Everything here runs on the shard's one io_context thread.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "common/event.hpp"
#include "common/http/delivery_client.hpp"
#include "common/kafka/consumer.hpp"
#include "common/kafka/record.hpp"
#include "common/log.hpp"
#include "common/store/delivery_log_writer.hpp"
#include "common/until_answered.hpp"
#include "dispatcher/async_semaphore.hpp"
#include "dispatcher/config.hpp"
#include "dispatcher/metrics.hpp"
#include "dispatcher/ports.hpp"
#include "dispatcher/retry_schedule.hpp"

namespace hookstream::dispatcher {

struct EngineDeps {
  store::DeliveryLogWriter& delivery_log;
  Subscriptions& subscriptions;
  http::WebhookClient& http;
  RecordWriter& kafka;
  SlotSource& slots;
  Metrics& metrics;
  const Clock& clock;
  Random& random;
};

// One Kafka record under way. It is finished, and its offset may be committed, once each of its
// deliveries (or, before the fan-out, its one step) is.
struct RecordWork {
  kafka::TopicPartition tp;
  std::int64_t offset = 0;
  std::size_t remaining = 1;  // deliveries (or, before the fan-out, steps) not finished yet
  std::size_t parking = 0;    // of those, deliveries being parked in a retry tier
  bool handed_back = false;   // one of them stopped unfinished: the record is never committed
  bool all_parking = false;   // every unfinished delivery is being parked (reported as such)
};
using RecordWorkPtr = std::shared_ptr<RecordWork>;

// One delivery: an event to one webhook, at one attempt.
struct DeliveryTask {
  RecordWorkPtr work;
  std::shared_ptr<const kafka::Record> record;  // the event's record (retries copy it)
  std::shared_ptr<const Event> event;
  std::shared_ptr<const std::string> payload;  // the body, built once per event
  std::string webhook_id;
  int attempt = 1;
  TimePoint created_at;
  bool holds_pending_unit = false;  // a first delivery counted against max_pending_deliveries
  // The retry tier (its delay) the delivery was read back from; nullopt when it came from the
  // events topic. A delivery parked again goes to a longer tier (RetrySchedule::parking_tier).
  std::optional<Millis> read_from_tier{};
  std::chrono::steady_clock::time_point queued_at{};  // when it joined its endpoint's queue
};

class EngineContext {
 public:
  // A record is finished (its offset may be committed).
  using RecordDone = std::function<void(const kafka::TopicPartition&, std::int64_t offset)>;
  // Pause (true) or resume (false) reading a retry partition.
  using FlowControl = std::function<void(const kafka::TopicPartition&, bool pause)>;
  // A record handed back unfinished at shutdown (it stays uncommitted).
  using RecordAbandoned = std::function<void(const kafka::TopicPartition&, std::int64_t offset)>;
  // Records that wait by design, +n / -n: a retry record read ahead of its due time (its tier's
  // partition not paused), or a record whose every unfinished delivery is being parked (waiting
  // only for Kafka to take its retry record and for its log entry).
  using WaitingChange = std::function<void(int delta)>;

  EngineContext(asio::any_io_executor ex, const DispatcherConfig& cfg, EngineDeps dependencies,
                RecordDone on_done, FlowControl flow, RecordAbandoned on_abandon,
                WaitingChange on_waiting)
      : executor(std::move(ex)),
        config(cfg),
        deps(dependencies),
        schedule(cfg.retry_schedule),
        pending_deliveries(executor, cfg.max_pending_deliveries),
        on_done_(std::move(on_done)),
        flow_(std::move(flow)),
        on_abandon_(std::move(on_abandon)),
        on_waiting_(std::move(on_waiting)) {}

  asio::any_io_executor executor;
  const DispatcherConfig& config;
  EngineDeps deps;
  RetrySchedule schedule;
  // First deliveries of events started and not finished (HOOKSTREAM_MAX_PENDING_DELIVERIES): the
  // fan-out takes a unit per delivery, the delivery gives it back when finished.
  AsyncSemaphore pending_deliveries;
  bool stopping = false;

  RecordWorkPtr begin(const kafka::Record& record) const {
    return std::make_shared<RecordWork>(
        RecordWork{{record.topic, record.partition}, record.offset, 1, false});
  }
  // One delivery (or step) of the record is finished.
  void finish(const RecordWorkPtr& work) {
    --work->remaining;
    note_parking(*work);
    if (work->remaining > 0) return;
    if (work->handed_back)
      on_abandon_(work->tp, work->offset);
    else
      on_done_(work->tp, work->offset);
  }
  // Stopping: `deliveries` of this record (or its one step before the fan-out) will not be
  // finished here. Once the others finish, the record is given up: never committed past, and the
  // consumer's drain stops waiting for it; the partition's next owner delivers it.
  void hand_back(const RecordWorkPtr& work, std::size_t deliveries = 1) {
    work->handed_back = true;  // finish() takes it out of the parking count
    work->remaining -= deliveries - 1;
    finish(work);
  }
  // finish() when the step was done, hand_back() when stopping got in its way.
  void finish_or_hand_back(const RecordWorkPtr& work, bool done) {
    if (done)
      finish(work);
    else
      hand_back(work);
  }
  // A delivery of the record starts (true) or stops (false) being parked in a retry tier: a
  // record all of whose unfinished deliveries are waits by design (WaitingChange).
  void parking(const RecordWorkPtr& work, bool started) {
    if (started)
      ++work->parking;
    else
      --work->parking;
    note_parking(*work);
  }
  // Retry records waiting for their due time (RetryQueues), as above.
  void waiting(int delta) { on_waiting_(delta); }
  void abandon(const kafka::TopicPartition& tp, std::int64_t offset) { on_abandon_(tp, offset); }
  void pause(const kafka::TopicPartition& tp, bool paused) { flow_(tp, paused); }

  void spawn(asio::awaitable<void> work, const char* what) {
    asio::co_spawn(executor, std::move(work), log::on_exception(what));
  }

  // hookstream::until_answered, giving up when the engine stops.
  template <typename Call, typename Retriable>
  std::invoke_result_t<Call> until_answered(std::string_view what, Call call, Retriable retriable) {
    return hookstream::until_answered(what, std::move(call), std::move(retriable),
                                      [this] { return stopping; });
  }

 private:
  void note_parking(RecordWork& work) {
    const bool all = work.remaining > 0 && !work.handed_back && work.parking == work.remaining;
    if (all == work.all_parking) return;
    work.all_parking = all;
    on_waiting_(all ? 1 : -1);
  }

  RecordDone on_done_;
  FlowControl flow_;
  RecordAbandoned on_abandon_;
  WaitingChange on_waiting_;
};

}  // namespace hookstream::dispatcher
