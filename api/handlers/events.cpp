// POST /v1/events: validate, publish to Kafka, answer after the broker acknowledged.
//
// Idempotency: an Idempotency-Key header, or a caller-given id, seen in the last 24 h returns the
// first answer and publishes nothing. The key is claimed ("pending", with a token of this request,
// for a lease) before publishing and completed ("done") after; a repeat that arrives while the
// first is still in flight gets 409, and a failed publish (or a claim Redis did not answer)
// releases the claim so the client's retry can go through (store::IdempotencyKeys).
#include "api/services.hpp"
#include "common/cloudevents.hpp"
#include "common/log.hpp"
#include "common/store/layout.hpp"

namespace hookstream::api {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxIdempotencyKey = 255;

Response accepted(const json& event, bool replayed) {
  auto res = success(http::status::accepted, {{"event", event}});
  if (replayed) res.set("Idempotent-Replayed", "true");
  return res;
}

asio::awaitable<Response> publish(RequestContext& ctx) {
  auto& s = ctx.services;
  auto input = parse_event_request(ctx.req.body(), ctx.tenant(), s.rules);
  if (!input) co_return error_response(input.error());

  std::vector<std::string> idem_keys;
  if (const auto it = ctx.req.find("Idempotency-Key"); it != ctx.req.end()) {
    const std::string_view k = it->value();
    if (k.empty() || k.size() > kMaxIdempotencyKey)
      co_return error_response({ApiErrc::validation_failed,
                                "Idempotency-Key must be 1-255 characters",
                                {{"fields", {{"Idempotency-Key", "must be 1-255 characters"}}}}});
    idem_keys.push_back(store::idempotency_key(ctx.tenant(), "key:" + std::string(k)));
  }
  if (input->id) idem_keys.push_back(store::idempotency_key(ctx.tenant(), "id:" + *input->id));

  auto event = make_event(std::move(*input), s.config.events, s.catalog, s.ids, s.clock);
  if (!event) {
    const auto& p = event.error();
    co_return error_response({p.too_large ? ApiErrc::payload_too_large : ApiErrc::validation_failed,
                              p.message,
                              {{"fields", {{p.field, p.message}}}}});
  }
  const json answer = {{"id", event->id}, {"type", event->type}};

  const std::string pending =
      json{{"state", "pending"}, {"event", answer}, {"claim", s.ids.next("claim")}}.dump();
  if (!idem_keys.empty()) {
    auto claimed = co_await s.idempotency.claim(idem_keys, pending);
    if (!claimed)
      co_return error_response(
          {ApiErrc::service_unavailable, "storage is unavailable; retry shortly"});
    if (*claimed) {
      const auto first = json::parse(**claimed, nullptr, false);
      if (first.is_object() && first.value("state", "") == "done")
        co_return accepted(first["event"], true);
      co_return error_response(
          {ApiErrc::conflict,
           "a request with the same idempotency key or event id is in progress; retry"});
    }
  }

  auto report = co_await s.producer.async_produce(
      cloudevents::encode_binary(*event, s.config.kafka.events_topic()), asio::use_awaitable);
  if (!report) {
    s.metrics.event_publish_failed();
    if (!idem_keys.empty()) co_await s.idempotency.release(idem_keys, pending);
    log::warn("event publish failed", {{"event_id", event->id}, {"error", report.error().message}});
    co_return error_response(
        {ApiErrc::service_unavailable, "the event could not be published to Kafka; retry shortly"});
  }
  s.metrics.event_published();
  if (!idem_keys.empty()) {
    // Tried for a while: if Redis stays away the claim stays "pending" and repeats get 409 until
    // its lease ends, which still publishes nothing twice. (A named value: GCC 12 miscompiles
    // braced temporaries in a co_await expression.)
    const std::string done = json{{"state", "done"}, {"event", answer}}.dump();
    co_await s.idempotency.complete(idem_keys, done);
  }
  co_return accepted(answer, false);
}

}  // namespace

void add_event_routes(Router& router) {
  router.add({http::verb::post, "/v1/events", Access::scoped, store::Scope::events_write, publish});
}

}  // namespace hookstream::api
