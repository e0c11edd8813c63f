// /v1/api-keys: create (the key is shown once), list (no secrets), get, revoke.
#include "api/services.hpp"

namespace hookstream::api {
using nlohmann::json;

json api_key_json(const store::ApiKey& k) {
  json scopes = json::array();
  for (auto s : k.scopes) scopes.push_back(to_string(s));
  auto t = [](const std::optional<TimePoint>& tp) {
    return tp ? json(format_rfc3339(*tp)) : json(nullptr);
  };
  return {{"id", k.id},
          {"name", k.name},
          {"scopes", scopes},
          {"rate_limit", k.rate_limit ? json(*k.rate_limit) : json(nullptr)},
          {"prefix", k.display_prefix},
          {"created_at", format_rfc3339(k.created_at)},
          {"expires_at", t(k.expires_at)},
          {"revoked_at", t(k.revoked_at)}};
}

namespace {

asio::awaitable<Response> create(RequestContext& ctx) {
  auto& s = ctx.services;
  auto in = parse_new_api_key(ctx.req.body(), ctx.tenant(), s.clock.now());
  if (!in) co_return error_response(in.error());
  auto created = co_await s.keys.create(std::move(*in));
  if (!created) co_return error_response(to_api_error(created.error(), "API key"));
  auto out = api_key_json(created->key);
  out["key"] = created->secret;
  co_return success(http::status::created, {{"api_key", out}});
}

asio::awaitable<Response> list(RequestContext& ctx) {
  auto keys = co_await ctx.services.keys.list(ctx.tenant());
  if (!keys) co_return error_response(to_api_error(keys.error(), "API key"));
  json items = json::array();
  for (const auto& k : *keys) items.push_back(api_key_json(k));
  co_return success(http::status::ok, {{"api_keys", items}});
}

asio::awaitable<Response> get(RequestContext& ctx) {
  auto key = co_await ctx.services.keys.get(ctx.tenant(), ctx.param(0));
  if (!key) co_return error_response(to_api_error(key.error(), "API key " + ctx.param(0)));
  co_return success(http::status::ok, {{"api_key", api_key_json(*key)}});
}

asio::awaitable<Response> revoke(RequestContext& ctx) {
  auto key = co_await ctx.services.keys.revoke(ctx.tenant(), ctx.param(0));
  if (!key) co_return error_response(to_api_error(key.error(), "API key " + ctx.param(0)));
  ctx.services.auth.forget(key->id);
  co_return no_content();
}

}  // namespace

void add_api_key_routes(Router& router) {
  using store::Scope;
  router.add({http::verb::post, "/v1/api-keys", Access::scoped, Scope::keys_manage, create});
  router.add({http::verb::get, "/v1/api-keys", Access::scoped, Scope::keys_manage, list});
  router.add({http::verb::get, "/v1/api-keys/{id}", Access::scoped, Scope::keys_manage, get});
  router.add(
      {http::verb::delete_, "/v1/api-keys/{id}", Access::scoped, Scope::keys_manage, revoke});
}

}  // namespace hookstream::api
