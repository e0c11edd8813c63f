#pragma once
// Structured logs: one JSON object per line on stderr,
// {"ts":"…","level":"info","logger":"api","msg":"…", …fields}.
#include <spdlog/logger.h>
#include <nlohmann/json.hpp>

#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace hookstream::log {

enum class Level { trace, debug, info, warn, error, critical, off };

Result<Level> parse_level(std::string_view text);

// Sets up the process-wide JSON logger for `component` ("api", "dispatcher", …) at `level`.
// Call once from main(); before that, log calls go to a default stderr logger at info.
void init(std::string_view component, Level level);

bool enabled(Level level);
void write(Level level, std::string_view msg,
           const nlohmann::json& fields = nlohmann::json::object());

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
