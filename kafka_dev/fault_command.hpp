#pragma once
// Fault injection for hookstream-kafka-dev (`--control-stdin`): one command a line, applied to the
// embedded cluster through librdkafka's mock API, so tests can break the broker on purpose.
//
//   broker down ID|all        disconnect the broker and refuse new connections
//   broker up ID|all          accept connections again
//   rtt ID|all MS             add MS milliseconds of round-trip time
//   errors API COUNT ERROR    the next COUNT requests of API fail with ERROR
//   clear API                 forget the errors still queued for API
//
// API: Produce, Fetch, ListOffsets, Metadata, OffsetCommit, OffsetFetch, FindCoordinator,
// JoinGroup, Heartbeat, LeaveGroup, SyncGroup, InitProducerId. ERROR: a librdkafka error name
// without its RD_KAFKA_RESP_ERR_ prefix (NOT_LEADER_FOR_PARTITION, _TRANSPORT, …) or its number.
#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <string_view>

#include "common/result.hpp"

namespace hookstream::kafka_dev {

struct FaultCommand {
  enum class Kind { broker_down, broker_up, rtt, errors, clear_errors };
  Kind kind = Kind::broker_down;
  std::int32_t broker = -1;  // -1: every broker
  int rtt_ms = 0;
  std::int16_t api_key = 0;
  int count = 0;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

Result<FaultCommand> parse_fault_command(std::string_view line);

}  // namespace hookstream::kafka_dev
