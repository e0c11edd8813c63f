#include "common/kafka/error.hpp"

#include <array>
#include <utility>

namespace hookstream::kafka {

KafkaErrc classify(rd_kafka_resp_err_t code) {
  switch (code) {
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__INVALID_TYPE:
    case RD_KAFKA_RESP_ERR__CONFLICT:
    case RD_KAFKA_RESP_ERR__EXISTING_SUBSCRIPTION:
    case RD_KAFKA_RESP_ERR__NOT_CONFIGURED:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS:
      return KafkaErrc::invalid_config;

    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
      return KafkaErrc::queue_full;

    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return KafkaErrc::timed_out;

    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RETRY:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
      return KafkaErrc::transport;

    case RD_KAFKA_RESP_ERR__NODE_UPDATE:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__ISR_INSUFF:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
    case RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT:
    case RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE:
      return KafkaErrc::unavailable;

    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return KafkaErrc::unknown_topic;

    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      return KafkaErrc::offset_out_of_range;

    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return KafkaErrc::record_too_large;

    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
    case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
      return KafkaErrc::authorization;

    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
    case RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED:
    case RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST:
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_MEMBER_ID_REQUIRED:
      return KafkaErrc::rebalance;

    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE:
    case RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID:
    case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
      return KafkaErrc::fenced;

    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
      return KafkaErrc::purged;

    case RD_KAFKA_RESP_ERR__DESTROY:
      return KafkaErrc::closed;

    default:
      return KafkaErrc::other;
  }
}

bool is_retriable(KafkaErrc errc) {
  switch (errc) {
    case KafkaErrc::queue_full:
    case KafkaErrc::timed_out:
    case KafkaErrc::transport:
    case KafkaErrc::unavailable:
    // The producer replaces a fenced or fatally failed handle by itself (Producer): the same
    // record produced again goes through the new one.
    case KafkaErrc::fenced:
      return true;
    // A failed commit during a rebalance is not worth repeating: the partition's next owner
    // re-reads from the last committed offset (at-least-once).
    case KafkaErrc::rebalance:
    // Needs an operator: create the topic, fix a property, raise a limit, grant an ACL.
    case KafkaErrc::invalid_config:
    case KafkaErrc::unknown_topic:
    case KafkaErrc::record_too_large:
    case KafkaErrc::authorization:
    // Data is already gone; the consumer has been repositioned and must report the loss.
    case KafkaErrc::offset_out_of_range:
    // The handle is going away (shutdown).
    case KafkaErrc::purged:
    case KafkaErrc::closed:
    case KafkaErrc::other:
      return false;
  }
  return false;
}

namespace {
constexpr std::array<std::pair<KafkaErrc, std::string_view>, 14> kNames{{
    {KafkaErrc::invalid_config, "invalid_config"},
    {KafkaErrc::queue_full, "queue_full"},
    {KafkaErrc::timed_out, "timed_out"},
    {KafkaErrc::transport, "transport"},
    {KafkaErrc::unavailable, "unavailable"},
    {KafkaErrc::unknown_topic, "unknown_topic"},
    {KafkaErrc::offset_out_of_range, "offset_out_of_range"},
    {KafkaErrc::record_too_large, "record_too_large"},
    {KafkaErrc::authorization, "authorization"},
    {KafkaErrc::rebalance, "rebalance"},
    {KafkaErrc::fenced, "fenced"},
    {KafkaErrc::purged, "purged"},
    {KafkaErrc::closed, "closed"},
    {KafkaErrc::other, "other"},
}};
constexpr std::string_view kCodePrefix = "kafka_";
}  // namespace

std::string_view to_string(KafkaErrc errc) {
  for (const auto& [e, name] : kNames)
    if (e == errc) return name;
  return "other";
}

std::optional<KafkaErrc> errc_from_error_code(std::string_view code) {
  if (!code.starts_with(kCodePrefix)) return std::nullopt;
  code.remove_prefix(kCodePrefix.size());
  for (const auto& [e, name] : kNames)
    if (name == code) return e;
  return std::nullopt;
}

bool is_retriable(const Error& error) {
  const auto errc = errc_from_error_code(error.code);
  return errc && is_retriable(*errc);
}

bool is_queue_full(const Error& error) {
  return errc_from_error_code(error.code) == KafkaErrc::queue_full;
}

Error KafkaError::to_error() const {
  return Error{std::string(kCodePrefix) + std::string(to_string(errc)), message};
}

KafkaError make_error(rd_kafka_resp_err_t code, std::string_view context) {
  std::string msg(context);
  if (!msg.empty()) msg += ": ";
  msg += rd_kafka_err2str(code);
  msg += " (";
  msg += rd_kafka_err2name(code);
  msg += ")";
  return KafkaError{classify(code), code, std::move(msg)};
}

}  // namespace hookstream::kafka
