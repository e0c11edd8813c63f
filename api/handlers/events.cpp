// POST /v1/events: validate, publish to Kafka, answer after the broker acknowledged.
//
// Idempotency: an Idempotency-Key header, or a caller-given id, seen in the last 24 h returns the
// first answer and publishes nothing. The key is claimed ("pending") before publishing and
// completed ("done") after; a repeat that arrives while the first is still in flight gets 409, and
// a failed publish releases the claim so the client's retry can go through.
#include "api/services.hpp"
#include "common/cloudevents.hpp"
#include "common/log.hpp"
#include "common/store/layout.hpp"

namespace hookstream::api {
namespace {

using nlohmann::json;

constexpr std::int64_t kIdempotencyTtlMs = 24 * 3600 * 1000;
constexpr std::size_t kMaxIdempotencyKey = 255;

// KEYS: idempotency keys. ARGV: value to claim with, ttl ms. Returns the first existing value, or
// nil after claiming every key.
const redis::Script kClaimScript(R"lua(
for _, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if v then return v end
end
for _, k in ipairs(KEYS) do redis.call('SET', k, ARGV[1], 'PX', ARGV[2]) end
return false
)lua");

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

  if (!idem_keys.empty()) {
    const json pending = {{"state", "pending"}, {"event", answer}};
    std::vector<std::string> args = {pending.dump(), std::to_string(kIdempotencyTtlMs)};
    auto claimed = co_await s.redis.eval_script(kClaimScript, idem_keys, std::move(args));
    if (!claimed || claimed->is_error())
      co_return error_response(
          {ApiErrc::service_unavailable, "storage is unavailable; retry shortly"});
    if (claimed->is_string()) {
      const auto first = json::parse(claimed->as_string(), nullptr, false);
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
    if (!idem_keys.empty()) {
      std::vector<std::string> del{"DEL"};
      del.insert(del.end(), idem_keys.begin(), idem_keys.end());
      (void)co_await s.redis.command(std::move(del));
    }
    log::warn("event publish failed", {{"event_id", event->id}, {"error", report.error().message}});
    co_return error_response(
        {ApiErrc::service_unavailable, "the event could not be published to Kafka; retry shortly"});
  }
  s.metrics.event_published();
  if (!idem_keys.empty()) {
    const std::string done = json{{"state", "done"}, {"event", answer}}.dump();
    std::vector<std::vector<std::string>> sets;
    for (const auto& k : idem_keys) sets.push_back({"SET", k, done, "KEEPTTL"});
    // Best effort: if this fails the claim stays "pending" and repeats get 409 until it expires,
    // which still publishes nothing twice.
    (void)co_await s.redis.pipeline(std::move(sets));
  }
  co_return accepted(answer, false);
}

}  // namespace

void add_event_routes(Router& router) {
  router.add({http::verb::post, "/v1/events", Access::scoped, store::Scope::events_write, publish});
}

}  // namespace hookstream::api
