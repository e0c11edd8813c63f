// Every API body validator on one document: the first byte picks the route, the rest is the body.
// Validators refuse bad bodies with a 4xx in the API's envelope and never crash, whatever the JSON
// (invalid UTF-8, duplicate keys, deep nesting, huge numbers).
#include "fuzz/api_bodies.hpp"

using namespace hookstream;
using boost::beast::http::verb;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr std::pair<verb, std::string_view> kRoutes[] = {
      {verb::post, "/v1/webhooks"},
      {verb::patch, "/v1/webhooks/{id}"},
      {verb::post, "/v1/events"},
      {verb::post, "/v1/api-keys"},
      {verb::post, "/v1/webhooks/{id}/recover"},
      {verb::post, "/v1/portal-sessions"},
  };
  const auto& [method, pattern] = kRoutes[data[0] % std::size(kRoutes)];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (!fuzz::validate_body(method, pattern, body)) std::abort();
  return 0;
}
