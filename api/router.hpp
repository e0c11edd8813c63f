#pragma once
// The route table: method, path pattern ("/v1/webhooks/{id}"), who may call it, and the handler.
// The table is data so that tests (the authorization matrix) can walk every route.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/http_server.hpp"
#include "common/store/api_keys.hpp"

namespace hookstream::api {

struct RequestContext;
using RouteHandler = std::function<asio::awaitable<Response>(RequestContext&)>;

enum class Access { open, any_key, scoped };

struct Route {
  http::verb method;
  std::string pattern;
  Access access = Access::scoped;
  std::optional<store::Scope> scope;  // when access == scoped
  RouteHandler handler;
};

struct RouteMatch {
  const Route* route = nullptr;
  std::vector<std::string> params;  // the {…} segments, in order
  std::vector<http::verb> allowed;  // when the path matched but the method did not
};

class Router {
 public:
  void add(Route route) { routes_.push_back(std::move(route)); }
  RouteMatch match(http::verb method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Splits "/v1/x?limit=5&cursor=a%20b" into the path and decoded query parameters.
struct Target {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  std::optional<std::string> param(std::string_view name) const;
};
std::optional<Target> parse_target(std::string_view target);

}  // namespace hookstream::api
