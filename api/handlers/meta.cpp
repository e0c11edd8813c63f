// Health, readiness, metrics, the event type catalog and the OpenAPI document.
#include "api/openapi.hpp"
#include "api/services.hpp"

namespace hookstream::api {
namespace {

using nlohmann::json;

asio::awaitable<Response> healthz(RequestContext&) {
  co_return success(http::status::ok, {{"status", "ok"}});
}

asio::awaitable<Response> readyz(RequestContext& ctx) {
  auto& s = ctx.services;
  const bool redis_ok = co_await s.webhooks.reachable();
  const bool kafka_ok = s.kafka_reachable.load();
  const json checks = {{"redis", redis_ok ? "ok" : "unreachable"},
                       {"kafka", kafka_ok ? "ok" : "unreachable"}};
  if (redis_ok && kafka_ok)
    co_return success(http::status::ok, {{"status", "ready"}, {"checks", checks}});
  co_return error_response({ApiErrc::service_unavailable, "not ready", {{"checks", checks}}});
}

asio::awaitable<Response> metrics(RequestContext& ctx) {
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain; version=0.0.4");
  res.body() = ctx.services.metrics.serialize();
  co_return res;
}

asio::awaitable<Response> openapi(RequestContext&) {
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::string(openapi_document());
  co_return res;
}

asio::awaitable<Response> event_types(RequestContext& ctx) {
  json types = json::array();
  for (const auto& t : ctx.services.catalog.types()) types.push_back({{"name", t}});
  co_return success(http::status::ok, {{"event_types", types}});
}

}  // namespace

void add_meta_routes(Router& router) {
  router.add({http::verb::get, "/healthz", Access::open, std::nullopt, healthz});
  router.add({http::verb::get, "/readyz", Access::open, std::nullopt, readyz});
  router.add({http::verb::get, "/metrics", Access::open, std::nullopt, metrics});
  router.add({http::verb::get, "/v1/openapi.json", Access::open, std::nullopt, openapi});
  router.add({http::verb::get, "/v1/event-types", Access::any_key, std::nullopt, event_types});
}

}  // namespace hookstream::api
