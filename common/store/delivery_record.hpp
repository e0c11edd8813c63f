#pragma once
// The delivery log's formats, in one place (SPEC §3, §4):
//   hs:dlv:{dlv_id}           a delivery: one JSON string with its attempts (the last 50), whose
//                             TTL is the retention, renewed by every attempt. A first attempt's
//                             is written by SET NX ahead of the batch script
//                             (lua/record_deliveries.lua), which writes the others.
//                             Deliveries logged before 0.3 are hashes; they are still read, and
//                             rewritten as JSON by their next attempt.
//   hs:wh:{wh_id}:deliveries  the webhook's index: members "<created ms, 16 digits>:<dlv_id>".
//   hs:evb:{batch}            the events of one logged batch (field "<tenant>:<event id>"), kept
//                             for redelivery; a delivery names its batch in `event_key`. Each
//                             attempt keeps its event again, so the event lives as long as the
//                             delivery that needs it.
// Writing is on the dispatcher's hot path: records are built here without a JSON library.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/event.hpp"
#include "common/redis/reply.hpp"
#include "common/result.hpp"
#include "common/store/errors.hpp"
#include "common/time.hpp"

namespace hookstream::store {

enum class DeliveryStatus { pending, succeeded, failed };
std::string_view to_string(DeliveryStatus s);
std::optional<DeliveryStatus> parse_delivery_status(std::string_view text);

struct AttemptRecord {
  int number = 0;
  TimePoint at;
  std::string outcome;  // http::Outcome name, or "not_attempted"
  int response_status = 0;
  std::string response_body;  // ≤ 1 KiB
  std::string error;
  std::int64_t duration_ms = 0;
};

struct Delivery {
  std::string id;
  std::string webhook_id;
  std::string tenant;
  std::string event_id;
  std::string event_type;
  DeliveryStatus status = DeliveryStatus::pending;
  int attempt_count = 0;
  int response_status = 0;
  std::string last_error;
  std::optional<TimePoint> delivered_at;
  std::optional<TimePoint> next_retry_at;
  TimePoint created_at;
  std::string event_key;                // the batch that keeps its event ("" before 0.3)
  std::vector<AttemptRecord> attempts;  // oldest first
};

// A delivery's id is derived from (tenant, event, webhook), so an event consumed twice (after a
// crash) updates the same record instead of creating a second one.
std::string delivery_id_for(std::string_view tenant, std::string_view event_id,
                            std::string_view webhook_id);

// The index member of a delivery, and back. The member doubles as the list cursor.
std::string index_member(TimePoint created_at, std::string_view delivery_id);
std::optional<std::string_view> delivery_of_index_member(std::string_view member);

// Writing (no JSON library: this runs for every attempt; strings through append_json_string).
struct RecordFields {
  std::string_view webhook_id, tenant, event_id, event_type;
  DeliveryStatus status = DeliveryStatus::pending;
  int attempt_count = 0;
  int response_status = 0;
  std::string_view last_error;
  std::optional<TimePoint> delivered_at, next_retry_at;
  TimePoint created_at, updated_at;
  std::string_view event_key;
  const AttemptRecord* attempt = nullptr;  // its one attempt (null for none), written in place
};
std::string encode_record(const RecordFields& fields);
// The kept event: a JSON header line (type, source, time) and the data verbatim after it, so a
// redelivery sends exactly the data that was published.
std::string kept_event_field(std::string_view tenant, std::string_view event_id);
std::string encode_kept_event(const Event& event);
Result<Event, StoreError> decode_kept_event(std::string_view tenant, std::string_view event_id,
                                            std::string_view value);

// Reading (the API): a record as stored, a JSON string or a pre-0.3 hash (HGETALL reply);
// `legacy_attempts` are the items of a pre-0.2 "<key>:attempts" list.
Result<Delivery, StoreError> decode_delivery(
    std::string_view id, const redis::Reply& record,
    const std::vector<std::string_view>& legacy_attempts = {});

}  // namespace hookstream::store
