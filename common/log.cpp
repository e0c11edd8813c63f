#include "common/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <chrono>

#include "common/time.hpp"

namespace hookstream::log {
namespace {

constexpr std::array<std::string_view, 7> kLevelNames = {"trace", "debug",    "info", "warn",
                                                         "error", "critical", "off"};

struct State {
  std::shared_ptr<spdlog::logger> logger;
  std::string component = "hookstream";
};

State& state() {
  // The logger is process-wide by nature (stderr is); everything else is passed explicitly.
  static State s = [] {
    State st;
    st.logger = std::make_shared<spdlog::logger>("hookstream",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
    st.logger->set_pattern("%v");
    st.logger->set_level(spdlog::level::info);
    return st;
  }();
  return s;
}

spdlog::level::level_enum to_spdlog(Level level) {
  return static_cast<spdlog::level::level_enum>(static_cast<int>(level));
}

}  // namespace

Result<Level> parse_level(std::string_view text) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i)
    if (kLevelNames[i] == text) return static_cast<Level>(i);
  if (text == "warning") return Level::warn;
  return fail("invalid_log_level",
              "expected one of trace, debug, info, warn, error, critical, off");
}

void init(std::string_view component, Level level) {
  auto& s = state();
  s.component = std::string(component);
  s.logger->set_level(to_spdlog(level));
  s.logger->flush_on(spdlog::level::trace);
  detail::threshold.store(level, std::memory_order_relaxed);
}

void write(Level level, std::string_view msg, const nlohmann::json& fields) {
  auto& s = state();
  nlohmann::json line = {
      {"ts", format_rfc3339(std::chrono::system_clock::now())},
      {"level", kLevelNames[static_cast<std::size_t>(level)]},
      {"logger", s.component},
      {"msg", msg},
  };
  if (fields.is_object())
    for (const auto& [k, v] : fields.items()) line[k] = v;
  s.logger->log(to_spdlog(level), "{}",
                line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  nlohmann::json object = nlohmann::json::object();
  // emplace keeps the first of repeated keys, as a JSON object built from a braced list does.
  for (const auto& f : fields) object.emplace(std::string(f.key()), f.value());
  write(level, msg, object);
}

}  // namespace hookstream::log
