// POST /v1/portal-sessions: a short-lived portal token (hsp_…) for the caller's tenant, and the
// portal's address with the token in its fragment (never sent to a server, kept out of logs).
#include "api/services.hpp"

namespace hookstream::api {
namespace {

using nlohmann::json;

// The webhook scopes the token gets: those asked for, each held by the caller (else 403 naming
// the missing ones); none asked: the caller's own webhook scopes.
Result<std::vector<store::Scope>, ApiError> token_scopes(
    const std::optional<std::vector<store::Scope>>& asked, const store::ApiKey& caller) {
  std::vector<store::Scope> out;
  json missing = json::array();
  const std::vector<store::Scope> webhook_scopes = {store::Scope::webhooks_read,
                                                    store::Scope::webhooks_write};
  for (auto scope : asked ? *asked : webhook_scopes) {
    if (caller.has_scope(scope))
      out.push_back(scope);
    else if (asked)
      missing.push_back(to_string(scope));
  }
  if (out.empty() && missing.empty()) missing.push_back(to_string(store::Scope::webhooks_read));
  if (!missing.empty())
    return fail(ApiError{ApiErrc::insufficient_scopes,
                         "a portal token cannot carry scopes the caller does not hold",
                         {{"required_scopes", missing}}});
  return out;
}

std::string portal_base(const Services& s, const Request& req) {
  if (!s.config.portal_url.empty()) return s.config.portal_url;
  const auto host = req.find(http::field::host);
  return "http://" +
         (host != req.end() ? std::string(host->value())
                            : s.config.listen.address().to_string() + ":" +
                                  std::to_string(s.config.listen.port())) +
         "/portal/";
}

asio::awaitable<Response> create(RequestContext& ctx) {
  auto& s = ctx.services;
  auto in = parse_portal_session_request(ctx.req.body());
  if (!in) co_return error_response(in.error());
  auto scopes = token_scopes(in->scopes, *ctx.key);
  if (!scopes) co_return error_response(scopes.error());
  // No longer than the caller's own key lasts.
  auto expires_at = s.clock.now() + in->expires_in;
  if (ctx.key->expires_at) expires_at = std::min(expires_at, *ctx.key->expires_at);
  store::NewApiKey token{ctx.tenant(), "portal session", std::move(*scopes), ctx.key->rate_limit,
                         expires_at};
  auto created = co_await s.keys.create_portal_token(std::move(token));
  if (!created) co_return error_response(to_api_error(created.error(), "portal session"));
  json granted = json::array();
  for (auto scope : created->key.scopes) granted.push_back(to_string(scope));
  co_return success(http::status::created,
                    {{"token", created->secret},
                     {"url", portal_base(s, ctx.req) + "#token=" + created->secret},
                     {"scopes", granted},
                     {"expires_at", format_rfc3339(*created->key.expires_at)}});
}

}  // namespace

void add_portal_session_routes(Router& router) {
  router.add({http::verb::post, "/v1/portal-sessions", Access::scoped, store::Scope::portal_create,
              create});
}

}  // namespace hookstream::api
