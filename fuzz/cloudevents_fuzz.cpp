// CloudEvents records as any Kafka producer may write them (SPEC §2): decode must refuse bad
// records with a reason, never crash; what it accepts must survive a re-encode unchanged.
#include <simdjson.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/cloudevents.hpp"
#include "common/json.hpp"
#include "fuzz/record_text.hpp"

using namespace hookstream;

namespace {

// The dispatcher reads records with simdjson, the API with nlohmann: they must agree on what is
// JSON (common/json.hpp), and on what a structured-mode value means.
void check_simdjson_agrees_with_nlohmann(std::string_view value) {
  const bool accepted = value.find('\0') == std::string_view::npos &&
                        !value.starts_with("\xEF\xBB\xBF") && nlohmann::json::accept(value);
  if (is_valid_json(value) != accepted) std::abort();
  const auto expected = parse_untrusted_json(value);
  const auto view = parse_untrusted_json_view(value);
  if (view.ok() != expected.ok()) std::abort();
  if (!view.ok()) {
    if (view.error().code != expected.error().code ||
        view.error().message != expected.error().message)
      std::abort();
  } else if (nlohmann::json::parse(simdjson::minify(*view)) != *expected) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto record = fuzz::record_from_text({reinterpret_cast<const char*>(data), size});
  check_simdjson_agrees_with_nlohmann(record.value);
  auto event = cloudevents::decode(record);
  if (!event) {
    // The reason travels in a dead-letter header: never empty.
    if (event.error().reason.empty()) std::abort();
    (void)cloudevents::to_string(event.error().code);
    return 0;
  }
  (void)webhook_payload(*event);
  // Binary mode is what hookstream writes; reading it back gives the same event.
  auto again = cloudevents::decode(cloudevents::encode_binary(*event, record.topic));
  if (!again) std::abort();
  if (again->id != event->id || again->type != event->type || again->tenant != event->tenant ||
      again->source != event->source || again->partition_key != event->partition_key ||
      format_rfc3339(again->time) != format_rfc3339(event->time))
    std::abort();
  return 0;
}
