#pragma once
// Stage 4: attempts. Every delivery joins its endpoint's queue. A queue is drained by at most
// HOOKSTREAM_MAX_IN_FLIGHT_PER_ENDPOINT workers (one per connection the endpoint may have open),
// each taking the next delivery when its previous request is answered; all workers together hold
// at most HOOKSTREAM_MAX_IN_FLIGHT requests. An attempt is: look at the webhook as it is now (it
// may have been paused, edited or deleted), sign and POST (http::send_webhook), then settle: log
// the attempt (the batched delivery log also counts the endpoint's health and pauses it), and
// write the next attempt to its retry tier when one is due.
//
// A slow or dead endpoint cannot hold up the others. An endpoint is stalled while all its workers
// are busy, none of them waiting for one of the process's global slots, and either it has not
// answered for HOOKSTREAM_ENDPOINT_STALL_AFTER (a timeout is not an answer: a hanging endpoint
// stays stalled through its timeouts) or the oldest delivery in its queue has waited four times
// that long since the process last ran out of global slots (it answers, but slower than its
// deliveries arrive). Waiting for the process (a fan-out to many endpoints) is never an endpoint's
// stall. A stalled endpoint's queue keeps at most HOOKSTREAM_MAX_QUEUED_PER_ENDPOINT deliveries and
// parks the rest, untried, in a retry tier (logged as pending; RetrySchedule::parking_tier), so
// their records finish and the consumer moves on.
//
// A rate-limited endpoint's workers wait for send slots (rate_limiter.hpp) before each attempt;
// meanwhile they count as waiting for the process, not as a stall. Its queue keeps at most what the
// limit delivers in HOOKSTREAM_RATE_LIMIT_BACKLOG (and at most a quarter of the records this shard
// may hold), and parks the rest, untried, the same way, so a limited endpoint's backlog cannot hold
// its partitions or the consumer back.
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/http/webhook_request.hpp"
#include "dispatcher/async_semaphore.hpp"
#include "dispatcher/engine_context.hpp"
#include "dispatcher/rate_limiter.hpp"
#include "dispatcher/retry_queue.hpp"

namespace hookstream::dispatcher {

class Attempts {
 public:
  Attempts(EngineContext& engine, RetryScheduler& retries, DeadLetters& dead_letters);

  // Queues the delivery at its endpoint; it is finished (EngineContext::finish) once attempted and
  // settled, parked, or logged as not attempted.
  void submit(DeliveryTask task);
  void stop();
  std::size_t in_flight() const { return in_flight_; }

 private:
  using SteadyClock = std::chrono::steady_clock;
  struct EndpointQueue {
    std::deque<DeliveryTask> waiting;
    std::size_t workers = 0;
    // Workers waiting for one of the process's global slots or for a send slot of the endpoint's
    // rate limit.
    std::size_t awaiting_slot = 0;
    int rate_limit = 0;  // the webhook's rate_limit at its last attempt here; 0: none
    // Since when the endpoint is silent: its last answer (any status, a refused connection
    // included, not a timeout), or the last request sent after waiting for a global slot (time
    // spent waiting for the process is not the endpoint's silence), or when its queue got busy.
    SteadyClock::time_point heard_from{};
    // The webhook made ready for requests, and the cached webhook it was made from: the cache
    // builds new Webhook objects whenever a webhook changed, so the address names the version.
    std::optional<http::PreparedEndpoint> prepared;
    const store::Webhook* prepared_from = nullptr;
    TenantWebhooksPtr prepared_snapshot;  // keeps prepared_from alive and unique
  };
  using QueuePtr = std::shared_ptr<EndpointQueue>;

  asio::awaitable<void> work(QueuePtr q);
  asio::awaitable<void> attempt(EndpointQueue& q, DeliveryTask task);
  // The webhook as it is now; nullopt when the task was handed back or dead-lettered instead.
  asio::awaitable<std::optional<TenantWebhooksPtr>> look_up(DeliveryTask& task);
  Result<http::PreparedEndpoint*> prepare(EndpointQueue& q, const TenantWebhooksPtr& snapshot,
                                          const store::Webhook& webhook, TimePoint now);
  asio::awaitable<void> settle(DeliveryTask task, TenantWebhooksPtr snapshot,
                               const store::Webhook& webhook, http::DeliveryResult result,
                               TimePoint attempted_at);
  // Waits for a send slot of the webhook's rate limit; false when stopping got in the way (the
  // task is handed back).
  asio::awaitable<bool> wait_for_send_slot(EndpointQueue& q, DeliveryTask& task, int per_second);
  // The deliveries a rate-limited endpoint's queue keeps before it parks new ones.
  std::size_t rate_limited_queue_bound(int per_second) const;
  // Why a delivery is parked untried in a retry tier.
  enum class ParkReason { stalled, rate_limited };
  asio::awaitable<void> defer(DeliveryTask task, ParkReason why);
  // Parks the newest of the queue's deliveries beyond the oldest `keep`.
  void park_newest(EndpointQueue& q, std::size_t keep, ParkReason why);
  asio::awaitable<void> not_attempted(DeliveryTask task, std::string reason);
  // Logs `entry`, trying again until Redis answers. Nothing when stopping first; when Redis refuses
  // it for good, an error is logged and `fallback` stands in for the answer.
  asio::awaitable<std::optional<store::WebhookHealth>> log(store::AttemptUpdate entry,
                                                           store::WebhookHealth fallback = {});
  store::AttemptUpdate log_entry(const DeliveryTask& task, store::LogEntryKind kind) const;
  // The delivery is finished here (or, stopping, handed back).
  void done(DeliveryTask& task, bool handed_back = false);
  bool stalled(const EndpointQueue& q, SteadyClock::time_point now) const;
  asio::awaitable<void> sweep_stalled_endpoints();

  EngineContext& engine_;
  RetryScheduler& retries_;
  DeadLetters& dead_letters_;
  http::AttemptPolicy policy_;
  AsyncSemaphore global_slots_;
  std::map<std::string, QueuePtr, std::less<>> queues_;
  // When a worker last had to wait for one of the HOOKSTREAM_MAX_IN_FLIGHT slots: queueing time
  // before then says nothing about an endpoint (a fan-out to many endpoints waits on us).
  SteadyClock::time_point last_global_wait_{};
  std::size_t in_flight_ = 0;
  asio::steady_timer sweep_timer_;
  RateLimiter limiter_;
  double rate_limit_backlog_reported_ = 0;  // this shard's share of the backlog gauge
};

}  // namespace hookstream::dispatcher
