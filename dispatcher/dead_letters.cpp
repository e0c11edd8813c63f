#include "dispatcher/dead_letters.hpp"

#include "common/kafka/error.hpp"

namespace hookstream::dispatcher {
namespace {
constexpr std::string_view kDeadReasonHeader = "hookstream_dead_reason";
}  // namespace

asio::awaitable<bool> DeadLetters::send(const kafka::Record& record, const std::string& reason) {
  kafka::Record dead = record;
  dead.topic = engine_.config.kafka.dead_topic();
  dead.partition = -1;
  dead.headers.push_back({std::string(kDeadReasonHeader), reason});
  const auto source =
      record.topic + "/" + std::to_string(record.partition) + "@" + std::to_string(record.offset);
  dead.headers.push_back({"hookstream_dead_source", source});
  log::warn("record sent to the dead-letter topic", {{"topic", record.topic},
                                                     {"partition", record.partition},
                                                     {"offset", record.offset},
                                                     {"reason", reason}});
  auto& kafka = engine_.deps.kafka;
  auto written = co_await engine_.until_answered(
      "dead letter", [&] { return kafka.write(dead); },
      [](const Error& e) { return kafka::is_retriable(e); });
  if (written) {
    engine_.deps.metrics.dead_letter();
    co_return true;
  }
  if (engine_.stopping) co_return false;
  engine_.deps.metrics.permanent_failure();
  log::error("record could not be dead-lettered and is skipped",
             {{"source", source}, {"reason", reason}, {"error", written.error().message}});
  co_return true;
}

}  // namespace hookstream::dispatcher
