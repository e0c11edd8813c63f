#pragma once
// The API's body validators as the handlers call them, and the checks every answer must pass.
#include <cstdlib>
#include <string_view>

#include "api/errors.hpp"
#include "api/validation.hpp"

namespace hookstream::fuzz {

inline const api::ValidationRules& validation_rules() {
  static const EventCatalog catalog({"submission.completed", "submission.updated",
                                     "contact.created", "contact.updated",
                                     "intake-bot.status-changed"});
  static const api::ValidationRules rules{false, &catalog, 256 * 1024};
  return rules;
}

// A refusal must be a 4xx in the API's envelope that serialises (whatever bytes the body held).
inline void check_refusal(const api::ApiError& error) {
  const auto status = api::http_status(error.code);
  if (static_cast<int>(status) < 400 || static_cast<int>(status) >= 500) std::abort();
  if (error.message.empty()) std::abort();
  const auto res = api::error_response(error);
  const auto doc = nlohmann::json::parse(res.body(), nullptr, false);
  if (doc.is_discarded() || doc["success"] != false || !doc["error"]["code"].is_string())
    std::abort();
}

template <typename T>
void check(const Result<T, api::ApiError>& r) {
  if (!r) check_refusal(r.error());
}

// Which validator a route's handler runs on the body; false when the route takes no body.
inline bool validate_body(boost::beast::http::verb method, std::string_view pattern,
                          std::string_view body) {
  using boost::beast::http::verb;
  const auto& rules = validation_rules();
  if (method == verb::post && pattern == "/v1/webhooks")
    check(api::parse_new_webhook(body, "acme", rules));
  else if (method == verb::patch && pattern == "/v1/webhooks/{id}")
    check(api::parse_webhook_patch(body, rules));
  else if (method == verb::post && pattern == "/v1/events")
    check(api::parse_event_request(body, "acme", rules));
  else if (method == verb::post && pattern == "/v1/api-keys")
    check(api::parse_new_api_key(body, "acme", TimePoint{std::chrono::hours{24 * 365 * 56}}));
  else if (method == verb::post && pattern == "/v1/webhooks/{id}/recover")
    check(api::parse_recover_request(body, TimePoint{std::chrono::hours{24 * 365 * 56}}));
  else if (method == verb::post && pattern == "/v1/portal-sessions")
    check(api::parse_portal_session_request(body));
  else
    return false;
  return true;
}

}  // namespace hookstream::fuzz
