#pragma once
// The last stage: records that cannot be delivered — not a CloudEvent, no id, type or tenant, a
// retry record without its hs_* headers — go to <prefix>.dead with the reason in a header, and
// consumption goes on (SPEC §2).
#include <string>

#include "dispatcher/engine_context.hpp"

namespace hookstream::dispatcher {

class DeadLetters {
 public:
  explicit DeadLetters(EngineContext& engine) : engine_(engine) {}

  // Writes `record` to the dead-letter topic, trying again while Kafka does not answer. False
  // when stopping first (the record stays uncommitted). A permanent refusal (no dead-letter topic,
  // no ACL) is logged as an error and counted: the record is skipped rather than blocking its
  // partition for ever; its topic/partition@offset is in the log line.
  asio::awaitable<bool> send(const kafka::Record& record, const std::string& reason);

 private:
  EngineContext& engine_;
};

}  // namespace hookstream::dispatcher
