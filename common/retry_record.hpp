#pragma once
// A retry record (SPEC §4): the event's record (its ce_* headers and data) with headers saying
// which webhook it is for, which attempt it makes and when it comes due. Written by dispatchers
// (after a failed attempt) and by the API (redeliver) to <prefix>.retry.<delay>.
#include <optional>
#include <string>
#include <string_view>

#include "common/kafka/record.hpp"
#include "common/time.hpp"

namespace hookstream {

// What a retry record carries besides the original event (its ce_* headers and data).
struct RetryInfo {
  std::string webhook_id;
  int attempt = 2;       // the attempt this record will make
  TimePoint due;         // not before
  TimePoint created_at;  // when the delivery was first created
};

inline constexpr std::string_view kRetryWebhookHeader = "hs_webhook_id";
inline constexpr std::string_view kRetryAttemptHeader = "hs_attempt";
inline constexpr std::string_view kRetryDueHeader = "hs_due_ms";
inline constexpr std::string_view kRetryCreatedHeader = "hs_created_ms";

// The retry record: the event's record with the retry headers added, keyed by webhook id.
kafka::Record make_retry_record(const kafka::Record& event_record, const RetryInfo& info,
                                std::string topic);
std::optional<RetryInfo> read_retry_info(const kafka::Record& record);

}  // namespace hookstream
