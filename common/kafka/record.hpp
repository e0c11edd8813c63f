#pragma once
// A Kafka record as hookstream sees it, independent of librdkafka's types.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hookstream::kafka {

struct Header {
  std::string name;
  std::string value;
};

struct Record {
  std::string topic;
  std::optional<std::string> key;
  std::string value;
  std::vector<Header> headers;
  std::int32_t partition = -1;  // -1: let the partitioner choose (by key)
  std::int64_t offset = -1;     // set on consumed records
  std::int64_t timestamp_ms = 0;

  // The last header with this name (Kafka allows repeats; the last one wins for us).
  const std::string* header(std::string_view name) const {
    for (auto it = headers.rbegin(); it != headers.rend(); ++it)
      if (it->name == name) return &it->value;
    return nullptr;
  }
};

}  // namespace hookstream::kafka
