#include "common/cloudevents.hpp"

#include <simdjson.h>

#include <optional>

#include "common/json.hpp"

namespace hookstream::cloudevents {
namespace {

Unexpected<DecodeError> refuse(DecodeErrc code, std::string reason) {
  return fail(DecodeError{code, std::move(reason)});
}

bool is_json_content_type(std::string_view ct) {
  // "application/json", "application/json; charset=utf-8", "application/x+json"
  const auto semi = ct.find(';');
  auto base = ct.substr(0, semi);
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  return base == kJsonContentType || base.ends_with("+json");
}

Result<Event, DecodeError> finish(Event e, std::int64_t record_ts_ms) {
  if (e.time == TimePoint{}) {
    // Without ce_time the record's own timestamp says when; a producer may set any int64 there.
    const auto t = from_unix_millis(record_ts_ms);
    if (!t)
      return refuse(DecodeErrc::invalid_attribute, "no time attribute, and the record timestamp " +
                                                       std::to_string(record_ts_ms) +
                                                       " is out of range");
    e.time = *t;
  }
  if (e.source.empty()) e.source = std::string(kDefaultSource);
  if (auto ok = validate_decoded_event(e); !ok)
    return refuse(DecodeErrc::invalid_attribute, ok.error().message);
  return e;
}

Result<Event, DecodeError> decode_binary(const kafka::Record& r, const std::string& specversion) {
  if (specversion != kSpecVersion)
    return refuse(DecodeErrc::unsupported_specversion,
                  "ce_specversion is '" + specversion.substr(0, 16) + "', expected 1.0");
  if (const auto* ct = r.header("content-type"); ct && !is_json_content_type(*ct))
    return refuse(DecodeErrc::unsupported_content_type,
                  "content-type '" + ct->substr(0, 64) + "' is not JSON");
  Event e;
  for (auto [name, field] :
       {std::pair{"ce_id", &e.id}, {"ce_type", &e.type}, {"ce_tenant", &e.tenant}}) {
    const auto* v = r.header(name);
    if (!v || v->empty())
      return refuse(DecodeErrc::missing_attribute, std::string("missing header ") + name);
    *field = *v;
  }
  if (const auto* v = r.header("ce_source")) e.source = *v;
  if (const auto* v = r.header("ce_partitionkey")) e.partition_key = *v;
  if (const auto* v = r.header("ce_time")) {
    auto t = parse_rfc3339(*v);
    if (!t) return refuse(DecodeErrc::invalid_attribute, "ce_time: " + t.error().message);
    e.time = *t;
  }
  // Kept verbatim (webhook_payload sends it as it came), so it is only checked, never parsed into
  // anything: a JSON object, of any depth, and a key given twice passes (as it always has).
  const auto first = r.value.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || r.value[first] != '{' || !is_valid_json(r.value))
    return refuse(DecodeErrc::invalid_data, "the record value (event data) is not a JSON object");
  e.data = r.value;
  return finish(std::move(e), r.timestamp_ms);
}

Result<Event, DecodeError> decode_structured(const kafka::Record& r) {
  // A view into this thread's parser, valid until its next parse: everything is copied out here.
  const auto parsed = parse_untrusted_json_view(r.value);
  if (!parsed)
    return refuse(DecodeErrc::invalid_data,
                  "structured-mode value is refused: " + parsed.error().message);
  simdjson::dom::object doc;
  if (parsed->get_object().get(doc))
    return refuse(DecodeErrc::invalid_data, "structured-mode value is not a JSON object");
  // An attribute that is not a string counts as absent. Keys are unique (duplicates are refused).
  auto text = [&](std::string_view name) -> std::optional<std::string_view> {
    std::string_view value;
    if (doc.at_key(name).get_string().get(value)) return std::nullopt;
    return value;
  };
  const auto sv = text("specversion");
  if (!sv || *sv != kSpecVersion)
    return refuse(DecodeErrc::unsupported_specversion, "specversion must be \"1.0\"");
  Event e;
  for (auto [name, field] : {std::pair{"id", &e.id}, {"type", &e.type}, {"tenant", &e.tenant}}) {
    const auto v = text(name);
    if (!v || v->empty())
      return refuse(DecodeErrc::missing_attribute, std::string("missing string attribute ") + name);
    *field = *v;
  }
  if (const auto v = text("source")) e.source = *v;
  if (const auto v = text("partitionkey")) e.partition_key.emplace(*v);
  if (const auto v = text("time")) {
    auto t = parse_rfc3339(*v);
    if (!t) return refuse(DecodeErrc::invalid_attribute, "time: " + t.error().message);
    e.time = *t;
  }
  if (const auto ct = text("datacontenttype"); ct && !is_json_content_type(*ct))
    return refuse(DecodeErrc::unsupported_content_type,
                  "datacontenttype '" + std::string(ct->substr(0, 64)) + "' is not JSON");
  if (doc.at_key("data_base64").error() != simdjson::NO_SUCH_FIELD)
    return refuse(DecodeErrc::unsupported_content_type,
                  "data_base64 is not supported; send JSON data");
  simdjson::dom::object data;
  if (doc.at_key("data").get_object().get(data))
    return refuse(DecodeErrc::invalid_data, "data must be a JSON object");
  // Compact, keys in the order they came (before simdjson, nlohmann's dump sorted them), numbers
  // printed as nlohmann printed them (simdjson uses the same shortest round-trip algorithm).
  e.data = simdjson::minify(data);
  return finish(std::move(e), r.timestamp_ms);
}

}  // namespace

std::string_view to_string(DecodeErrc e) {
  switch (e) {
    case DecodeErrc::not_a_cloudevent:
      return "not_a_cloudevent";
    case DecodeErrc::unsupported_specversion:
      return "unsupported_specversion";
    case DecodeErrc::unsupported_content_type:
      return "unsupported_content_type";
    case DecodeErrc::missing_attribute:
      return "missing_attribute";
    case DecodeErrc::invalid_attribute:
      return "invalid_attribute";
    case DecodeErrc::invalid_data:
      return "invalid_data";
  }
  return "unknown";
}

kafka::Record encode_binary(const Event& event, std::string topic) {
  kafka::Record r;
  r.topic = std::move(topic);
  r.key = event.partition_key.value_or(event.id);
  r.value = event.data;
  r.headers = {
      {"ce_specversion", std::string(kSpecVersion)},
      {"ce_id", event.id},
      {"ce_type", event.type},
      {"ce_source", event.source},
      {"ce_time", format_rfc3339(event.time)},
      {"ce_tenant", event.tenant},
      {"content-type", std::string(kJsonContentType)},
  };
  if (event.partition_key) r.headers.push_back({"ce_partitionkey", *event.partition_key});
  return r;
}

Result<Event, DecodeError> decode(const kafka::Record& record) {
  const auto* ct = record.header("content-type");
  if (ct && std::string_view(*ct).starts_with("application/cloudevents")) {
    if (!std::string_view(*ct).starts_with(kStructuredContentType))
      return refuse(DecodeErrc::unsupported_content_type,
                    "structured mode is supported only as application/cloudevents+json");
    return decode_structured(record);
  }
  if (const auto* specversion = record.header("ce_specversion"))
    return decode_binary(record, *specversion);
  return refuse(DecodeErrc::not_a_cloudevent,
                "neither binary mode (ce_specversion header) nor structured mode "
                "(content-type: application/cloudevents+json)");
}

}  // namespace hookstream::cloudevents
