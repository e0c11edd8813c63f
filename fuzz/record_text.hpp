#pragma once
// Fuzz input to a Kafka record, in a text form that seeds and crash files stay readable in:
//   header lines "name:value" (one optional space after the colon), an empty line, then the
//   record value. Two pseudo headers set the other fields a producer controls: "@key" and
//   "@timestamp" (milliseconds, any int64).
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/kafka/record.hpp"

namespace hookstream::fuzz {

inline kafka::Record record_from_text(std::string_view text) {
  kafka::Record r;
  r.topic = "hookstream.events";
  while (!text.empty()) {
    const auto eol = text.find('\n');
    const auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (line.empty()) break;
    const auto colon = line.find(':');
    const auto name = line.substr(0, colon);
    auto value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
    if (name == "@key") {
      r.key = std::string(value);
    } else if (name == "@timestamp") {
      std::int64_t ts = 0;
      std::from_chars(value.data(), value.data() + value.size(), ts);
      r.timestamp_ms = ts;
    } else {
      r.headers.push_back({std::string(name), std::string(value)});
    }
  }
  r.value = std::string(text);
  return r;
}

}  // namespace hookstream::fuzz
