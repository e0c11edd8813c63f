// Retry records read back from <prefix>.retry.* (SPEC §4). Anyone who can write to the retry
// topics controls them; read_retry_info must refuse what it cannot use, and what it accepts must
// survive being written again (a record is re-queued to the next tier on every failed attempt).
#include <cstdlib>

#include "common/cloudevents.hpp"
#include "common/retry_record.hpp"
#include "fuzz/record_text.hpp"

using namespace hookstream;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto record = fuzz::record_from_text({reinterpret_cast<const char*>(data), size});
  const auto info = read_retry_info(record);
  const auto event = cloudevents::decode(record);
  if (!info) return 0;
  (void)format_rfc3339(info->due);
  const auto requeued = make_retry_record(record, *info, "hookstream.retry.5s");
  const auto again = read_retry_info(requeued);
  if (!again || again->webhook_id != info->webhook_id || again->attempt != info->attempt ||
      again->due != info->due || again->created_at != info->created_at)
    std::abort();
  // The event inside is carried unchanged.
  const auto event_again = cloudevents::decode(requeued);
  if (event.ok() != event_again.ok()) std::abort();
  if (event && event->id != event_again->id) std::abort();
  return 0;
}
