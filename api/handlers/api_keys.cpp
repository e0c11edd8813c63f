// /v1/api-keys: create (the key is shown once), list (no secrets), get, revoke.
#include "api/services.hpp"

namespace hookstream::api {
using nlohmann::json;

json api_key_json(const store::ApiKey& k) {
  json scopes = json::array();
  for (auto s : k.scopes) scopes.push_back(to_string(s));
  return {{"id", k.id},
          {"name", k.name},
          {"scopes", scopes},
          {"rate_limit", k.rate_limit ? json(*k.rate_limit) : json(nullptr)},
          {"prefix", k.display_prefix},
          {"created_at", format_rfc3339(k.created_at)},
          {"expires_at", optional_time(k.expires_at)},
          {"revoked_at", optional_time(k.revoked_at)}};
}

namespace {

// A key can mint only keys that are no more powerful than itself: the scopes it holds (else 403
// insufficient_scopes naming the missing ones) and no later expiry (else 400; inherited when not
// given). Otherwise a leaked keys:manage key would be a master key, or one that never expires
// (SPEC is silent; docs/security.md states the rule). The rate limit is not capped: it is a
// per-key budget, and a keys:manage key can mint more keys anyway, so a cap would protect nothing.
std::optional<ApiError> exceeds_creator(store::NewApiKey& in, const store::ApiKey& creator) {
  json missing = json::array();
  for (auto scope : in.scopes)
    if (!creator.has_scope(scope)) missing.push_back(to_string(scope));
  if (!missing.empty())
    return ApiError{ApiErrc::insufficient_scopes,
                    "an API key cannot grant scopes it does not hold",
                    {{"required_scopes", missing}}};
  // A key that expires mints keys that expire no later; without an expiry the new key inherits it.
  if (creator.expires_at) {
    if (!in.expires_at) in.expires_at = creator.expires_at;
    if (*in.expires_at > *creator.expires_at)
      return ApiError{
          ApiErrc::validation_failed,
          "an API key cannot create a key that outlives it (it expires at " +
              format_rfc3339(*creator.expires_at) + ")",
          {{"fields", {{"expires_at", "at most " + format_rfc3339(*creator.expires_at)}}}}};
  }
  return std::nullopt;
}

asio::awaitable<Response> create(RequestContext& ctx) {
  auto& s = ctx.services;
  auto in = parse_new_api_key(ctx.req.body(), ctx.tenant(), s.clock.now());
  if (!in) co_return error_response(in.error());
  if (auto refused = exceeds_creator(*in, *ctx.key)) co_return error_response(*refused);
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
