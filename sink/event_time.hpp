#pragma once
// When the event in a delivery was published, for publish-to-receipt latency.
#include <optional>
#include <string_view>

#include "common/time.hpp"

namespace hookstream::sink {

// The top-level "timestamp" (hookstream's webhook payload) or "time" (a CloudEvent) string of a
// JSON object body, parsed as RFC 3339; nullopt when the body has neither or is not an object.
// A single pass without allocating: this runs on every delivery of a benchmark.
std::optional<TimePoint> event_time(std::string_view body);

}  // namespace hookstream::sink
