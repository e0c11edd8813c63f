#pragma once
// Stage 3: fan-out. An event record becomes one delivery per webhook of its tenant subscribed to
// its type: decoded (or dead-lettered), its subscribers looked up once subscription changes made
// before it was published can be seen, its body built once, and each delivery queued at its
// endpoint (Attempts). Bounded: at most HOOKSTREAM_MAX_PENDING_DELIVERIES first deliveries are
// under way; beyond that a record waits here, unfinished, and the consumer's pending-record bound
// pauses reading behind it.
#include <memory>

#include "dispatcher/attempt.hpp"
#include "dispatcher/dead_letters.hpp"
#include "dispatcher/engine_context.hpp"

namespace hookstream::dispatcher {

class FanOut {
 public:
  FanOut(EngineContext& engine, Attempts& attempts, DeadLetters& dead_letters)
      : engine_(engine), attempts_(attempts), dead_letters_(dead_letters) {}

  asio::awaitable<void> run(std::shared_ptr<const kafka::Record> record);

 private:
  EngineContext& engine_;
  Attempts& attempts_;
  DeadLetters& dead_letters_;
};

}  // namespace hookstream::dispatcher
