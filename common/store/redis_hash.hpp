#pragma once
// Reading Redis hashes (HGETALL replies) into records.
#include <charconv>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/redis/reply.hpp"
#include "common/time.hpp"

namespace hookstream::store {

// One Redis command as owned strings: cmd("HGET", key, field). GCC 12 miscompiles braced
// initializer lists inside a co_await expression ("array used as initializer"), so coroutines
// build commands with this instead of `command({"HGET", key, field})`.
template <typename... Args>
std::vector<std::string> cmd(Args&&... args) {
  std::vector<std::string> out;
  out.reserve(sizeof...(args));
  (out.emplace_back(std::forward<Args>(args)), ...);
  return out;
}

using HashFields = std::map<std::string, std::string, std::less<>>;

inline HashFields to_fields(const redis::Reply& reply) {
  HashFields out;
  const auto& e = reply.elements();
  for (std::size_t i = 0; i + 1 < e.size(); i += 2)
    out.emplace(std::string(e[i].as_string()), std::string(e[i + 1].as_string()));
  return out;
}

inline std::string field_or(const HashFields& f, std::string_view name, std::string fallback = {}) {
  const auto it = f.find(name);
  return it == f.end() ? std::move(fallback) : it->second;
}

inline std::optional<std::int64_t> int_field(const HashFields& f, std::string_view name) {
  const auto it = f.find(name);
  if (it == f.end() || it->second.empty()) return std::nullopt;
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (ec != std::errc{}) return std::nullopt;
  return v;
}

// Times are stored as Unix milliseconds; one beyond what a TimePoint holds (nanoseconds: about
// ±292 years) reads as absent rather than overflowing.
inline std::optional<TimePoint> time_field(const HashFields& f, std::string_view name) {
  const auto ms = int_field(f, name);
  if (!ms) return std::nullopt;
  return from_unix_millis(*ms);
}

inline std::string ms_text(TimePoint t) {
  return std::to_string(to_unix_millis(t));
}

}  // namespace hookstream::store
