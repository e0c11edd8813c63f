// /v1/webhooks: create, list, get, update, delete, rotate-secret, stats.
#include <charconv>

#include "api/services.hpp"
#include "common/store/layout.hpp"

namespace hookstream::api {
namespace {

using nlohmann::json;

// The stored filter (compact JSON the API validated) as JSON; null when none.
json filter_json(const std::optional<std::string>& filter) {
  if (!filter) return nullptr;
  auto parsed = json::parse(*filter, nullptr, false);
  return parsed.is_discarded() ? json(nullptr) : parsed;
}

json webhook_json(const store::Webhook& w, bool with_secret) {
  json headers = json::object();
  for (const auto& [k, v] : w.headers) headers[k] = v;
  json out = {{"id", w.id},
              {"url", w.url},
              {"events", w.events},
              {"description", w.description},
              {"headers", headers},
              {"filter", filter_json(w.filter)},
              {"rate_limit", w.rate_limit ? json(*w.rate_limit) : json(nullptr)},
              {"status", to_string(w.status)},
              {"is_active", w.status == store::WebhookStatus::active},
              {"consecutive_fails", w.consecutive_fails},
              {"last_delivery_at", optional_time(w.last_delivery_at)},
              {"last_delivery_ok", w.last_delivery_ok ? json(*w.last_delivery_ok) : json(nullptr)},
              {"created_at", format_rfc3339(w.created_at)},
              {"updated_at", format_rfc3339(w.updated_at)}};
  if (with_secret) out["secret"] = w.secret;
  return out;
}

Result<std::size_t, ApiError> limit_param(const Target& t, std::size_t fallback) {
  const auto text = t.param("limit");
  if (!text) return fallback;
  std::size_t n = 0;
  const auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
  if (ec != std::errc{} || p != text->data() + text->size() || n < 1 || n > 100)
    return fail(ApiError{ApiErrc::validation_failed,
                         "limit must be an integer from 1 to 100",
                         {{"fields", {{"limit", "must be an integer from 1 to 100"}}}}});
  return n;
}

asio::awaitable<Response> create(RequestContext& ctx) {
  auto& s = ctx.services;
  auto in = parse_new_webhook(ctx.req.body(), ctx.tenant(), s.rules);
  if (!in) co_return error_response(in.error());
  auto count = co_await s.webhooks.count(ctx.tenant());
  if (!count) co_return error_response(to_api_error(count.error(), "webhook"));
  if (*count >= static_cast<std::int64_t>(s.config.max_webhooks_per_tenant))
    co_return error_response({ApiErrc::validation_failed,
                              "this tenant has reached its limit of " +
                                  std::to_string(s.config.max_webhooks_per_tenant) + " webhooks"});
  auto w = co_await s.webhooks.create(std::move(*in));
  if (!w) co_return error_response(to_api_error(w.error(), "webhook"));
  co_return success(http::status::created, {{"webhook", webhook_json(*w, true)}});
}

asio::awaitable<Response> list(RequestContext& ctx) {
  auto& s = ctx.services;
  auto limit = limit_param(ctx.target, 25);
  if (!limit) co_return error_response(limit.error());
  auto cursor = ctx.target.param("cursor");
  if (cursor && !has_id_shape(*cursor, id_prefix::webhook))
    co_return error_response({ApiErrc::validation_failed,
                              "cursor is not a cursor from a previous page",
                              {{"fields", {{"cursor", "invalid"}}}}});
  auto page = co_await s.webhooks.list(ctx.tenant(), cursor, *limit);
  if (!page) co_return error_response(to_api_error(page.error(), "webhook"));
  json items = json::array();
  for (const auto& w : page->webhooks) items.push_back(webhook_json(w, false));
  co_return success(http::status::ok, {{"webhooks", items},
                                       {"next_cursor", page->next_cursor ? json(*page->next_cursor)
                                                                         : json(nullptr)}});
}

asio::awaitable<Response> get(RequestContext& ctx) {
  auto w = co_await ctx.services.webhooks.get(ctx.tenant(), ctx.param(0));
  if (!w) co_return error_response(to_api_error(w.error(), "webhook " + ctx.param(0)));
  co_return success(http::status::ok, {{"webhook", webhook_json(*w, false)}});
}

asio::awaitable<Response> patch(RequestContext& ctx) {
  auto& s = ctx.services;
  auto p = parse_webhook_patch(ctx.req.body(), s.rules);
  if (!p) co_return error_response(p.error());
  auto w = co_await s.webhooks.update(ctx.tenant(), ctx.param(0), *p);
  if (!w) co_return error_response(to_api_error(w.error(), "webhook " + ctx.param(0)));
  co_return success(http::status::ok, {{"webhook", webhook_json(*w, false)}});
}

asio::awaitable<Response> remove(RequestContext& ctx) {
  auto r = co_await ctx.services.webhooks.remove(ctx.tenant(), ctx.param(0));
  if (!r) co_return error_response(to_api_error(r.error(), "webhook " + ctx.param(0)));
  co_return no_content();
}

asio::awaitable<Response> rotate_secret(RequestContext& ctx) {
  auto w = co_await ctx.services.webhooks.rotate_secret(ctx.tenant(), ctx.param(0));
  if (!w) co_return error_response(to_api_error(w.error(), "webhook " + ctx.param(0)));
  co_return success(http::status::ok,
                    {{"webhook", webhook_json(*w, true)},
                     {"previous_secret_expires_at", optional_time(w->previous_secret_expires_at)}});
}

json hour_json(const store::HourStats& h) {
  const auto ms = [](std::optional<std::int64_t> v) { return v ? json(*v) : json(nullptr); };
  return {{"hour", format_rfc3339(h.hour)},
          {"attempts", h.attempts},
          {"successes", h.successes},
          {"failures", h.failures},
          {"p50_ms", ms(h.duration_quantile(0.5))},
          {"p99_ms", ms(h.duration_quantile(0.99))}};
}

// The last 24 hours, oldest first, counted as attempts were logged (store::WebhookStats).
asio::awaitable<Response> stats(RequestContext& ctx) {
  auto& s = ctx.services;
  auto w = co_await s.webhooks.get(ctx.tenant(), ctx.param(0));
  if (!w) co_return error_response(to_api_error(w.error(), "webhook " + ctx.param(0)));
  auto day = co_await s.stats.last_day(w->id, s.clock.now());
  if (!day) co_return error_response(to_api_error(day.error(), "webhook " + ctx.param(0)));
  json buckets = json::array();
  store::HourStats total;
  for (const auto& h : *day) {
    buckets.push_back(hour_json(h));
    total += h;
  }
  json totals = hour_json(total);
  totals.erase("hour");
  totals["success_rate"] =
      total.attempts > 0
          ? json(static_cast<double>(total.successes) / static_cast<double>(total.attempts))
          : json(nullptr);
  co_return success(http::status::ok,
                    {{"webhook_id", w->id},
                     {"from", format_rfc3339(day->front().hour)},
                     {"to", format_rfc3339(day->back().hour + std::chrono::hours(1))},
                     {"buckets", buckets},
                     {"totals", totals}});
}

}  // namespace

void add_webhook_routes(Router& router) {
  using store::Scope;
  router.add({http::verb::post, "/v1/webhooks", Access::scoped, Scope::webhooks_write, create});
  router.add({http::verb::get, "/v1/webhooks", Access::scoped, Scope::webhooks_read, list});
  router.add({http::verb::get, "/v1/webhooks/{id}", Access::scoped, Scope::webhooks_read, get});
  router.add(
      {http::verb::patch, "/v1/webhooks/{id}", Access::scoped, Scope::webhooks_write, patch});
  router.add(
      {http::verb::delete_, "/v1/webhooks/{id}", Access::scoped, Scope::webhooks_write, remove});
  router.add({http::verb::post, "/v1/webhooks/{id}/rotate-secret", Access::scoped,
              Scope::webhooks_write, rotate_secret});
  router.add(
      {http::verb::get, "/v1/webhooks/{id}/stats", Access::scoped, Scope::webhooks_read, stats});
}

}  // namespace hookstream::api
