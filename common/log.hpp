#pragma once
// Structured logs: one JSON object per line on stderr,
// {"ts":"…","level":"info","logger":"api","msg":"…", …fields}.
#include <spdlog/logger.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <exception>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/result.hpp"

namespace hookstream::log {

enum class Level { trace, debug, info, warn, error, critical, off };

Result<Level> parse_level(std::string_view text);

// Sets up the process-wide JSON logger for `component` ("api", "dispatcher", …) at `level`.
// Call once from main(); before that, log calls go to a default stderr logger at info.
void init(std::string_view component, Level level);

namespace detail {
// The lowest level written; init() sets it. Inline here, so that the check at a call site is one
// relaxed atomic load (the librdkafka log callback asks from its own threads).
inline std::atomic<Level> threshold{Level::info};
}  // namespace detail

// Whether a line at `level` would be written. Nothing is written at Level::off.
inline bool enabled(Level level) {
  return level != Level::off && level >= detail::threshold.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view msg,
           const nlohmann::json& fields = nlohmann::json::object());

template <typename T>
concept JsonValue = std::is_constructible_v<nlohmann::json, const T&>;

// A {"key", value} pair at a log call site, holding only a reference to the value: the value
// becomes JSON (and a string is copied) only when the line is written. Valid for the duration of
// the log call, which is all the pairs written at the call site live for.
class Field {
 public:
  template <JsonValue T>
  Field(std::string_view key, const T& value)
      : key_(key),
        value_(&value),
        to_json_([](const void* v) { return nlohmann::json(*static_cast<const T*>(v)); }) {}

  std::string_view key() const { return key_; }
  nlohmann::json value() const { return to_json_(value_); }

 private:
  std::string_view key_;
  const void* value_;
  nlohmann::json (*to_json_)(const void*);
};

void write(Level level, std::string_view msg, std::initializer_list<Field> fields);

// Debug lines sit on hot paths and are off in production. `log::debug("msg", {{"k", v}, …})`
// picks the Field overload (overload resolution prefers an initializer_list parameter), so while
// debug is off the fields cost a few pointers on the stack: no JSON, no allocation. A value that is
// itself a braced list ({"k", {{"a", 1}}}) cannot be a Field and takes the JSON overload, which
// builds its fields before the check.
inline void debug(std::string_view msg, std::initializer_list<Field> fields) {
  if (enabled(Level::debug)) write(Level::debug, msg, fields);
}
inline void debug(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object()) {
  if (enabled(Level::debug)) write(Level::debug, msg, fields);
}
inline void info(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object()) {
  if (enabled(Level::info)) write(Level::info, msg, fields);
}
inline void warn(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object()) {
  if (enabled(Level::warn)) write(Level::warn, msg, fields);
}
inline void error(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object()) {
  if (enabled(Level::error)) write(Level::error, msg, fields);
}

// A co_spawn completion handler that logs an escaped exception instead of losing it.
inline auto on_exception(const char* what) {
  return [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      error("coroutine failed", {{"task", what}, {"error", ex.what()}});
    }
  };
}

}  // namespace hookstream::log
