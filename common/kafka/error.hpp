#pragma once
// Kafka failures as values. librdkafka reports ~200 codes; callers care about a handful of
// categories, so every code is classified once (classify) and retriability is decided once, by an
// exhaustive switch over the categories (is_retriable).
#include <librdkafka/rdkafka.h>

#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace hookstream::kafka {

enum class KafkaErrc {
  invalid_config,       // a property or argument the deployment must fix
  queue_full,           // the local producer queue is full: back off, then produce again
  timed_out,            // a request or message.timeout.ms passed without an answer
  transport,            // broker unreachable, connection refused, all brokers down
  unavailable,          // leader moving, coordinator loading, too few replicas: momentary
  unknown_topic,        // topic or partition does not exist (not created by the deployment)
  offset_out_of_range,  // a committed offset is gone from the log (retention, mock size limit)
  record_too_large,     // the record exceeds message.max.bytes or the broker's limit
  authorization,        // SASL/ACL/TLS authentication refused
  rebalance,            // a commit raced a group rebalance; the new owner will re-read
  fenced,               // a fatal idempotence error: the Producer replaces its handle; retry
  purged,               // the message was dropped from the queue on shutdown
  closed,               // the handle is closing or destroyed
  other,                // anything not classified above; treated as permanent
};

struct KafkaError {
  KafkaErrc errc = KafkaErrc::other;
  rd_kafka_resp_err_t code = RD_KAFKA_RESP_ERR_UNKNOWN;
  std::string message;

  // hookstream::Error with code "kafka_<errc>" (see to_string) and a message naming the
  // librdkafka error.
  Error to_error() const;
  operator Error() const { return to_error(); }  // NOLINT: implicit by design, for Result<T>
};

KafkaErrc classify(rd_kafka_resp_err_t code);
KafkaError make_error(rd_kafka_resp_err_t code, std::string_view context);

// The one place that decides whether trying again can succeed.
bool is_retriable(KafkaErrc errc);
// For errors that already crossed a module boundary as hookstream::Error ("kafka_*" codes);
// errors that did not come from here are not retriable.
bool is_retriable(const Error& error);

// Producer::produce refused a record because the local queue is full; waiting for delivery
// reports (flush) frees room.
bool is_queue_full(const Error& error);

std::string_view to_string(KafkaErrc errc);                            // "queue_full", …
std::optional<KafkaErrc> errc_from_error_code(std::string_view code);  // "kafka_queue_full" → …

}  // namespace hookstream::kafka
