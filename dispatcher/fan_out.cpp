#include "dispatcher/fan_out.hpp"

#include <simdjson.h>

#include "common/cloudevents.hpp"
#include "common/json.hpp"

namespace hookstream::dispatcher {

asio::awaitable<void> FanOut::run(std::shared_ptr<const kafka::Record> record) {
  auto work = engine_.begin(*record);
  auto decoded = cloudevents::decode(*record);
  if (!decoded) {
    const bool sent = co_await dead_letters_.send(
        *record,
        std::string(cloudevents::to_string(decoded.error().code)) + ": " + decoded.error().reason);
    engine_.finish_or_hand_back(work, sent);
    co_return;
  }
  auto event = std::make_shared<const Event>(std::move(*decoded));
  // A webhook created before this event was published must get it.
  auto& subscriptions = engine_.deps.subscriptions;
  if (!subscriptions.changes_seen_before(record->timestamp_ms))
    co_await subscriptions.await_changes_before(record->timestamp_ms);

  Result<TenantWebhooksPtr, store::StoreError> webhooks = subscriptions.cached(event->tenant);
  if (!*webhooks)
    webhooks = co_await engine_.until_answered(
        "subscriptions", [&] { return subscriptions.tenant(event->tenant); },
        [](const store::StoreError& e) { return store::is_retriable(e); });
  if (!webhooks) {
    if (engine_.stopping) {
      engine_.hand_back(work);
      co_return;
    }
    const bool sent =
        co_await dead_letters_.send(*record, "webhooks of tenant " + event->tenant +
                                                 " unreadable: " + webhooks.error().message);
    engine_.finish_or_hand_back(work, sent);
    co_return;
  }
  const auto& tenant = **webhooks;
  std::vector<const store::Webhook*> targets;
  bool filtered = false;
  for (const auto& w : tenant.webhooks)
    if (w.subscribes_to(event->type)) {
      targets.push_back(&w);
      filtered = filtered || tenant.filter_of(w);
    }
  auto payload =
      targets.empty() ? nullptr : std::make_shared<const std::string>(webhook_payload(*event));
  if (filtered) {
    // Filters match the body that would be delivered, parsed once for all of them. The view lives
    // in this thread's parser: used up here, before the next co_await.
    const auto body = read_json_view(*payload);
    if (!body)
      log::warn("event body unreadable for filters; filtered webhooks do not get it",
                {{"event_id", event->id}, {"error", body.error().message}});
    const auto before = targets.size();
    std::erase_if(targets, [&](const store::Webhook* w) {
      const auto* f = tenant.filter_of(*w);
      return f && !(body && f->matches(*body));
    });
    engine_.deps.metrics.filtered(before - targets.size());
  }
  if (targets.empty()) {
    engine_.finish(work);
    co_return;
  }
  work->remaining = targets.size();
  const auto now = engine_.deps.clock.now();
  auto& pending = engine_.pending_deliveries;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    bool granted = pending.try_acquire();
    if (!granted) granted = co_await pending.acquire();
    if (granted && engine_.stopping) pending.release();
    if (!granted || engine_.stopping) {
      engine_.hand_back(work, targets.size() - i);  // the deliveries not started
      co_return;
    }
    DeliveryTask task{work, record, event, payload, targets[i]->id, 1, now, true};
    attempts_.submit(std::move(task));
  }
}

}  // namespace hookstream::dispatcher
