#include "dispatcher/attempt.hpp"

#include <algorithm>

namespace hookstream::dispatcher {
namespace {

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

Attempts::Attempts(EngineContext& engine, RetryScheduler& retries, DeadLetters& dead_letters)
    : engine_(engine),
      retries_(retries),
      dead_letters_(dead_letters),
      policy_{engine.config.delivery_timeout, engine.config.allow_http},
      global_slots_(engine.executor, engine.config.max_in_flight),
      sweep_timer_(engine.executor),
      limiter_(engine) {
  engine_.spawn(sweep_stalled_endpoints(), "stalled-endpoint sweep");
}

void Attempts::stop() {
  sweep_timer_.cancel();
}

void Attempts::done(DeliveryTask& task, bool handed_back) {
  if (task.holds_pending_unit) engine_.pending_deliveries.release();
  task.holds_pending_unit = false;
  if (handed_back)
    engine_.hand_back(task.work);
  else
    engine_.finish(task.work);
}

void Attempts::submit(DeliveryTask task) {
  auto& q = queues_[task.webhook_id];
  if (!q) q = std::make_shared<EndpointQueue>();
  const auto now = SteadyClock::now();
  if (q->waiting.size() >= engine_.config.max_queued_per_endpoint && stalled(*q, now)) {
    engine_.spawn(defer(std::move(task), ParkReason::stalled), "deferral");
    return;
  }
  if (q->rate_limit > 0 && q->waiting.size() >= rate_limited_queue_bound(q->rate_limit)) {
    engine_.spawn(defer(std::move(task), ParkReason::rate_limited), "deferral");
    return;
  }
  task.queued_at = now;
  q->waiting.push_back(std::move(task));
  if (q->workers < engine_.config.max_in_flight_per_endpoint) {
    if (q->workers == 0) q->heard_from = now;
    ++q->workers;
    engine_.spawn(work(q), "endpoint worker");
  }
}

// One of the endpoint's workers: it takes the next delivery once its attempt is sent. Stopping
// does not end it: the consumer's drain lets the deliveries of records in hand finish
// (HOOKSTREAM_SHUTDOWN_GRACE), so that they are committed rather than delivered again.
asio::awaitable<void> Attempts::work(QueuePtr q) {
  while (!q->waiting.empty()) {
    auto task = std::move(q->waiting.front());
    q->waiting.pop_front();
    co_await attempt(*q, std::move(task));
  }
  --q->workers;
}

asio::awaitable<std::optional<TenantWebhooksPtr>> Attempts::look_up(DeliveryTask& task) {
  auto& subscriptions = engine_.deps.subscriptions;
  const auto& tenant = task.event->tenant;
  auto found = co_await engine_.until_answered(
      "subscriptions", [&] { return subscriptions.tenant(tenant); },
      [](const store::StoreError& e) { return store::is_retriable(e); });
  if (found) co_return std::move(*found);
  if (engine_.stopping) {
    done(task, true);
    co_return std::nullopt;
  }
  // Unreadable webhooks (a corrupt record) need an operator: the event waits in the dead-letter
  // topic with the reason instead of blocking its partition.
  const bool sent = co_await dead_letters_.send(
      *task.record, "webhooks of tenant " + tenant + " unreadable: " + found.error().message);
  done(task, !sent);
  co_return std::nullopt;
}

asio::awaitable<void> Attempts::attempt(EndpointQueue& q, DeliveryTask task) {
  std::optional<TenantWebhooksPtr> snapshot;
  if (auto cached = engine_.deps.subscriptions.cached(task.event->tenant))
    snapshot = std::move(cached);  // no coroutine for what the cache holds
  else
    snapshot = co_await look_up(task);
  if (!snapshot) co_return;
  const store::Webhook* webhook = (*snapshot)->find(task.webhook_id);
  q.rate_limit = webhook && webhook->rate_limit ? *webhook->rate_limit : 0;
  if (q.rate_limit > 0 && eligibility(webhook, task.event->type) == Eligibility::attempt) {
    if (!co_await wait_for_send_slot(q, task, q.rate_limit)) co_return;
    // The wait can be long: the webhook is looked at again, as it is now.
    snapshot = co_await look_up(task);
    if (!snapshot) co_return;
    webhook = (*snapshot)->find(task.webhook_id);
  }
  if (const auto now = eligibility(webhook, task.event->type); now != Eligibility::attempt) {
    auto reason = not_attempted_reason(now, webhook, task.event->type, task.attempt);
    if (reason)
      co_await not_attempted(std::move(task), std::move(*reason));
    else
      done(task);
    co_return;
  }
  if (!global_slots_.try_acquire()) {
    last_global_wait_ = SteadyClock::now();
    ++q.awaiting_slot;
    co_await global_slots_.acquire();
    --q.awaiting_slot;
    last_global_wait_ = q.heard_from = SteadyClock::now();
  }
  ++in_flight_;
  engine_.deps.metrics.attempt_started();
  const auto attempted_at = engine_.deps.clock.now();
  const http::WebhookMessage message{task.event->id, task.event->type, task.payload, task.attempt,
                                     false};
  auto endpoint = prepare(q, *snapshot, *webhook, attempted_at);
  auto result = co_await http::send_webhook(engine_.deps.http, std::move(endpoint), message,
                                            attempted_at, policy_);
  engine_.deps.metrics.attempt(result.outcome,
                               static_cast<double>(result.duration.count()) / 1000.0);
  --in_flight_;
  engine_.deps.metrics.attempt_finished();
  global_slots_.release();
  if (result.outcome != http::Outcome::timeout) q.heard_from = SteadyClock::now();
  // The workers bound requests to endpoints, not writes to Redis: after a success the next
  // request to this endpoint starts while this attempt is logged. A failure is logged before the
  // worker goes on, so the failure that pauses an endpoint is counted before another attempt.
  if (result.outcome == http::Outcome::success)
    engine_.spawn(
        settle(std::move(task), std::move(*snapshot), *webhook, std::move(result), attempted_at),
        "settle");
  else
    co_await settle(std::move(task), std::move(*snapshot), *webhook, std::move(result),
                    attempted_at);
}

asio::awaitable<bool> Attempts::wait_for_send_slot(EndpointQueue& q, DeliveryTask& task,
                                                   int per_second) {
  ++q.awaiting_slot;
  const bool got = co_await limiter_.acquire(task.webhook_id, per_second, q.waiting.size() + 1);
  --q.awaiting_slot;
  q.heard_from = SteadyClock::now();  // waiting for the limit is not the endpoint's silence
  if (!got) done(task, true);         // stopping: the partition's next owner delivers it
  co_return got;
}

std::size_t Attempts::rate_limited_queue_bound(int per_second) const {
  const auto& c = engine_.config;
  const auto in_backlog = static_cast<std::size_t>(per_second) *
                          static_cast<std::size_t>(c.rate_limit_backlog.count()) / 1000;
  return std::max<std::size_t>(1, std::min(in_backlog, c.max_pending_records / 4));
}

// A webhook's URL, keys and headers are made ready once per version of it, not per attempt.
Result<http::PreparedEndpoint*> Attempts::prepare(EndpointQueue& q,
                                                  const TenantWebhooksPtr& snapshot,
                                                  const store::Webhook& webhook, TimePoint now) {
  if (q.prepared && q.prepared_from == &webhook && q.prepared_snapshot == snapshot &&
      (!q.prepared->valid_until || now < *q.prepared->valid_until))
    return &*q.prepared;
  q.prepared.reset();
  q.prepared_from = nullptr;
  q.prepared_snapshot.reset();
  auto prepared = http::prepare_endpoint({webhook.url, webhook.signing_secrets(now),
                                          webhook.headers, webhook.signing_secrets_change_at(now)});
  if (!prepared) return fail(std::move(prepared).error());
  q.prepared = std::move(*prepared);
  q.prepared_from = &webhook;
  q.prepared_snapshot = snapshot;
  return &*q.prepared;
}

// `snapshot` keeps `webhook` alive while the attempt is settled.
asio::awaitable<void> Attempts::settle(DeliveryTask task,
                                       [[maybe_unused]] TenantWebhooksPtr snapshot,
                                       const store::Webhook& webhook, http::DeliveryResult result,
                                       TimePoint attempted_at) {
  const bool success = result.outcome == http::Outcome::success;
  const bool gone = result.outcome == http::Outcome::http_error && result.status == 410;
  std::optional<Millis> next;
  if (!success && !gone && http::is_retriable(result.outcome, result.status))
    next = engine_.schedule.next_delay(task.attempt, result.retry_after);

  auto update = log_entry(task, store::LogEntryKind::attempt);
  update.status = success ? store::DeliveryStatus::succeeded
                  : next  ? store::DeliveryStatus::pending
                          : store::DeliveryStatus::failed;
  update.attempt = {
      task.attempt,           attempted_at, std::string(http::to_string(result.outcome)),
      result.status,          result.body,  result.error,
      result.duration.count()};
  // When the retry comes due: the time logged as next_retry_at is the one its record carries.
  std::optional<TimePoint> due;
  if (next) {
    due = engine_.deps.clock.now() + *next + RetrySchedule::jitter(*next, engine_.deps.random);
    update.next_retry_at = due;
  }
  update.success = success;
  update.disable_endpoint = gone;
  if (gone) update.attempt.error = "410 Gone: the endpoint asked to be disabled";

  // Named, not a braced temporary in the co_await expression: GCC 12 destroys those twice.
  const store::WebhookHealth unknown{true, webhook.status, 0, false};
  const auto health = co_await log(std::move(update), unknown);
  if (!health) {  // stopping: the next owner makes this attempt again
    done(task, true);
    co_return;
  }
  // Paused or disabled (just now, or elsewhere): later deliveries in this process must see it at
  // once. Only the attempt that paused it says so.
  if (health->status_changed || health->status != webhook.status)
    engine_.deps.subscriptions.invalidate(task.event->tenant);
  if (health->status_changed && health->status == store::WebhookStatus::paused) {
    engine_.deps.metrics.endpoint_paused();
    log::warn("endpoint paused after repeated failures",
              {{"webhook_id", webhook.id}, {"consecutive_fails", health->consecutive_fails}});
  }
  if (next && health->webhook_exists) {
    auto scheduled = co_await retries_.schedule(task, task.attempt + 1, *next, *due);
    if (!scheduled) {
      if (engine_.stopping) {
        done(task, true);
        co_return;
      }
      // Kafka refuses the retry for good (a record over its size limit, a missing tier): the
      // delivery fails for good, with the reason, rather than staying pending for ever.
      engine_.deps.metrics.permanent_failure();
      task.attempt += 1;
      co_await not_attempted(std::move(task),
                             "the retry could not be queued: " + scheduled.error().message);
      co_return;
    }
  }
  done(task);
}

// Without its log entry a parked delivery would be invisible until its retry ran.
asio::awaitable<void> Attempts::defer(DeliveryTask task, ParkReason why) {
  const bool limited = why == ParkReason::rate_limited;
  if (limited)
    engine_.deps.metrics.rate_limit_parked();
  else
    engine_.deps.metrics.deferred();
  const auto tier = engine_.schedule.parking_tier(task.read_from_tier);
  const auto due = engine_.deps.clock.now() + tier;
  engine_.parking(task.work, true);  // until its retry record and log entry are written
  auto scheduled = co_await retries_.schedule(task, task.attempt, tier, due);
  if (!scheduled) {
    engine_.parking(task.work, false);
    if (engine_.stopping) {
      done(task, true);
      co_return;
    }
    engine_.deps.metrics.permanent_failure();
    co_await not_attempted(
        std::move(task), std::string(limited ? "rate limit backlog full" : "endpoint stalled") +
                             " and the delivery could not be parked: " + scheduled.error().message);
    co_return;
  }
  auto entry = log_entry(task, store::LogEntryKind::deferred);
  entry.status = store::DeliveryStatus::pending;
  entry.attempt.number = task.attempt;
  entry.attempt.at = engine_.deps.clock.now();
  entry.attempt.outcome = "deferred";
  entry.attempt.error = limited ? "rate limited: the endpoint's backlog is full; parked untried "
                                  "until its turn"
                                : "endpoint stalled: parked untried until its retry";
  entry.next_retry_at = due;
  // The retry record is written: the delivery is finished here whatever the log says.
  co_await log(std::move(entry));
  engine_.parking(task.work, false);
  done(task);
}

asio::awaitable<void> Attempts::not_attempted(DeliveryTask task, std::string reason) {
  auto entry = log_entry(task, store::LogEntryKind::not_attempted);
  entry.status = store::DeliveryStatus::failed;
  entry.attempt = {
      task.attempt, engine_.deps.clock.now(), "not_attempted", 0, "", std::move(reason), 0};
  if (co_await log(std::move(entry)))
    engine_.deps.metrics.not_attempted();
  else if (engine_.stopping) {
    done(task, true);
    co_return;
  }
  done(task);
}

store::AttemptUpdate Attempts::log_entry(const DeliveryTask& task, store::LogEntryKind kind) const {
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

asio::awaitable<std::optional<store::WebhookHealth>> Attempts::log(store::AttemptUpdate entry,
                                                                   store::WebhookHealth fallback) {
  auto& delivery_log = engine_.deps.delivery_log;
  auto logged = co_await engine_.until_answered(
      "delivery log", [&] { return delivery_log.record(entry); },
      [](const store::StoreError& e) { return store::is_retriable(e); });
  if (logged) co_return std::move(*logged);
  if (engine_.stopping) co_return std::nullopt;
  engine_.deps.metrics.permanent_failure();
  log::error("a delivery log entry was refused and is lost", {{"delivery_id", entry.delivery_id},
                                                              {"attempt", entry.attempt.number},
                                                              {"error", logged.error().message}});
  co_return fallback;
}

bool Attempts::stalled(const EndpointQueue& q, SteadyClock::time_point now) const {
  if (q.workers < engine_.config.max_in_flight_per_endpoint || q.awaiting_slot > 0) return false;
  const auto limit = engine_.config.endpoint_stall_after;
  if (now - q.heard_from >= limit) return true;
  // A queue is as deep as the pending-record bound lets it be: a healthy endpoint's deliveries
  // wait there ~0.1 s at 10,000/s. Four stall times of it (1 s by default), counted from when the
  // process last ran out of global slots, is an endpoint that answers, but slower than its
  // deliveries arrive.
  return !q.waiting.empty() &&
         now - std::max(q.waiting.front().queued_at, last_global_wait_) >= 4 * limit;
}

void Attempts::park_newest(EndpointQueue& q, std::size_t keep, ParkReason why) {
  while (q.waiting.size() > keep) {
    engine_.spawn(defer(std::move(q.waiting.back()), why), "deferral");
    q.waiting.pop_back();
  }
}

// Parking is checked on every submit; the sweep parks a backlog that built up before the endpoint
// counted as stalled, soon after it does (a tenth of the stall time, 10-100 ms).
asio::awaitable<void> Attempts::sweep_stalled_endpoints() {
  const auto period = std::clamp(engine_.config.endpoint_stall_after / 10, Millis{10}, Millis{100});
  while (!engine_.stopping) {
    sweep_timer_.expires_after(period);
    boost::system::error_code ec;
    co_await sweep_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (engine_.stopping) break;
    const auto now = SteadyClock::now();
    double rate_limit_backlog = 0;
    for (auto it = queues_.begin(); it != queues_.end();) {
      auto& q = *it->second;
      if (q.rate_limit > 0)
        rate_limit_backlog += static_cast<double>(q.waiting.size() + q.awaiting_slot);
      // The newest deliveries beyond the queue's bound are parked: a stalled endpoint's, and a
      // limited endpoint's queue filled before its limit was known here (its first attempt
      // reads it).
      if (q.waiting.size() > engine_.config.max_queued_per_endpoint && stalled(q, now))
        park_newest(q, engine_.config.max_queued_per_endpoint, ParkReason::stalled);
      if (q.rate_limit > 0)
        park_newest(q, rate_limited_queue_bound(q.rate_limit), ParkReason::rate_limited);
      // Idle queues are forgotten (a deleted webhook's would otherwise stay for ever).
      if (q.workers == 0 && q.waiting.empty())
        it = queues_.erase(it);
      else
        ++it;
    }
    engine_.deps.metrics.rate_limit_backlog_change(rate_limit_backlog -
                                                   rate_limit_backlog_reported_);
    rate_limit_backlog_reported_ = rate_limit_backlog;
  }
  engine_.deps.metrics.rate_limit_backlog_change(-rate_limit_backlog_reported_);
  rate_limit_backlog_reported_ = 0;
}

}  // namespace hookstream::dispatcher
