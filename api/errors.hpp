#pragma once
// The API's response envelope (SPEC §3):
//   {"success":true,"data":{…}}
//   {"success":false,"error":{"code":…,"message":…,"details":{…}}}
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "api/http_server.hpp"
#include "common/time.hpp"

namespace hookstream::api {

enum class ApiErrc {
  validation_failed,        // 400
  authentication_required,  // 401
  insufficient_scopes,      // 403
  resource_not_found,       // 404
  method_not_allowed,       // 405
  conflict,                 // 409: an idempotent request with the same key is still in flight
  payload_too_large,        // 413
  headers_too_large,        // 431
  rate_limit_exceeded,      // 429
  internal_error,           // 500
  service_unavailable,      // 503: Redis or Kafka unreachable
};

std::string_view to_string(ApiErrc code);
http::status http_status(ApiErrc code);

struct ApiError {
  ApiErrc code;
  std::string message;
  nlohmann::json details = nlohmann::json::object();
};

Response json_response(http::status status, const nlohmann::json& body);
Response success(http::status status, nlohmann::json data);
Response no_content();
Response error_response(const ApiError& error);

// An optional time as every response writes it: RFC 3339 in UTC, or null.
nlohmann::json optional_time(const std::optional<TimePoint>& t);

}  // namespace hookstream::api
