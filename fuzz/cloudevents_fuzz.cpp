// CloudEvents records as any Kafka producer may write them (SPEC §2): decode must refuse bad
// records with a reason, never crash; what it accepts must survive a re-encode unchanged.
#include <cstdlib>

#include "common/cloudevents.hpp"
#include "fuzz/record_text.hpp"

using namespace hookstream;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto record = fuzz::record_from_text({reinterpret_cast<const char*>(data), size});
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
