#include "kafka_dev/fault_command.hpp"

#include <array>
#include <charconv>
#include <string>
#include <utility>
#include <vector>

namespace hookstream::kafka_dev {
namespace {

// Kafka protocol request keys (the mock's error stacks are per request type).
constexpr std::array<std::pair<std::string_view, std::int16_t>, 12> api_keys{{
    {"Produce", 0},
    {"Fetch", 1},
    {"ListOffsets", 2},
    {"Metadata", 3},
    {"OffsetCommit", 8},
    {"OffsetFetch", 9},
    {"FindCoordinator", 10},
    {"JoinGroup", 11},
    {"Heartbeat", 12},
    {"LeaveGroup", 13},
    {"SyncGroup", 14},
    {"InitProducerId", 22},
}};

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const auto start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

Result<int> parse_int(std::string_view text, std::string_view what) {
  int n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size())
    return fail("invalid_command",
                std::string(what) + " '" + std::string(text) + "' is not an integer");
  return n;
}

Result<std::int32_t> parse_broker(std::string_view text) {
  if (text == "all") return std::int32_t{-1};
  auto id = parse_int(text, "broker");
  if (!id) return fail(std::move(id).error());
  if (*id < 0) return fail("invalid_command", "broker ids are 0 or more (or 'all')");
  return std::int32_t{*id};
}

Result<std::int16_t> parse_api(std::string_view text) {
  for (const auto& [name, key] : api_keys)
    if (name == text) return key;
  return fail("invalid_command", "unknown request type '" + std::string(text) + "'");
}

Result<rd_kafka_resp_err_t> parse_error(std::string_view text) {
  const rd_kafka_err_desc* descs = nullptr;
  std::size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  int number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  const bool numeric = ec == std::errc{} && end == text.data() + text.size();
  for (std::size_t i = 0; i < count; ++i) {
    if (descs[i].name == nullptr) continue;
    if (numeric ? descs[i].code == number : text == descs[i].name) return descs[i].code;
  }
  return fail("invalid_command", "unknown Kafka error '" + std::string(text) + "'");
}

}  // namespace

Result<FaultCommand> parse_fault_command(std::string_view line) {
  const auto words = split_words(line);
  if (words.empty()) return fail("invalid_command", "empty command");
  FaultCommand cmd;
  const auto arity = [&](std::size_t n) -> Result<void> {
    if (words.size() != n)
      return fail("invalid_command",
                  "'" + std::string(words[0]) + "' takes " + std::to_string(n - 1) + " arguments");
    return {};
  };
  if (words[0] == "broker") {
    if (auto ok = arity(3); !ok) return fail(std::move(ok).error());
    if (words[1] == "down")
      cmd.kind = FaultCommand::Kind::broker_down;
    else if (words[1] == "up")
      cmd.kind = FaultCommand::Kind::broker_up;
    else
      return fail("invalid_command", "broker takes 'down' or 'up'");
    auto broker = parse_broker(words[2]);
    if (!broker) return fail(std::move(broker).error());
    cmd.broker = *broker;
    return cmd;
  }
  if (words[0] == "rtt") {
    if (auto ok = arity(3); !ok) return fail(std::move(ok).error());
    cmd.kind = FaultCommand::Kind::rtt;
    auto broker = parse_broker(words[1]);
    if (!broker) return fail(std::move(broker).error());
    auto ms = parse_int(words[2], "rtt");
    if (!ms) return fail(std::move(ms).error());
    if (*ms < 0) return fail("invalid_command", "rtt must be 0 or more milliseconds");
    cmd.broker = *broker;
    cmd.rtt_ms = *ms;
    return cmd;
  }
  if (words[0] == "errors") {
    if (auto ok = arity(4); !ok) return fail(std::move(ok).error());
    cmd.kind = FaultCommand::Kind::errors;
    auto api = parse_api(words[1]);
    if (!api) return fail(std::move(api).error());
    auto count = parse_int(words[2], "count");
    if (!count) return fail(std::move(count).error());
    if (*count < 1 || *count > 100000)
      return fail("invalid_command", "count must be from 1 to 100000");
    auto error = parse_error(words[3]);
    if (!error) return fail(std::move(error).error());
    cmd.api_key = *api;
    cmd.count = *count;
    cmd.error = *error;
    return cmd;
  }
  if (words[0] == "clear") {
    if (auto ok = arity(2); !ok) return fail(std::move(ok).error());
    cmd.kind = FaultCommand::Kind::clear_errors;
    auto api = parse_api(words[1]);
    if (!api) return fail(std::move(api).error());
    cmd.api_key = *api;
    return cmd;
  }
  return fail("invalid_command", "unknown command '" + std::string(words[0]) + "'");
}

}  // namespace hookstream::kafka_dev
