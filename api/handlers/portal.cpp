// The portal's files (SPEC §7), built into the binary from api/portal/: /portal/ and its assets.
// Every answer carries a Content-Security-Policy that allows only the portal's own script and
// styles and calls to this origin, and says who may frame it (HOOKSTREAM_PORTAL_FRAME_ANCESTORS).
#include "api/services.hpp"
#include "portal_assets.hpp"

namespace hookstream::api {
namespace {

const portal::Asset* find_asset(std::string_view name) {
  for (const auto& a : portal::kAssets)
    if (a.name == name) return &a;
  return nullptr;
}

Response portal_response(const Services& s, http::status status) {
  Response res{status, 11};
  res.set("Content-Security-Policy",
          "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors " +
              s.config.portal_frame_ancestors);
  if (s.config.portal_frame_ancestors == "'none'") res.set("X-Frame-Options", "DENY");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set(http::field::cache_control, "no-cache");
  return res;
}

Response serve(const Services& s, std::string_view name) {
  const auto* asset = find_asset(name);
  if (!asset) {
    auto res = portal_response(s, http::status::not_found);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = "not found\n";
    return res;
  }
  auto res = portal_response(s, http::status::ok);
  res.set(http::field::content_type, asset->content_type);
  res.body() = std::string(asset->body);
  return res;
}

// "/portal/" (the router reads it as "/portal"); "/portal" is sent there, so that the page's
// relative addresses (app.js, ../v1) resolve under it.
asio::awaitable<Response> index(RequestContext& ctx) {
  const std::string_view target = ctx.req.target();
  if (target.substr(0, target.find('?')).ends_with("/"))
    co_return serve(ctx.services, "index.html");
  auto res = portal_response(ctx.services, http::status::permanent_redirect);
  res.set(http::field::location, "/portal/");
  co_return res;
}

asio::awaitable<Response> asset(RequestContext& ctx) {
  co_return serve(ctx.services, ctx.param(0));
}

}  // namespace

void add_portal_routes(Router& router) {
  router.add({http::verb::get, "/portal", Access::open, std::nullopt, index});
  router.add({http::verb::get, "/portal/{asset}", Access::open, std::nullopt, asset});
}

}  // namespace hookstream::api
