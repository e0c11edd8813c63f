#pragma once
// Events on Kafka follow the CloudEvents 1.0 Kafka protocol binding (SPEC §2).
//   binary mode (what hookstream writes): ce_* headers, content-type: application/json, value =
//   data structured mode (also read): content-type: application/cloudevents+json, value = whole
//   event
// The record key is the event id unless the event carries a partitionkey.
#include <string>
#include <string_view>

#include "common/event.hpp"
#include "common/kafka/record.hpp"
#include "common/result.hpp"

namespace hookstream::cloudevents {

inline constexpr std::string_view kSpecVersion = "1.0";
inline constexpr std::string_view kJsonContentType = "application/json";
inline constexpr std::string_view kStructuredContentType = "application/cloudevents+json";

enum class DecodeErrc {
  not_a_cloudevent,          // neither binary nor structured mode
  unsupported_specversion,   // not 1.0
  unsupported_content_type,  // data that is not JSON
  missing_attribute,         // id, type or tenant absent
  invalid_attribute,         // present but malformed
  invalid_data,              // data is not a JSON object
};
std::string_view to_string(DecodeErrc e);

struct DecodeError {
  DecodeErrc code;
  std::string reason;  // for humans and the dead-letter header
};

kafka::Record encode_binary(const Event& event, std::string topic);
Result<Event, DecodeError> decode(const kafka::Record& record);

}  // namespace hookstream::cloudevents
