#include "dispatcher/retry_queue.hpp"

#include "common/cloudevents.hpp"
#include "common/kafka/error.hpp"
#include "dispatcher/attempt.hpp"

namespace hookstream::dispatcher {

asio::awaitable<Result<void>> RetryScheduler::schedule(const DeliveryTask& task, int attempt,
                                                       Millis tier, TimePoint due) {
  const RetryInfo info{task.webhook_id, attempt, due, task.created_at};
  auto record = make_retry_record(*task.record, info, engine_.config.kafka.retry_topic(tier));
  auto& kafka = engine_.deps.kafka;
  auto written = co_await engine_.until_answered(
      "retry", [&] { return kafka.write(record); },
      [](const Error& e) { return kafka::is_retriable(e); });
  if (!written) co_return written;
  engine_.deps.metrics.retry_scheduled();
  log::debug(
      "retry scheduled",
      {{"webhook_id", task.webhook_id},
       {"attempt", attempt},
       {"topic", record.topic},
       {"due_in_ms", std::chrono::duration_cast<Millis>(due - engine_.deps.clock.now()).count()}});
  co_return written;
}

RetryQueues::RetryQueues(EngineContext& engine, Attempts& attempts, DeadLetters& dead_letters)
    : engine_(engine), attempts_(attempts), dead_letters_(dead_letters) {
  for (const auto delay : engine_.schedule.delays())
    tier_of_topic_.emplace(engine_.config.kafka.retry_topic(delay), delay);
}

bool RetryQueues::is_retry_topic(const DispatcherConfig& config, std::string_view topic) {
  return topic.starts_with(config.kafka.topic_prefix + ".retry.");
}

void RetryQueues::handle(std::shared_ptr<const kafka::Record> record) {
  const kafka::TopicPartition tp{record->topic, record->partition};
  log::debug("retry record read",
             {{"topic", tp.topic}, {"partition", tp.partition}, {"offset", record->offset}});
  auto& q = queues_[tp];
  if (!q) q = std::make_shared<Queue>();
  q->records.push_back(std::move(record));
  if (q->records.size() == 1)
    engine_.spawn(drain(tp, q), "retry queue");
  else
    pause_if_read_ahead(tp, *q);
  report_waiting(*q);
}

void RetryQueues::report_waiting(Queue& q) {
  const auto now = q.dropped || q.paused ? 0 : q.records.size();
  if (now == q.reported) return;
  engine_.waiting(static_cast<int>(now) - static_cast<int>(q.reported));
  q.reported = now;
}

// A retry tier's records come due in offset order. While its head waits, the partition is read
// on only as far as records due within kReadAhead (they wait here and count against the
// consumer's pending-record bound); past that it is paused until the queue drains, so a long tier
// is never read into memory. Pausing only then also spares a pause and resume per short retry
// (quick pause/resume cycles left a partition unread with librdkafka 2.0 and a 10 ms fetch wait:
// DispatchPause failed 2 runs in 5).
void RetryQueues::pause_if_read_ahead(const kafka::TopicPartition& tp, Queue& q) {
  constexpr Millis kReadAhead{1000};
  if (q.paused || q.records.empty()) return;
  const auto last = read_retry_info(*q.records.back());
  if (last && last->due - engine_.deps.clock.now() < kReadAhead) return;
  q.paused = true;
  engine_.pause(tp, true);
}

void RetryQueues::stop() {
  for (auto& [tp, q] : queues_) {
    for (const auto& r : q->records) engine_.abandon(tp, r->offset);
    q->dropped = true;
    report_waiting(*q);
    if (q->timer) q->timer->cancel();
  }
  queues_.clear();
}

void RetryQueues::drop(const std::vector<kafka::TopicPartition>& partitions) {
  for (const auto& tp : partitions) {
    const auto it = queues_.find(tp);
    if (it == queues_.end()) continue;
    it->second->dropped = true;
    report_waiting(*it->second);
    if (it->second->timer) it->second->timer->cancel();
    queues_.erase(it);
  }
}

asio::awaitable<void> RetryQueues::drain(kafka::TopicPartition tp, std::shared_ptr<Queue> q) {
  while (!q->dropped && !q->records.empty()) {
    auto record = q->records.front();
    if (const auto info = read_retry_info(*record)) {
      const auto wait = std::chrono::duration_cast<Millis>(info->due - engine_.deps.clock.now());
      if (wait.count() > 0) {
        pause_if_read_ahead(tp, *q);
        report_waiting(*q);
        q->timer = std::make_shared<asio::steady_timer>(engine_.executor, wait);
        boost::system::error_code ec;
        co_await q->timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        q->timer.reset();
        if (q->dropped || engine_.stopping) co_return;  // handed back uncommitted
        continue;                                       // re-check: the clock may say otherwise
      }
    }
    q->records.pop_front();
    report_waiting(*q);
    log::debug("retry due",
               {{"topic", tp.topic}, {"partition", tp.partition}, {"offset", record->offset}});
    engine_.spawn(attempt_due(std::move(record)), "retry");
  }
  if (!q->dropped && q->paused) {
    q->paused = false;
    engine_.pause(tp, false);
  }
  report_waiting(*q);
}

asio::awaitable<void> RetryQueues::attempt_due(std::shared_ptr<const kafka::Record> record) {
  auto work = engine_.begin(*record);
  const auto info = read_retry_info(*record);
  auto decoded = cloudevents::decode(*record);
  if (!info || !decoded) {
    const bool sent =
        co_await dead_letters_.send(*record, info ? "retry record: " + decoded.error().reason
                                                  : "retry record without valid hs_* headers");
    engine_.finish_or_hand_back(work, sent);
    co_return;
  }
  auto event = std::make_shared<const Event>(std::move(*decoded));
  auto payload = std::make_shared<const std::string>(webhook_payload(*event));
  // A named task, not a braced temporary: GCC 12 destroys aggregate temporaries in a co_await
  // expression twice.
  DeliveryTask task{work,          record,          event, payload, info->webhook_id,
                    info->attempt, info->created_at};
  if (const auto tier = tier_of_topic_.find(record->topic); tier != tier_of_topic_.end())
    task.read_from_tier = tier->second;
  // A redelivery asked for right after resuming its webhook must see it resumed.
  co_await engine_.deps.subscriptions.await_changes_before(record->timestamp_ms);
  attempts_.submit(std::move(task));
}

}  // namespace hookstream::dispatcher
