#include "common/event.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/ascii.hpp"
#include "common/json.hpp"

namespace hookstream {
namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

std::string json_string(std::string_view s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Result<void> validate_event_type_syntax(std::string_view type) {
  // Lowercase words of [a-z0-9] joined by single '.' or '-', e.g. intake-bot.status-changed.
  bool ok = !type.empty() && type.size() <= kMaxEventTypeLength && is_lower_alnum(type.front()) &&
            is_lower_alnum(type.back());
  for (std::size_t i = 0; ok && i < type.size(); ++i) {
    const char c = type[i];
    if (c == '.' || c == '-')
      ok = is_lower_alnum(type[i - 1]);
    else
      ok = is_lower_alnum(c);
  }
  if (!ok)
    return fail("invalid_event_type",
                "event type " + json_string(type.substr(0, 140)) +
                    " must be 1-128 lowercase letters or digits in words joined by '.' or '-'");
  return {};
}

Result<void> validate_event_id(std::string_view id) {
  static constexpr CharSet kIdChars(
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:");
  const bool ok = !id.empty() && id.size() <= kMaxEventIdLength && kIdChars.all_of(id);
  if (!ok)
    return fail("invalid_event_id", "event id " + json_string(id.substr(0, 140)) +
                                        " must be 1-128 characters of [A-Za-z0-9_.:-]");
  return {};
}

Result<void> validate_tenant_id(std::string_view tenant) {
  static constexpr CharSet kTenantChars(
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.");
  const bool ok =
      !tenant.empty() && tenant.size() <= kMaxTenantLength && kTenantChars.all_of(tenant);
  if (!ok)
    return fail("invalid_tenant", "tenant " + json_string(tenant.substr(0, 80)) +
                                      " must be 1-64 characters of [A-Za-z0-9_.-]");
  return {};
}

Result<void, EventProblem> validate_event_data(std::string_view data, std::size_t max_bytes) {
  if (data.size() > max_bytes)
    return fail(EventProblem{"data",
                             "event data is " + std::to_string(data.size()) +
                                 " bytes; the limit is " + std::to_string(max_bytes) + " bytes",
                             true});
  const auto first = data.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || data[first] != '{')
    return fail(EventProblem{"data", "event data must be a JSON object"});
  // The same check as the dispatcher's (cloudevents::decode), so what is accepted here is
  // delivered there.
  if (!is_valid_json(data)) return fail(EventProblem{"data", "event data is not valid JSON"});
  return {};
}

Result<Event, EventProblem> make_event(EventInput input, const EventsConfig& config,
                                       const EventCatalog& catalog, const IdGenerator& ids,
                                       const Clock& clock) {
  if (auto ok = validate_tenant_id(input.tenant); !ok)
    return fail(EventProblem{"tenant", ok.error().message});
  if (auto ok = validate_event_type_syntax(input.type); !ok)
    return fail(EventProblem{"type", ok.error().message});
  if (input.type == kTestPingType)
    return fail(EventProblem{"type", "test.ping is reserved for test pings"});
  if (!catalog.contains(input.type))
    return fail(EventProblem{
        "type", "unknown event type " + json_string(input.type) + "; the catalog has: " + [&] {
          std::string all;
          for (const auto& t : catalog.types()) all += (all.empty() ? "" : ", ") + t;
          return all;
        }()});
  if (input.id) {
    if (auto ok = validate_event_id(*input.id); !ok)
      return fail(EventProblem{"id", ok.error().message});
  }
  if (input.source && (input.source->empty() || input.source->size() > 256))
    return fail(EventProblem{"source", "source must be 1-256 characters"});
  if (auto ok = validate_event_data(input.data, config.max_data_bytes); !ok)
    return fail(std::move(ok).error());

  Event e;
  e.id = input.id ? std::move(*input.id) : ids.next(id_prefix::event);
  e.type = std::move(input.type);
  e.source = input.source ? std::move(*input.source) : std::string(kDefaultSource);
  e.tenant = std::move(input.tenant);
  e.time = input.time.value_or(clock.now());
  e.data = std::move(input.data);
  return e;
}

Result<void, EventProblem> validate_decoded_event(const Event& event) {
  if (auto ok = validate_event_id(event.id); !ok)
    return fail(EventProblem{"id", ok.error().message});
  if (auto ok = validate_event_type_syntax(event.type); !ok)
    return fail(EventProblem{"type", ok.error().message});
  if (auto ok = validate_tenant_id(event.tenant); !ok)
    return fail(EventProblem{"tenant", ok.error().message});
  return {};
}

std::string webhook_payload(const Event& event) {
  std::string body;
  body.reserve(event.data.size() + event.id.size() + event.type.size() + 80);
  body += R"({"id":)";
  append_json_string(body, event.id);
  body += R"(,"type":)";
  append_json_string(body, event.type);
  body += R"(,"timestamp":")";
  body += format_rfc3339(event.time);
  body += R"(","data":)";
  body += event.data;
  body += '}';
  return body;
}

}  // namespace hookstream
