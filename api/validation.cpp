#include "api/validation.hpp"

#include <boost/beast/core/string.hpp>

#include <set>

#include "common/filter/filter.hpp"
#include "common/http/address_guard.hpp"
#include "common/http/webhook_request.hpp"
#include "common/json.hpp"
#include "common/signing.hpp"
#include "common/url.hpp"

namespace hookstream::api {
namespace {

using nlohmann::json;

class FieldErrors {
 public:
  void add(const std::string& field, std::string message) {
    if (!fields_.contains(field)) fields_[field] = std::move(message);
  }
  bool empty() const { return fields_.empty(); }
  ApiError error() const {
    std::string msg = "the request is invalid:";
    for (const auto& [k, v] : fields_.items()) msg += " " + k + ": " + v.get<std::string>() + ";";
    msg.pop_back();
    return {ApiErrc::validation_failed, msg, {{"fields", fields_}}};
  }

 private:
  json fields_ = json::object();
};

void refuse_unknown(const json& obj, std::initializer_list<std::string_view> known,
                    FieldErrors& errors) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) errors.add(key, "unknown field");
  }
}

std::optional<std::string> url_field(const json& v, const ValidationRules& rules,
                                     FieldErrors& errors) {
  if (!v.is_string()) {
    errors.add("url", "must be a string");
    return std::nullopt;
  }
  const auto& text = v.get_ref<const std::string&>();
  auto url = parse_url(text);
  if (!url) {
    errors.add("url", url.error().message);
    return std::nullopt;
  }
  if (!url->is_https() && !rules.allow_http) {
    errors.add("url", "must be an https:// URL (plain http is not allowed by this deployment)");
    return std::nullopt;
  }
  // A literal address is judged now, as every delivery would judge it; a name only at connect
  // time (its addresses may change), where the same guard applies.
  if (const auto address = hookstream::http::literal_address(url->host);
      address && hookstream::http::is_blocked(*address, rules.allow_private_targets)) {
    errors.add("url",
               "names " + address->to_string() + ", a " +
                   std::string(hookstream::http::to_string(hookstream::http::classify(*address))) +
                   " address this deployment does not deliver to");
    return std::nullopt;
  }
  return text;
}

std::optional<std::vector<std::string>> events_field(const json& v, const ValidationRules& rules,
                                                     FieldErrors& errors) {
  if (!v.is_array() || v.empty()) {
    errors.add("events", "must be a non-empty array of event types (or [\"*\"] for all)");
    return std::nullopt;
  }
  if (v.size() > kMaxEventsPerWebhook) {
    errors.add("events", "at most " + std::to_string(kMaxEventsPerWebhook) + " event types");
    return std::nullopt;
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  bool ok = true;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string field = "events[" + std::to_string(i) + "]";
    if (!v[i].is_string()) {
      errors.add(field, "must be a string");
      ok = false;
      continue;
    }
    const auto& type = v[i].get_ref<const std::string&>();
    if (type != store::kAllEvents && !rules.catalog->contains(type)) {
      errors.add(field,
                 "unknown event type \"" + type.substr(0, 140) + "\"; see GET /v1/event-types");
      ok = false;
    } else if (!seen.insert(type).second) {
      errors.add(field, "duplicate event type \"" + type + "\"");
      ok = false;
    }
    out.push_back(type);
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::string> description_field(const json& v, FieldErrors& errors) {
  if (!v.is_string()) {
    errors.add("description", "must be a string");
    return std::nullopt;
  }
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() > kMaxDescription) {
    errors.add("description", "must be at most " + std::to_string(kMaxDescription) + " bytes");
    return std::nullopt;
  }
  return s;
}

// A caller-chosen secret (as Svix allows): "whsec_" + base64 of 24 to 64 bytes.
std::optional<std::string> secret_field(const json& v, FieldErrors& errors) {
  constexpr std::size_t kMin = 24, kMax = 64;
  const std::string rule = "must be \"whsec_\" followed by base64 of " + std::to_string(kMin) +
                           " to " + std::to_string(kMax) + " bytes";
  if (!v.is_string() || !v.get_ref<const std::string&>().starts_with(signing::kSecretPrefix)) {
    errors.add("secret", rule);
    return std::nullopt;
  }
  const auto key = signing::decode_secret(v.get_ref<const std::string&>());
  if (!key || key->size() < kMin || key->size() > kMax) {
    errors.add("secret", rule);
    return std::nullopt;
  }
  return v.get<std::string>();
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::optional<store::HeaderList> headers_field(const json& v, FieldErrors& errors) {
  if (!v.is_object()) {
    errors.add("headers", "must be an object of header names to string values");
    return std::nullopt;
  }
  if (v.size() > kMaxCustomHeaders) {
    errors.add("headers", "at most " + std::to_string(kMaxCustomHeaders) + " custom headers");
    return std::nullopt;
  }
  store::HeaderList out;
  bool ok = true;
  for (const auto& [name, value] : v.items()) {
    const std::string field = "headers." + name.substr(0, 64);
    if (name.empty() || name.size() > kMaxHeaderName ||
        !std::all_of(name.begin(), name.end(), is_token_char)) {
      errors.add(field, "is not a valid header name");
      ok = false;
    } else if (is_reserved_header(name)) {
      errors.add(field, "is reserved: hookstream sets it itself");
      ok = false;
    } else if (!value.is_string()) {
      errors.add(field, "must be a string");
      ok = false;
    } else {
      const auto& text = value.get_ref<const std::string&>();
      if (text.size() > kMaxHeaderValue ||
          text.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
        errors.add(field, "must be at most " + std::to_string(kMaxHeaderValue) +
                              " bytes without CR, LF or NUL");
        ok = false;
      } else {
        out.emplace_back(name, text);
      }
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

// A content filter (SPEC §4), as compact JSON; a problem is reported at its path inside the
// filter ("filter.data.amount.$gte"), null means none.
std::optional<std::optional<std::string>> filter_field(const json& v, FieldErrors& errors) {
  if (v.is_null()) return std::optional<std::string>{};
  auto compiled = filter::Filter::compile(v);
  if (!compiled) {
    errors.add(compiled.error().path, compiled.error().message);
    return std::nullopt;
  }
  return compiled->text();
}

// Attempts per second across every dispatcher (SPEC §4); null means no limit.
std::optional<std::optional<int>> rate_limit_field(const json& v, FieldErrors& errors) {
  if (v.is_null()) return std::optional<int>{};
  if (!v.is_number_integer() || v.get<std::int64_t>() < store::kMinRateLimit ||
      v.get<std::int64_t>() > store::kMaxRateLimit) {
    errors.add("rate_limit", "must be an integer from " + std::to_string(store::kMinRateLimit) +
                                 " to " + std::to_string(store::kMaxRateLimit) +
                                 " (deliveries per second), or null for no limit");
    return std::nullopt;
  }
  return static_cast<int>(v.get<std::int64_t>());
}

std::optional<bool> bool_field(const json& v, const std::string& name, FieldErrors& errors) {
  if (!v.is_boolean()) {
    errors.add(name, "must be true or false");
    return std::nullopt;
  }
  return v.get<bool>();
}

}  // namespace

bool is_reserved_header(std::string_view name) {
  return hookstream::http::is_reserved_header(name);
}

Result<json, ApiError> parse_json_object(std::string_view body) {
  auto doc = parse_untrusted_json(body);
  if (!doc) {
    const auto& e = doc.error();
    return fail(ApiError{ApiErrc::validation_failed,
                         e.code == JsonErrc::syntax ? "the request body is not valid JSON"
                                                    : "the request body is refused: " + e.message,
                         {{"fields", {{"body", e.message}}}}});
  }
  if (!doc->is_object())
    return fail(ApiError{ApiErrc::validation_failed,
                         "the request body must be a JSON object",
                         {{"fields", {{"body", "must be a JSON object"}}}}});
  return std::move(*doc);
}

Result<store::NewWebhook, ApiError> parse_new_webhook(std::string_view body, std::string tenant,
                                                      const ValidationRules& rules) {
  auto doc = parse_json_object(body);
  if (!doc) return fail(std::move(doc).error());
  FieldErrors errors;
  refuse_unknown(
      *doc,
      {"url", "events", "description", "headers", "is_active", "secret", "filter", "rate_limit"},
      errors);
  store::NewWebhook w;
  w.tenant = std::move(tenant);
  if (!doc->contains("url"))
    errors.add("url", "required");
  else if (auto u = url_field((*doc)["url"], rules, errors))
    w.url = *u;
  if (!doc->contains("events"))
    errors.add("events", "required");
  else if (auto e = events_field((*doc)["events"], rules, errors))
    w.events = *e;
  if (doc->contains("description"))
    if (auto d = description_field((*doc)["description"], errors)) w.description = *d;
  if (doc->contains("headers"))
    if (auto h = headers_field((*doc)["headers"], errors)) w.headers = *h;
  if (doc->contains("is_active"))
    if (auto a = bool_field((*doc)["is_active"], "is_active", errors)) w.active = *a;
  if (doc->contains("secret")) w.secret = secret_field((*doc)["secret"], errors);
  if (doc->contains("filter"))
    if (auto f = filter_field((*doc)["filter"], errors)) w.filter = std::move(*f);
  if (doc->contains("rate_limit"))
    if (auto r = rate_limit_field((*doc)["rate_limit"], errors)) w.rate_limit = *r;
  if (!errors.empty()) return fail(errors.error());
  return w;
}

Result<store::WebhookPatch, ApiError> parse_webhook_patch(std::string_view body,
                                                          const ValidationRules& rules) {
  auto doc = parse_json_object(body);
  if (!doc) return fail(std::move(doc).error());
  FieldErrors errors;
  refuse_unknown(*doc,
                 {"url", "events", "description", "headers", "is_active", "filter", "rate_limit"},
                 errors);
  store::WebhookPatch p;
  if (doc->contains("url")) p.url = url_field((*doc)["url"], rules, errors);
  if (doc->contains("events")) p.events = events_field((*doc)["events"], rules, errors);
  if (doc->contains("description"))
    p.description = description_field((*doc)["description"], errors);
  if (doc->contains("headers")) p.headers = headers_field((*doc)["headers"], errors);
  if (doc->contains("is_active"))
    p.is_active = bool_field((*doc)["is_active"], "is_active", errors);
  if (doc->contains("filter")) p.filter = filter_field((*doc)["filter"], errors);
  if (doc->contains("rate_limit")) p.rate_limit = rate_limit_field((*doc)["rate_limit"], errors);
  if (!errors.empty()) return fail(errors.error());
  return p;
}

Result<EventInput, ApiError> parse_event_request(std::string_view body, std::string tenant,
                                                 const ValidationRules& rules) {
  auto doc = parse_json_object(body);
  if (!doc) return fail(std::move(doc).error());
  FieldErrors errors;
  refuse_unknown(*doc, {"type", "data", "id", "source"}, errors);
  EventInput in;
  in.tenant = std::move(tenant);
  for (const char* name : {"type", "id", "source"}) {
    if (!doc->contains(name)) continue;
    const auto& v = (*doc)[name];
    if (!v.is_string()) {
      errors.add(name, "must be a string");
      continue;
    }
    if (std::string_view(name) == "type")
      in.type = v.get<std::string>();
    else if (std::string_view(name) == "id")
      in.id = v.get<std::string>();
    else
      in.source = v.get<std::string>();
  }
  if (!doc->contains("type")) errors.add("type", "required");
  if (!doc->contains("data"))
    errors.add("data", "required");
  else if (!(*doc)["data"].is_object())
    errors.add("data", "must be a JSON object");
  else
    in.data = (*doc)["data"].dump(-1, ' ', false, json::error_handler_t::replace);
  if (!errors.empty()) return fail(errors.error());
  if (in.data.size() > rules.max_event_bytes)
    return fail(
        ApiError{ApiErrc::payload_too_large,
                 "event data is " + std::to_string(in.data.size()) + " bytes; the limit is " +
                     std::to_string(rules.max_event_bytes),
                 {{"fields", {{"data", "too large"}}}, {"limit_bytes", rules.max_event_bytes}}});
  return in;
}

Result<store::NewApiKey, ApiError> parse_new_api_key(std::string_view body, std::string tenant,
                                                     TimePoint now) {
  auto doc = parse_json_object(body);
  if (!doc) return fail(std::move(doc).error());
  FieldErrors errors;
  refuse_unknown(*doc, {"name", "scopes", "rate_limit", "expires_in", "expires_at"}, errors);
  store::NewApiKey k;
  k.tenant = std::move(tenant);
  if (doc->contains("name")) {
    const auto& v = (*doc)["name"];
    if (!v.is_string() || v.get_ref<const std::string&>().size() > kMaxKeyName)
      errors.add("name", "must be a string of at most " + std::to_string(kMaxKeyName) + " bytes");
    else
      k.name = v.get<std::string>();
  }
  if (!doc->contains("scopes")) {
    errors.add("scopes", "required");
  } else if (const auto& v = (*doc)["scopes"]; !v.is_array() || v.empty()) {
    errors.add("scopes", "must be a non-empty array of scopes");
  } else {
    for (std::size_t i = 0; i < v.size(); ++i) {
      const auto scope =
          v[i].is_string() ? store::parse_scope(v[i].get<std::string>()) : std::nullopt;
      if (!scope)
        errors.add("scopes[" + std::to_string(i) + "]", "must be one of " + store::scope_list());
      else if (std::find(k.scopes.begin(), k.scopes.end(), *scope) == k.scopes.end())
        k.scopes.push_back(*scope);
    }
  }
  if (doc->contains("rate_limit")) {
    const auto& v = (*doc)["rate_limit"];
    if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 1'000'000)
      errors.add("rate_limit", "must be an integer between 1 and 1000000 (requests per minute)");
    else
      k.rate_limit = v.get<std::int64_t>();
  }
  if (doc->contains("expires_in") && doc->contains("expires_at"))
    errors.add("expires_in", "give expires_in or expires_at, not both");
  if (doc->contains("expires_in")) {
    const auto& v = (*doc)["expires_in"];
    const auto d = v.is_string() ? parse_duration(v.get<std::string>()) : Result<Millis>(Millis{0});
    if (!d || d->count() <= 0)
      errors.add("expires_in", "must be a positive duration such as \"30d\"");
    else
      k.expires_at = now + *d;
  }
  if (doc->contains("expires_at")) {
    const auto& v = (*doc)["expires_at"];
    const auto t = v.is_string() ? parse_rfc3339(v.get<std::string>()) : Result<TimePoint>(now);
    if (!t || *t <= now)
      errors.add("expires_at", "must be a future RFC 3339 time");
    else
      k.expires_at = *t;
  }
  if (!errors.empty()) return fail(errors.error());
  return k;
}

Result<RecoverWindow, ApiError> parse_recover_request(std::string_view body, TimePoint now) {
  auto doc = parse_json_object(body);
  if (!doc) return fail(std::move(doc).error());
  FieldErrors errors;
  refuse_unknown(*doc, {"since", "until"}, errors);
  RecoverWindow w{now, now};
  const auto time = [&](const char* name) -> std::optional<TimePoint> {
    const auto& v = (*doc)[name];
    if (v.is_string())
      if (auto t = parse_rfc3339(v.get<std::string>())) return *t;
    errors.add(name, "must be an RFC 3339 time such as \"2026-03-05T12:00:00Z\"");
    return std::nullopt;
  };
  if (!doc->contains("since")) {
    errors.add("since", "required");
  } else if (const auto t = time("since")) {
    if (*t >= now)
      errors.add("since", "must be in the past");
    else
      w.since = *t;
  }
  if (doc->contains("until")) {
    if (const auto t = time("until")) {
      if (*t <= w.since)
        errors.add("until", "must be later than since");
      else
        w.until = std::min(*t, now);
    }
  }
  if (!errors.empty()) return fail(errors.error());
  return w;
}

Result<PortalSessionRequest, ApiError> parse_portal_session_request(std::string_view body) {
  auto doc = parse_json_object(body.empty() ? std::string_view("{}") : body);
  if (!doc) return fail(std::move(doc).error());
  FieldErrors errors;
  refuse_unknown(*doc, {"scopes", "expires_in"}, errors);
  PortalSessionRequest out;
  if (doc->contains("scopes")) {
    const auto& v = (*doc)["scopes"];
    if (!v.is_array() || v.empty()) {
      errors.add("scopes", "must be a non-empty array of webhooks:read, webhooks:write");
    } else {
      out.scopes.emplace();
      for (std::size_t i = 0; i < v.size(); ++i) {
        const auto scope =
            v[i].is_string() ? store::parse_scope(v[i].get<std::string>()) : std::nullopt;
        if (scope != store::Scope::webhooks_read && scope != store::Scope::webhooks_write)
          errors.add("scopes[" + std::to_string(i) + "]",
                     "must be webhooks:read or webhooks:write (a portal token carries no other)");
        else if (std::find(out.scopes->begin(), out.scopes->end(), *scope) == out.scopes->end())
          out.scopes->push_back(*scope);
      }
    }
  }
  if (doc->contains("expires_in")) {
    const auto& v = (*doc)["expires_in"];
    const auto d = v.is_string() ? parse_duration(v.get<std::string>()) : Result<Millis>(Millis{0});
    if (!d || d->count() <= 0 || *d > kMaxPortalSession)
      errors.add("expires_in", "must be a positive duration of at most 24h, such as \"1h\"");
    else
      out.expires_in = *d;
  }
  if (!errors.empty()) return fail(errors.error());
  return out;
}

}  // namespace hookstream::api
