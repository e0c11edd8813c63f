#pragma once
// Request bodies to domain values, with field-level details:
//   {"code":"validation_failed","details":{"fields":{"url":"…","events[1]":"…"}}}
// Unknown fields are refused, so a typo never passes silently.
#include <nlohmann/json.hpp>

#include "api/errors.hpp"
#include "common/event.hpp"
#include "common/store/api_keys.hpp"
#include "common/store/webhooks.hpp"

namespace hookstream::api {

inline constexpr std::size_t kMaxDescription = 500;
inline constexpr std::size_t kMaxCustomHeaders = 20;
inline constexpr std::size_t kMaxHeaderName = 256;
inline constexpr std::size_t kMaxHeaderValue = 4096;
inline constexpr std::size_t kMaxEventsPerWebhook = 100;
inline constexpr std::size_t kMaxKeyName = 200;

struct ValidationRules {
  bool allow_http = false;
  const EventCatalog* catalog = nullptr;
  std::size_t max_event_bytes = 256 * 1024;
  bool allow_private_targets = false;  // literal loopback/private URLs are refused unless set
};

// Header names a webhook may not set: transport headers and the ones hookstream signs with.
bool is_reserved_header(std::string_view name);

Result<nlohmann::json, ApiError> parse_json_object(std::string_view body);

Result<store::NewWebhook, ApiError> parse_new_webhook(std::string_view body, std::string tenant,
                                                      const ValidationRules& rules);
Result<store::WebhookPatch, ApiError> parse_webhook_patch(std::string_view body,
                                                          const ValidationRules& rules);
Result<EventInput, ApiError> parse_event_request(std::string_view body, std::string tenant,
                                                 const ValidationRules& rules);
Result<store::NewApiKey, ApiError> parse_new_api_key(std::string_view body, std::string tenant,
                                                     TimePoint now);

// POST /v1/webhooks/{id}/recover: the deliveries created in [since, until) (until: now if absent).
struct RecoverWindow {
  TimePoint since;
  TimePoint until;
};
Result<RecoverWindow, ApiError> parse_recover_request(std::string_view body, TimePoint now);

// POST /v1/portal-sessions: the scopes asked for (webhook scopes only; none given: nullopt) and
// how long the token lasts (default 1 h, at most 24 h).
struct PortalSessionRequest {
  std::optional<std::vector<store::Scope>> scopes;
  Millis expires_in{3'600'000};
};
inline constexpr Millis kMaxPortalSession{24 * 3'600'000};
Result<PortalSessionRequest, ApiError> parse_portal_session_request(std::string_view body);

}  // namespace hookstream::api
