// Test pings and the delivery log: /v1/webhooks/{id}/test, …/deliveries, …/deliveries/{did},
// …/deliveries/{did}/redeliver, …/recover.
#include <charconv>

#include "api/services.hpp"
#include "common/cloudevents.hpp"
#include "common/completion.hpp"
#include "common/http/webhook_request.hpp"
#include "common/log.hpp"
#include "common/retry_record.hpp"

namespace hookstream::api {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxResponseBody = 1024;
// A recover queues at most this many deliveries per call (the rest: call again, `more`).
constexpr std::size_t kMaxRecoverPerCall = 1000;

json delivery_json(const store::Delivery& d, bool with_attempts) {
  json out = {{"id", d.id},
              {"webhook_id", d.webhook_id},
              {"event_id", d.event_id},
              {"event_type", d.event_type},
              {"status", to_string(d.status)},
              {"attempt_count", d.attempt_count},
              {"response_status", d.response_status == 0 ? json(nullptr) : json(d.response_status)},
              {"last_error", d.last_error.empty() ? json(nullptr) : json(d.last_error)},
              {"delivered_at", optional_time(d.delivered_at)},
              {"next_retry_at", optional_time(d.next_retry_at)},
              {"created_at", format_rfc3339(d.created_at)}};
  if (with_attempts) {
    json attempts = json::array();
    for (const auto& a : d.attempts)
      attempts.push_back(
          {{"number", a.number},
           {"at", format_rfc3339(a.at)},
           {"outcome", a.outcome},
           {"response_status", a.response_status == 0 ? json(nullptr) : json(a.response_status)},
           {"response_body", a.response_body},
           {"error", a.error.empty() ? json(nullptr) : json(a.error)},
           {"duration_ms", a.duration_ms}});
    out["attempts"] = attempts;
  }
  return out;
}

// The webhook named in the path, or the response to send instead.
asio::awaitable<Result<store::Webhook, Response>> owned_webhook(RequestContext& ctx) {
  auto w = co_await ctx.services.webhooks.get(ctx.tenant(), ctx.param(0));
  if (!w) co_return fail(error_response(to_api_error(w.error(), "webhook " + ctx.param(0))));
  co_return std::move(*w);
}

// A new attempt of `d` through the first retry tier, due now: the dispatchers make it like any
// other.
kafka::Record next_attempt(Services& s, const store::Delivery& d, const Event& event) {
  const Millis tier = s.config.retry_schedule.front();
  const RetryInfo info{d.webhook_id, d.attempt_count + 1, s.clock.now(), d.created_at};
  return make_retry_record(cloudevents::encode_binary(event, ""), info,
                           s.config.kafka.retry_topic(tier));
}

Response not_active(const store::Webhook& w) {
  return error_response({ApiErrc::validation_failed,
                         "webhook " + w.id + " is " + std::string(to_string(w.status)) +
                             "; set is_active to true first",
                         {{"fields", {{"status", std::string(to_string(w.status))}}}}});
}

asio::awaitable<Response> test_ping(RequestContext& ctx) {
  auto& s = ctx.services;
  auto webhook = co_await owned_webhook(ctx);
  if (!webhook) co_return std::move(webhook).error();
  if (webhook->status != store::WebhookStatus::active) co_return not_active(*webhook);

  Event ping;
  ping.id = s.ids.next(id_prefix::event);
  ping.type = std::string(kTestPingType);
  ping.tenant = ctx.tenant();
  ping.source = "hookstream";
  ping.time = s.clock.now();
  ping.data =
      json{{"message", "This is a test ping from hookstream"}, {"webhook_id", webhook->id}}.dump();
  const hookstream::http::WebhookMessage message{
      ping.id, ping.type, std::make_shared<const std::string>(webhook_payload(ping)), 1, true};
  auto endpoint = hookstream::http::prepare_endpoint(
      {webhook->url, webhook->signing_secrets(ping.time), webhook->headers});
  // Named, not temporaries in the co_await expression: GCC 12 destroys those twice.
  Result<hookstream::http::PreparedEndpoint*> ready =
      endpoint ? Result<hookstream::http::PreparedEndpoint*>(&*endpoint)
               : Result<hookstream::http::PreparedEndpoint*>(fail(std::move(endpoint).error()));
  const hookstream::http::AttemptPolicy policy{s.config.delivery_timeout, s.config.allow_http};
  const auto result =
      co_await hookstream::http::send_webhook(s.http, std::move(ready), message, ping.time, policy);
  json data = {{"webhook_id", webhook->id},
               {"event_id", ping.id},
               {"delivered", result.outcome == hookstream::http::Outcome::success},
               {"outcome", hookstream::http::to_string(result.outcome)},
               {"response_status", result.status == 0 ? json(nullptr) : json(result.status)},
               {"duration_ms", result.duration.count()}};
  if (result.status != 0) data["response_body"] = result.body.substr(0, kMaxResponseBody);
  if (result.outcome != hookstream::http::Outcome::success)
    data["error"] = result.error.empty() ? std::string(hookstream::http::to_string(result.outcome))
                                         : result.error;
  co_return success(http::status::ok, data);
}

asio::awaitable<Response> list(RequestContext& ctx) {
  auto& s = ctx.services;
  auto webhook = co_await owned_webhook(ctx);
  if (!webhook) co_return std::move(webhook).error();
  std::size_t limit = 25;
  if (const auto text = ctx.target.param("limit")) {
    const auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
    if (ec != std::errc{} || p != text->data() + text->size() || limit < 1 || limit > 100)
      co_return error_response({ApiErrc::validation_failed,
                                "limit must be an integer from 1 to 100",
                                {{"fields", {{"limit", "must be an integer from 1 to 100"}}}}});
  }
  std::optional<store::DeliveryStatus> status;
  if (const auto text = ctx.target.param("status")) {
    status = store::parse_delivery_status(*text);
    if (!status)
      co_return error_response(
          {ApiErrc::validation_failed,
           "status must be pending, succeeded or failed",
           {{"fields", {{"status", "must be pending, succeeded or failed"}}}}});
  }
  auto cursor = ctx.target.param("cursor");
  if (cursor && !store::delivery_of_index_member(*cursor))
    co_return error_response({ApiErrc::validation_failed,
                              "cursor is not a cursor from a previous page",
                              {{"fields", {{"cursor", "invalid"}}}}});
  auto page = co_await s.deliveries.list(webhook->id, cursor, limit, status);
  if (!page) co_return error_response(to_api_error(page.error(), "delivery"));
  json items = json::array();
  for (const auto& d : page->deliveries) items.push_back(delivery_json(d, false));
  co_return success(http::status::ok, {{"deliveries", items},
                                       {"next_cursor", page->next_cursor ? json(*page->next_cursor)
                                                                         : json(nullptr)}});
}

asio::awaitable<Response> get(RequestContext& ctx) {
  auto webhook = co_await owned_webhook(ctx);
  if (!webhook) co_return std::move(webhook).error();
  auto d = co_await ctx.services.deliveries.get(webhook->id, ctx.param(1));
  if (!d) co_return error_response(to_api_error(d.error(), "delivery " + ctx.param(1)));
  co_return success(http::status::ok, {{"delivery", delivery_json(*d, true)}});
}

asio::awaitable<Response> redeliver(RequestContext& ctx) {
  auto& s = ctx.services;
  auto webhook = co_await owned_webhook(ctx);
  if (!webhook) co_return std::move(webhook).error();
  auto d = co_await s.deliveries.get(webhook->id, ctx.param(1));
  if (!d) co_return error_response(to_api_error(d.error(), "delivery " + ctx.param(1)));
  if (webhook->status != store::WebhookStatus::active) co_return not_active(*webhook);
  // A delivery still retrying has its next attempt scheduled: a second one would take the same
  // attempt number and start a second chain of retries.
  if (d->status == store::DeliveryStatus::pending)
    co_return error_response(
        {ApiErrc::conflict,
         "delivery " + d->id +
             " has a retry scheduled; redeliver it once it has succeeded or failed",
         {{"status", "pending"}, {"next_retry_at", optional_time(d->next_retry_at)}}});
  auto event = co_await s.deliveries.load_event(*d);
  if (!event) co_return error_response(to_api_error(event.error(), "event " + d->event_id));
  // Pending from now until its attempt is logged, so that a second redeliver (409) or a recover
  // does not queue it again; as it was before if Kafka refuses the attempt.
  const auto now = s.clock.now();
  std::vector<std::string> ids = {d->id};
  auto marked = co_await s.deliveries.mark_requeued(webhook->id, ids, now,
                                                    store::DeliveryLog::Requeue::finished);
  if (!marked) co_return error_response(to_api_error(marked.error(), "delivery"));
  if (marked->empty())
    co_return error_response({ApiErrc::conflict, "delivery " + d->id +
                                                     " is queued already; redeliver it once it has "
                                                     "succeeded or failed"});
  auto report = co_await s.producer.async_produce(next_attempt(s, *d, *event), asio::use_awaitable);
  if (!report) {
    (void)co_await s.deliveries.unmark_requeued(webhook->id, ids, now);
    co_return error_response({ApiErrc::service_unavailable,
                              "the redelivery could not be queued in Kafka; retry shortly"});
  }
  co_return success(http::status::accepted, {{"delivery_id", d->id},
                                             {"webhook_id", webhook->id},
                                             {"attempt", d->attempt_count + 1},
                                             {"queued", true}});
}

// The deliveries of a webhook that failed for good and were created in the window, newest
// first, at most `most` (`more`: there are others).
asio::awaitable<Result<std::vector<store::Delivery>, store::StoreError>> failed_in(
    store::DeliveryLog& log, const std::string& webhook_id, const RecoverWindow& window,
    std::size_t most, bool& more) {
  std::vector<store::Delivery> found;
  std::optional<std::string> cursor = store::index_member(window.until, "");
  for (;;) {
    auto page = co_await log.list(webhook_id, cursor, 100, store::DeliveryStatus::failed);
    if (!page) co_return fail(std::move(page).error());
    for (auto& d : page->deliveries) {
      if (d.created_at < window.since) co_return found;
      if (found.size() == most) {
        more = true;
        co_return found;
      }
      found.push_back(std::move(d));
    }
    if (!page->next_cursor) co_return found;
    cursor = std::move(page->next_cursor);
  }
}

// Queues every delivery that failed for good in the window again, as redeliver does one. Each is
// first marked pending in the log, so a second call (or a double click) skips it.
asio::awaitable<Response> recover(RequestContext& ctx) {
  auto& s = ctx.services;
  auto webhook = co_await owned_webhook(ctx);
  if (!webhook) co_return std::move(webhook).error();
  const auto window = parse_recover_request(ctx.req.body(), s.clock.now());
  if (!window) co_return error_response(window.error());
  if (webhook->status != store::WebhookStatus::active) co_return not_active(*webhook);
  bool more = false;
  auto failed = co_await failed_in(s.deliveries, webhook->id, *window, kMaxRecoverPerCall, more);
  if (!failed) co_return error_response(to_api_error(failed.error(), "delivery"));
  std::vector<std::string> ids;
  for (const auto& d : *failed) ids.push_back(d.id);
  const auto now = s.clock.now();
  auto marked = co_await s.deliveries.mark_requeued(webhook->id, ids, now);
  if (!marked) co_return error_response(to_api_error(marked.error(), "delivery"));
  const std::set<std::string> mine(marked->begin(), marked->end());

  // Their events (one is gone once older than the log's retention), then every attempt to Kafka
  // at once: the call waits for the slowest acknowledgement, not for their sum.
  std::vector<store::Delivery> queued;
  for (auto& d : *failed)
    if (mine.contains(d.id)) queued.push_back(std::move(d));
  std::vector<std::pair<std::string, kafka::Record>> attempts;
  std::vector<std::string> not_queued;
  std::size_t events_gone = 0;
  auto events = co_await s.deliveries.load_events(queued);
  for (std::size_t i = 0; i < queued.size(); ++i) {
    const auto& d = queued[i];
    if (events && (*events)[i]) {
      attempts.emplace_back(d.id, next_attempt(s, d, *(*events)[i]));
    } else {
      not_queued.push_back(d.id);
      if (events && (*events)[i].error().code == store::StoreErrc::not_found) ++events_gone;
    }
  }
  if (!attempts.empty()) {
    const auto executor = co_await asio::this_coro::executor;
    auto refused = co_await await_completion<std::vector<std::string>>(
        [&](Completion<std::vector<std::string>> done) {
          struct Waiting {
            std::size_t left;
            std::vector<std::string> refused;
            Completion<std::vector<std::string>> done;
          };
          auto waiting = std::make_shared<Waiting>(attempts.size(), std::vector<std::string>{},
                                                   std::move(done));
          for (auto& [id, record] : attempts)
            s.producer.async_produce(
                std::move(record),
                asio::bind_executor(executor,
                                    [waiting, id = id](Result<kafka::DeliveryReport> report) {
                                      if (!report) waiting->refused.push_back(id);
                                      if (--waiting->left == 0)
                                        std::move(waiting->done)(std::move(waiting->refused));
                                    }));
        });
    not_queued.insert(not_queued.end(), refused.begin(), refused.end());
  }
  if (!not_queued.empty()) {
    // Failed again, so a later recover finds them; best effort (else they stay pending, due now).
    if (auto undone = co_await s.deliveries.unmark_requeued(webhook->id, not_queued, now); !undone)
      log::warn("recover: deliveries left pending",
                {{"webhook_id", webhook->id}, {"error", undone.error().message}});
  }
  const auto recovered = mine.size() - not_queued.size();
  if (recovered == 0 && not_queued.size() > events_gone)
    co_return error_response({ApiErrc::service_unavailable,
                              "the deliveries could not be queued in Kafka; retry shortly"});
  co_return success(http::status::accepted, {{"webhook_id", webhook->id},
                                             {"recovered", recovered},
                                             {"events_expired", events_gone},
                                             {"more", more},
                                             {"since", format_rfc3339(window->since)},
                                             {"until", format_rfc3339(window->until)}});
}

}  // namespace

void add_delivery_routes(Router& router) {
  using store::Scope;
  router.add({http::verb::post, "/v1/webhooks/{id}/test", Access::scoped, Scope::webhooks_write,
              test_ping});
  router.add({http::verb::get, "/v1/webhooks/{id}/deliveries", Access::scoped, Scope::webhooks_read,
              list});
  router.add({http::verb::get, "/v1/webhooks/{id}/deliveries/{did}", Access::scoped,
              Scope::webhooks_read, get});
  router.add({http::verb::post, "/v1/webhooks/{id}/deliveries/{did}/redeliver", Access::scoped,
              Scope::webhooks_write, redeliver});
  router.add({http::verb::post, "/v1/webhooks/{id}/recover", Access::scoped, Scope::webhooks_write,
              recover});
}

}  // namespace hookstream::api
