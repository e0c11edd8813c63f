#include "dispatcher/dispatcher.hpp"

#include <algorithm>
#include <deque>

#include "common/cloudevents.hpp"
#include "common/http/webhook_request.hpp"
#include "common/log.hpp"

namespace hookstream::dispatcher {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kDeadReasonHeader = "hookstream_dead_reason";

bool is_retry_topic(const DispatcherConfig& config, std::string_view topic) {
  return topic.starts_with(config.kafka.topic_prefix + ".retry.");
}

// Whether a delivery may be attempted against the webhook as it is now.
enum class Eligibility { attempt, deleted, unsubscribed, not_active };

Eligibility eligibility(const store::Webhook* webhook, const std::string& event_type) {
  if (!webhook) return Eligibility::deleted;
  if (!webhook->subscribes_to(event_type)) return Eligibility::unsubscribed;
  if (webhook->status != store::WebhookStatus::active) return Eligibility::not_active;
  return Eligibility::attempt;
}

// What the delivery log says of a delivery that is not attempted: it fails for good, with the
// reason. Nothing when there is nothing to log against: a deleted webhook's log went with it, and a
// first attempt to a webhook that stopped subscribing before it began was never a delivery. A retry
// or a redelivery (attempt > 1) already has its entry, which must not stay pending for ever.
std::optional<std::string> not_attempted_reason(Eligibility why, const store::Webhook* webhook,
                                                const std::string& event_type, int attempt) {
  switch (why) {
    case Eligibility::not_active:
      return "endpoint " + std::string(to_string(webhook->status));
    case Eligibility::unsubscribed:
      if (attempt > 1) return "endpoint no longer subscribed to " + event_type;
      return std::nullopt;
    case Eligibility::deleted:
    case Eligibility::attempt:
      break;
  }
  return std::nullopt;
}

}  // namespace

struct Dispatcher::RecordContext {
  kafka::TopicPartition tp;
  std::int64_t offset = 0;
  std::size_t remaining = 0;  // deliveries (or, before the fan-out, steps) not finished yet
  bool handed_back = false;   // one of them stopped unfinished: the record is never committed
};

struct Dispatcher::DeliveryTask {
  std::shared_ptr<RecordContext> ctx;
  std::shared_ptr<const kafka::Record> record;  // the event's record, for retry records
  std::shared_ptr<const Event> event;
  std::shared_ptr<const std::string> payload;
  std::string webhook_id;
  int attempt = 1;
  TimePoint created_at;
};

struct Dispatcher::RetryQueue {
  std::deque<std::shared_ptr<const kafka::Record>> records;
  bool dropped = false;
  bool paused = false;
  std::shared_ptr<asio::steady_timer> timer;
};

// Per endpoint: its attempt slots and when each attempt under way started. An endpoint whose slots
// are all taken and whose attempts under way all started more than HOOKSTREAM_ENDPOINT_STALL_AFTER
// ago is stalled (slow or dead). A busy endpoint that answers is not, however long its deliveries
// wait for a slot, nor is one whose deliveries wait for a global slot.
struct Dispatcher::EndpointGate {
  explicit EndpointGate(asio::any_io_executor ex, std::size_t n) : slots(std::move(ex), n) {}
  AsyncSemaphore slots;
  std::vector<Clock::time_point> started;  // attempts under way (at most the slot count)
  // The webhook made ready for requests, and the cached webhook it was made from: the cache
  // builds new Webhook objects whenever a webhook changed, so the address names the version.
  std::optional<http::PreparedEndpoint> prepared;
  const store::Webhook* prepared_from = nullptr;
  TenantWebhooksPtr prepared_snapshot;  // keeps prepared_from alive and unique
};

Dispatcher::Dispatcher(asio::any_io_executor executor, const DispatcherConfig& config,
                       DispatcherDeps deps, RecordDone on_done, FlowControl flow,
                       RecordAbandoned on_abandon)
    : executor_(executor),
      config_(config),
      deps_(deps),
      on_done_(std::move(on_done)),
      flow_(std::move(flow)),
      on_abandon_(std::move(on_abandon)),
      schedule_(config.retry_schedule),
      global_slots_(executor, config.max_in_flight),
      pending_deliveries_(executor, config.max_pending_deliveries),
      sweep_timer_(executor) {
  spawn(sweep_stalled_endpoints(), "stalled-endpoint sweep");
}

void Dispatcher::spawn(asio::awaitable<void> work, const char* what) {
  asio::co_spawn(executor_, std::move(work), log::on_exception(what));
}

void Dispatcher::finish(const std::shared_ptr<RecordContext>& ctx) {
  if (--ctx->remaining > 0) return;
  if (ctx->handed_back)
    on_abandon_(ctx->tp, ctx->offset);
  else
    on_done_(ctx->tp, ctx->offset);
}

void Dispatcher::hand_back(const std::shared_ptr<RecordContext>& ctx, std::size_t deliveries) {
  ctx->handed_back = true;
  ctx->remaining -= deliveries - 1;
  finish(ctx);
}

void Dispatcher::handle(kafka::Record record) {
  if (stopping_) {
    on_abandon_({record.topic, record.partition}, record.offset);
    return;
  }
  auto shared = std::make_shared<const kafka::Record>(std::move(record));
  if (!is_retry_topic(config_, shared->topic)) {
    spawn(process_event(std::move(shared)), "event");
    return;
  }
  const kafka::TopicPartition tp{shared->topic, shared->partition};
  log::debug("retry record read",
             {{"topic", tp.topic}, {"partition", tp.partition}, {"offset", shared->offset}});
  auto& q = retry_queues_[tp];
  if (!q) q = std::make_shared<RetryQueue>();
  q->records.push_back(std::move(shared));
  if (q->records.size() == 1)
    spawn(drain_retry_queue(tp, q), "retry queue");
  else
    pause_if_read_ahead(tp, *q);
}

// A retry tier's records come due in offset order. While its head waits, the partition is read
// on only as far as records due within kReadAhead (they wait here and count against the
// consumer's pending-record bound); past that it is paused until the queue drains, so a long tier
// is never read into memory. Pausing only then also spares a pause and resume per short retry
// (quick pause/resume cycles left a partition unread with librdkafka 2.0 and a 10 ms fetch wait:
// DispatchPause failed 2 runs in 5).
void Dispatcher::pause_if_read_ahead(const kafka::TopicPartition& tp, RetryQueue& q) {
  constexpr Millis kReadAhead{1000};
  if (q.paused || q.records.empty()) return;
  const auto last = read_retry_info(*q.records.back());
  if (last && last->due - deps_.clock.now() < kReadAhead) return;
  q.paused = true;
  flow_(tp, true);
}

void Dispatcher::stop() {
  stopping_ = true;
  sweep_timer_.cancel();
  pending_deliveries_.evict_waiters(0);
  for (auto& [tp, q] : retry_queues_) {
    for (const auto& r : q->records) on_abandon_(tp, r->offset);
    q->dropped = true;
    if (q->timer) q->timer->cancel();
  }
  retry_queues_.clear();
}

void Dispatcher::drop_partitions(const std::vector<kafka::TopicPartition>& partitions) {
  for (const auto& tp : partitions) {
    const auto it = retry_queues_.find(tp);
    if (it == retry_queues_.end()) continue;
    it->second->dropped = true;
    if (it->second->timer) it->second->timer->cancel();
    retry_queues_.erase(it);
  }
}

asio::awaitable<void> Dispatcher::backoff(int round) {
  asio::steady_timer timer(executor_);
  timer.expires_after(Millis{std::min(100 << std::min(round, 5), 2000)});
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> Dispatcher::process_event(std::shared_ptr<const kafka::Record> record) {
  auto ctx = std::make_shared<RecordContext>(
      RecordContext{{record->topic, record->partition}, record->offset, 1});
  auto decoded = cloudevents::decode(*record);
  if (!decoded) {
    co_await dead_letter(*record, std::string(cloudevents::to_string(decoded.error().code)) + ": " +
                                      decoded.error().reason);
    finish(ctx);
    co_return;
  }
  auto event = std::make_shared<const Event>(std::move(*decoded));
  // A webhook created before this event was published must get it.
  co_await deps_.subscriptions.await_changes_before(record->timestamp_ms);

  // Redis being down is transient: keep the record (uncommitted) and retry until it answers.
  TenantWebhooksPtr webhooks;
  for (int round = 0;; ++round) {
    auto r = co_await deps_.subscriptions.tenant(event->tenant);
    if (r) {
      webhooks = std::move(*r);
      break;
    }
    if (round == 0)
      log::warn("cannot load subscriptions; retrying", {{"error", r.error().message}});
    if (stopping_) {
      hand_back(ctx);
      co_return;
    }
    co_await backoff(round);
  }
  std::vector<const store::Webhook*> targets;
  for (const auto& w : webhooks->webhooks)
    if (w.subscribes_to(event->type)) targets.push_back(&w);
  if (targets.empty()) {
    finish(ctx);
    co_return;
  }
  auto payload = std::make_shared<const std::string>(webhook_payload(*event));
  ctx->remaining = targets.size();
  const auto now = deps_.clock.now();
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const auto* w = targets[i];
    // Fan-out is bounded too (HOOKSTREAM_MAX_PENDING_DELIVERIES): a record waits here, unfinished,
    // and the consumer's pending-record bound pauses reading behind it.
    const bool granted = co_await pending_deliveries_.acquire();
    if (granted && stopping_) pending_deliveries_.release();
    if (!granted || stopping_) {
      hand_back(ctx, targets.size() - i);  // the deliveries not started
      co_return;
    }
    spawn(deliver_counted(DeliveryTask{ctx, record, event, payload, w->id, 1, now}), "delivery");
  }
}

asio::awaitable<void> Dispatcher::deliver_counted(DeliveryTask task) {
  co_await deliver(std::move(task));
  pending_deliveries_.release();
}

asio::awaitable<void> Dispatcher::drain_retry_queue(kafka::TopicPartition tp,
                                                    std::shared_ptr<RetryQueue> q) {
  while (!q->dropped && !q->records.empty()) {
    auto record = q->records.front();
    if (const auto info = read_retry_info(*record)) {
      const auto wait = std::chrono::duration_cast<Millis>(info->due - deps_.clock.now());
      if (wait.count() > 0) {
        pause_if_read_ahead(tp, *q);
        q->timer = std::make_shared<asio::steady_timer>(executor_, wait);
        boost::system::error_code ec;
        co_await q->timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        q->timer.reset();
        if (q->dropped) co_return;
        if (stopping_) co_return;  // handed back uncommitted
        continue;                  // re-check: the clock may say otherwise
      }
    }
    q->records.pop_front();
    log::debug("retry due",
               {{"topic", tp.topic}, {"partition", tp.partition}, {"offset", record->offset}});
    spawn(process_retry(std::move(record)), "retry");
  }
  if (!q->dropped && q->paused) {
    q->paused = false;
    flow_(tp, false);
  }
}

asio::awaitable<void> Dispatcher::process_retry(std::shared_ptr<const kafka::Record> record) {
  auto ctx = std::make_shared<RecordContext>(
      RecordContext{{record->topic, record->partition}, record->offset, 1});
  const auto info = read_retry_info(*record);
  auto decoded = cloudevents::decode(*record);
  if (!info || !decoded) {
    co_await dead_letter(*record, info ? "retry record: " + decoded.error().reason
                                       : "retry record without valid hs_* headers");
    finish(ctx);
    co_return;
  }
  auto event = std::make_shared<const Event>(std::move(*decoded));
  auto payload = std::make_shared<const std::string>(webhook_payload(*event));
  // A named task, not a braced temporary: GCC 12 destroys aggregate temporaries in a co_await
  // expression twice.
  DeliveryTask task{ctx, record, event, payload, info->webhook_id, info->attempt, info->created_at};
  // A redelivery asked for right after resuming its webhook must see it resumed.
  co_await deps_.subscriptions.await_changes_before(record->timestamp_ms);
  co_await deliver(std::move(task));
}

asio::awaitable<void> Dispatcher::deliver(DeliveryTask task) {
  // The webhook as it is now: it may have been paused, disabled, edited or deleted meanwhile.
  TenantWebhooksPtr snapshot;  // keeps `webhook` alive while this delivery runs
  const store::Webhook* webhook = nullptr;
  for (int round = 0;; ++round) {
    auto r = co_await deps_.subscriptions.tenant(task.event->tenant);
    if (r) {
      snapshot = std::move(*r);
      webhook = snapshot->find(task.webhook_id);
      break;
    }
    if (stopping_) {
      hand_back(task.ctx);
      co_return;
    }
    co_await backoff(round);
  }
  if (const auto now = eligibility(webhook, task.event->type); now != Eligibility::attempt) {
    auto reason = not_attempted_reason(now, webhook, task.event->type, task.attempt);
    if (reason) co_await record_not_attempted(task, *webhook, std::move(*reason));
    finish(task.ctx);
    co_return;
  }
  auto& entry = gates_[webhook->id];
  if (!entry) entry = std::make_shared<EndpointGate>(executor_, config_.max_in_flight_per_endpoint);
  const auto gate = entry;  // held while this delivery waits or runs, so the sweep keeps it
  // A busy healthy endpoint queues here (the consumer's pending-record bound is the backpressure);
  // a stalled one keeps at most HOOKSTREAM_MAX_QUEUED_PER_ENDPOINT waiting and parks the rest in
  // the first retry tier, untried, so it never holds up other endpoints.
  bool deferred = gate->slots.waiting() >= config_.max_queued_per_endpoint && stalled(*gate);
  if (!deferred) {
    const bool granted = co_await gate->slots.acquire();
    deferred = !granted;  // evicted by the sweep: the endpoint stalled
  }
  if (deferred) {
    deps_.metrics.deferred();
    const auto tier = schedule_.delays().front();
    const auto due = deps_.clock.now() + tier;
    const bool scheduled = co_await schedule_retry(task, task.attempt, tier, due);
    if (!scheduled) {
      hand_back(task.ctx);
      co_return;
    }
    co_await record_deferred(task, due);
    finish(task.ctx);
    co_return;
  }
  // Stopping does not cancel this: the drain lets the deliveries of records in hand finish
  // (HOOKSTREAM_SHUTDOWN_GRACE), so that they are committed rather than delivered again.
  co_await global_slots_.acquire();
  // Waiting for the slots can take long: the webhook may have been paused (this process's own
  // failed attempts invalidate the cache at once), edited or deleted meanwhile. Look again, and
  // keep what we had if Redis does not answer.
  auto again = co_await deps_.subscriptions.tenant(task.event->tenant);
  if (again) {
    snapshot = std::move(*again);
    webhook = snapshot->find(task.webhook_id);
  }
  if (const auto now = eligibility(webhook, task.event->type); now != Eligibility::attempt) {
    global_slots_.release();
    gate->slots.release();
    auto reason = not_attempted_reason(now, webhook, task.event->type, task.attempt);
    if (reason) co_await record_not_attempted(task, *webhook, std::move(*reason));
    finish(task.ctx);
    co_return;
  }
  const auto started = Clock::now();
  gate->started.push_back(started);
  ++in_flight_;
  deps_.metrics.attempt_started();
  const auto attempted_at = deps_.clock.now();
  auto result = co_await send(task, *gate, snapshot, *webhook, attempted_at);
  const auto release = [&] {
    --in_flight_;
    deps_.metrics.attempt_finished();
    global_slots_.release();
    std::erase(gate->started, started);
    gate->slots.release();
  };
  // The slots bound requests to endpoints, not writes to Redis: after a success the next request
  // to this endpoint starts while this attempt is logged. A failure keeps its slot until it is
  // logged, so the failure that pauses an endpoint is counted before another attempt can start.
  const bool succeeded = result.outcome == http::Outcome::success;
  if (succeeded) release();
  co_await settle(task, *webhook, std::move(result), attempted_at);
  if (!succeeded) release();
}

bool Dispatcher::stalled(const EndpointGate& gate) const {
  if (gate.slots.available() != 0 || gate.started.empty()) return false;
  const auto newest = *std::max_element(gate.started.begin(), gate.started.end());
  return Clock::now() - newest >= config_.endpoint_stall_after;
}

asio::awaitable<void> Dispatcher::sweep_stalled_endpoints() {
  const auto period = std::max(Millis{50}, config_.endpoint_stall_after / 4);
  while (!stopping_) {
    sweep_timer_.expires_after(period);
    boost::system::error_code ec;
    co_await sweep_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_) co_return;
    for (auto it = gates_.begin(); it != gates_.end();) {
      auto& gate = *it->second;
      if (stalled(gate)) gate.slots.evict_waiters(config_.max_queued_per_endpoint);
      // Idle gates are forgotten (a deleted webhook's gate would otherwise stay forever).
      if (gate.started.empty() && gate.slots.waiting() == 0 && it->second.use_count() == 1)
        it = gates_.erase(it);
      else
        ++it;
    }
  }
}

asio::awaitable<http::DeliveryResult> Dispatcher::send(const DeliveryTask& task, EndpointGate& gate,
                                                       const TenantWebhooksPtr& snapshot,
                                                       const store::Webhook& webhook,
                                                       TimePoint started) {
  // A webhook's URL, keys and headers are made ready once per version of it, not per attempt.
  Result<void> ready;
  if (gate.prepared_from != &webhook || gate.prepared_snapshot != snapshot ||
      (gate.prepared && gate.prepared->valid_until && started >= *gate.prepared->valid_until)) {
    gate.prepared.reset();
    gate.prepared_from = nullptr;
    gate.prepared_snapshot.reset();
    auto prepared =
        http::prepare_endpoint({webhook.url, webhook.signing_secrets(started), webhook.headers,
                                webhook.signing_secrets_change_at(started)});
    if (prepared) {
      gate.prepared = std::move(*prepared);
      gate.prepared_from = &webhook;
      gate.prepared_snapshot = snapshot;
    } else {
      ready = fail(std::move(prepared).error());
    }
  }
  const http::WebhookMessage message{task.event->id, task.event->type, task.payload, task.attempt,
                                     false};
  auto request = ready ? http::build_webhook_request(*gate.prepared, message, started,
                                                     config_.delivery_timeout)
                       : Result<http::DeliveryRequest>(fail(std::move(ready).error()));
  http::DeliveryResult result;
  if (!request) {
    result.outcome = http::Outcome::invalid_response;
    result.error = "cannot build the request: " + request.error().message;
  } else if (!request->url.is_https() && !config_.allow_http) {
    result.outcome = http::Outcome::blocked_address;
    result.error = "plain http:// targets are not allowed by this deployment";
  } else {
    result = co_await deps_.http.post(*request);
  }
  deps_.metrics.attempt(result.outcome, static_cast<double>(result.duration.count()) / 1000.0);
  co_return result;
}

asio::awaitable<void> Dispatcher::settle(DeliveryTask& task, const store::Webhook& webhook,
                                         http::DeliveryResult result, TimePoint started) {
  const bool success = result.outcome == http::Outcome::success;
  const bool gone = result.outcome == http::Outcome::http_error && result.status == 410;
  std::optional<Millis> next;
  if (!success && !gone && http::is_retriable(result.outcome, result.status))
    next = schedule_.next_delay(task.attempt, result.retry_after);

  auto update = log_entry(task, store::LogEntryKind::attempt);
  update.status = success ? store::DeliveryStatus::succeeded
                  : next  ? store::DeliveryStatus::pending
                          : store::DeliveryStatus::failed;
  update.attempt = {
      task.attempt,           started,     std::string(http::to_string(result.outcome)),
      result.status,          result.body, result.error,
      result.duration.count()};
  // When the retry comes due: the time logged as next_retry_at is the one its record carries.
  std::optional<TimePoint> due;
  if (next) {
    due = deps_.clock.now() + *next + RetrySchedule::jitter(*next, deps_.random);
    update.next_retry_at = due;
  }
  update.success = success;
  update.disable_endpoint = gone;
  if (gone) update.attempt.error = "410 Gone: the endpoint asked to be disabled";

  const auto health = co_await log_until_answered(std::move(update));
  if (!health) {  // stopping: the next owner makes this attempt again
    hand_back(task.ctx);
    co_return;
  }
  // Paused or disabled (just now, or elsewhere): later deliveries in this process must see it at
  // once. Only the attempt that paused it says so.
  if (health->status_changed || health->status != webhook.status)
    deps_.subscriptions.invalidate(task.event->tenant);
  if (health->status_changed && health->status == store::WebhookStatus::paused) {
    deps_.metrics.endpoint_paused();
    log::warn("endpoint paused after repeated failures",
              {{"webhook_id", webhook.id}, {"consecutive_fails", health->consecutive_fails}});
  }
  if (next && health->webhook_exists) {
    const bool scheduled = co_await schedule_retry(task, task.attempt + 1, *next, *due);
    if (!scheduled) {
      hand_back(task.ctx);
      co_return;
    }
  }
  finish(task.ctx);
}

asio::awaitable<bool> Dispatcher::schedule_retry(const DeliveryTask& task, int attempt, Millis tier,
                                                 TimePoint due) {
  // One topic per delay of the schedule; `due` may add jitter to it.
  const RetryInfo info{task.webhook_id, attempt, due, task.created_at};
  auto record = make_retry_record(*task.record, info, config_.kafka.retry_topic(tier));
  for (int round = 0;; ++round) {
    auto r = co_await deps_.producer.async_produce(record, asio::use_awaitable);
    if (r) break;
    log::warn("cannot schedule a retry; trying again", {{"error", r.error().message}});
    if (stopping_) co_return false;  // handed back uncommitted
    co_await backoff(round);
  }
  deps_.metrics.retry_scheduled();
  log::debug("retry scheduled",
             {{"webhook_id", task.webhook_id},
              {"attempt", attempt},
              {"topic", record.topic},
              {"due_in_ms", std::chrono::duration_cast<Millis>(due - deps_.clock.now()).count()}});
  co_return true;
}

store::AttemptUpdate Dispatcher::log_entry(const DeliveryTask& task,
                                           store::LogEntryKind kind) const {
  store::AttemptUpdate entry;
  entry.kind = kind;
  entry.delivery_id = store::delivery_id_for(task.event->tenant, task.event->id, task.webhook_id);
  entry.webhook_id = task.webhook_id;
  entry.tenant = task.event->tenant;
  entry.event_id = task.event->id;
  entry.event_type = task.event->type;
  entry.created_at = task.created_at;
  entry.event = task.event;
  return entry;
}

asio::awaitable<std::optional<store::WebhookHealth>> Dispatcher::log_until_answered(
    store::AttemptUpdate entry) {
  for (int round = 0;; ++round) {
    auto r = co_await deps_.delivery_log.record(entry);
    if (r) co_return *r;
    if (round == 0) log::warn("cannot log a delivery; retrying", {{"error", r.error().message}});
    if (stopping_) co_return std::nullopt;
    co_await backoff(round);
  }
}

asio::awaitable<void> Dispatcher::record_not_attempted(const DeliveryTask& task,
                                                       const store::Webhook& webhook,
                                                       std::string reason) {
  auto entry = log_entry(task, store::LogEntryKind::not_attempted);
  entry.webhook_id = webhook.id;
  entry.status = store::DeliveryStatus::failed;
  entry.attempt = {task.attempt, deps_.clock.now(), "not_attempted", 0, "", std::move(reason), 0};
  if (co_await log_until_answered(std::move(entry))) deps_.metrics.not_attempted();
}

// Without this entry a deferred delivery would be invisible in the log until its retry ran.
asio::awaitable<void> Dispatcher::record_deferred(const DeliveryTask& task, TimePoint due) {
  auto entry = log_entry(task, store::LogEntryKind::deferred);
  entry.status = store::DeliveryStatus::pending;
  entry.attempt.number = task.attempt;
  entry.attempt.at = deps_.clock.now();
  entry.attempt.outcome = "deferred";
  entry.attempt.error = "endpoint stalled: parked untried until its retry";
  entry.next_retry_at = due;
  co_await log_until_answered(std::move(entry));
}

asio::awaitable<void> Dispatcher::dead_letter(const kafka::Record& record,
                                              const std::string& reason) {
  kafka::Record dead = record;
  dead.topic = config_.kafka.dead_topic();
  dead.partition = -1;
  dead.headers.push_back({std::string(kDeadReasonHeader), reason});
  dead.headers.push_back({"hookstream_dead_source", record.topic + "/" +
                                                        std::to_string(record.partition) + "@" +
                                                        std::to_string(record.offset)});
  log::warn("record sent to the dead-letter topic", {{"topic", record.topic},
                                                     {"partition", record.partition},
                                                     {"offset", record.offset},
                                                     {"reason", reason}});
  for (int round = 0;; ++round) {
    auto r = co_await deps_.producer.async_produce(dead, asio::use_awaitable);
    if (r) break;
    if (stopping_) co_return;
    co_await backoff(round);
  }
  deps_.metrics.dead_letter();
}

}  // namespace hookstream::dispatcher
