// Raw bytes from a client, as hookstream-api reads them: the server's request parser (with the
// server's limits), the request target, the route table, then the matched route's body
// validation. Any input ends in a parse error or a routed request; nothing crashes or leaks.
#include <cctype>
#include <cstdlib>

#include "api/openapi.hpp"
#include "api/router.hpp"
#include "fuzz/api_bodies.hpp"

using namespace hookstream;
namespace bhttp = boost::beast::http;

namespace {

// Feeds the whole input the way the server's reads would deliver it: header first, then body.
bool parse_request(std::string_view bytes, api::Request& out) {
  static const api::HttpServerLimits limits = [] {
    api::HttpServerLimits l;
    l.body_limit = 256 * 1024 + 64 * 1024;  // as api/config.cpp sets it for the default limits
    return l;
  }();
  hookstream::http::RequestParser parser;
  hookstream::http::configure_request_parser(parser, limits);
  parser.eager(true);
  boost::beast::error_code ec;
  for (;;) {
    const auto used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    bytes.remove_prefix(used);
    if (parser.is_done()) break;
    if (ec && ec != bhttp::error::need_more) return false;
    // need_more: every byte left has been seen, and Beast must not be given the same bytes again
    // (a chunk header it already scanned trips its assertions): the client closed here.
    const bool need_more = ec == bhttp::error::need_more;
    ec = {};
    if (used == 0 || need_more) {
      if (!parser.got_some()) return false;  // closed before a byte (put_eof asserts on that)
      parser.put_eof(ec);
      if (ec || !parser.is_done()) return false;
      break;
    }
  }
  out = parser.release();
  return true;
}

// The routes as api/openapi.json publishes them (the same table as make_router(), which
// tests/openapi checks); the handlers are never called here.
api::Router route_table() {
  api::Router router;
  const auto doc = nlohmann::json::parse(api::openapi_document());
  for (const auto& [path, methods] : doc.at("paths").items())
    for (const auto& [method, operation] : methods.items()) {
      std::string upper = method;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      // "parameters" and the like sit next to the methods: they are no verb.
      if (const auto verb = bhttp::string_to_verb(upper); verb != bhttp::verb::unknown)
        router.add({verb, path, api::Access::open, {}, {}});
    }
  if (router.routes().size() < 10) std::abort();  // the document changed shape
  return router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const api::Router router = route_table();
  api::Request req;
  if (!parse_request({reinterpret_cast<const char*>(data), size}, req)) return 0;
  (void)req.keep_alive();
  (void)req[bhttp::field::authorization];
  const auto target = api::parse_target(req.target());
  if (!target) return 0;
  if (!target->path.starts_with('/')) std::abort();
  (void)target->param("limit");
  const auto match = router.match(req.method(), target->path);
  if (!match.route) return 0;
  const auto placeholders =
      std::count(match.route->pattern.begin(), match.route->pattern.end(), '{');
  if (static_cast<std::size_t>(placeholders) != match.params.size()) std::abort();
  fuzz::validate_body(req.method(), match.route->pattern, req.body());
  return 0;
}
