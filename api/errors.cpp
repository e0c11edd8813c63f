#include "api/errors.hpp"

namespace hookstream::api {

std::string_view to_string(ApiErrc code) {
  switch (code) {
    case ApiErrc::validation_failed:
      return "validation_failed";
    case ApiErrc::authentication_required:
      return "authentication_required";
    case ApiErrc::insufficient_scopes:
      return "insufficient_scopes";
    case ApiErrc::resource_not_found:
      return "resource_not_found";
    case ApiErrc::method_not_allowed:
      return "method_not_allowed";
    case ApiErrc::conflict:
      return "conflict";
    case ApiErrc::payload_too_large:
      return "payload_too_large";
    case ApiErrc::headers_too_large:
      return "headers_too_large";
    case ApiErrc::rate_limit_exceeded:
      return "rate_limit_exceeded";
    case ApiErrc::internal_error:
      return "internal_error";
    case ApiErrc::service_unavailable:
      return "service_unavailable";
  }
  return "internal_error";
}

http::status http_status(ApiErrc code) {
  switch (code) {
    case ApiErrc::validation_failed:
      return http::status::bad_request;
    case ApiErrc::authentication_required:
      return http::status::unauthorized;
    case ApiErrc::insufficient_scopes:
      return http::status::forbidden;
    case ApiErrc::resource_not_found:
      return http::status::not_found;
    case ApiErrc::method_not_allowed:
      return http::status::method_not_allowed;
    case ApiErrc::conflict:
      return http::status::conflict;
    case ApiErrc::payload_too_large:
      return http::status::payload_too_large;
    case ApiErrc::headers_too_large:
      return http::status::request_header_fields_too_large;
    case ApiErrc::rate_limit_exceeded:
      return http::status::too_many_requests;
    case ApiErrc::internal_error:
      return http::status::internal_server_error;
    case ApiErrc::service_unavailable:
      return http::status::service_unavailable;
  }
  return http::status::internal_server_error;
}

Response json_response(http::status status, const nlohmann::json& body) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return res;
}

Response success(http::status status, nlohmann::json data) {
  return json_response(status, {{"success", true}, {"data", std::move(data)}});
}

nlohmann::json optional_time(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(format_rfc3339(*t)) : nlohmann::json(nullptr);
}

Response no_content() {
  Response res{http::status::no_content, 11};
  res.set(http::field::cache_control, "no-store");
  return res;
}

Response error_response(const ApiError& error) {
  return json_response(http_status(error.code), {{"success", false},
                                                 {"error",
                                                  {{"code", to_string(error.code)},
                                                   {"message", error.message},
                                                   {"details", error.details}}}});
}

}  // namespace hookstream::api
