#include "common/retry_record.hpp"

#include <charconv>

namespace hookstream {
namespace {

std::optional<std::int64_t> to_int(const std::string* text) {
  if (!text) return std::nullopt;
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc{} || p != text->data() + text->size()) return std::nullopt;
  return v;
}

}  // namespace

kafka::Record make_retry_record(const kafka::Record& event_record, const RetryInfo& info,
                                std::string topic) {
  kafka::Record r;
  r.topic = std::move(topic);
  // Keyed by (event, webhook), not by webhook: one failing endpoint's retries then spread over
  // every partition of the tier instead of filling one (the embedded cluster keeps only 5 MiB per
  // partition). Each partition still comes due in order: one tier has one delay.
  r.key = event_record.key.value_or("") + "/" + info.webhook_id;
  r.value = event_record.value;
  for (const auto& h : event_record.headers)
    if (!h.name.starts_with("hs_")) r.headers.push_back(h);
  r.headers.push_back({std::string(kRetryWebhookHeader), info.webhook_id});
  r.headers.push_back({std::string(kRetryAttemptHeader), std::to_string(info.attempt)});
  r.headers.push_back({std::string(kRetryDueHeader), std::to_string(to_unix_millis(info.due))});
  r.headers.push_back(
      {std::string(kRetryCreatedHeader), std::to_string(to_unix_millis(info.created_at))});
  return r;
}

std::optional<RetryInfo> read_retry_info(const kafka::Record& record) {
  const auto* webhook = record.header(kRetryWebhookHeader);
  const auto attempt = to_int(record.header(kRetryAttemptHeader));
  const auto due = to_int(record.header(kRetryDueHeader));
  const auto created = to_int(record.header(kRetryCreatedHeader));
  if (!webhook || webhook->empty() || !attempt || *attempt < 1 || *attempt > 1000 || !due ||
      !created)
    return std::nullopt;
  // Anyone who can write to a retry topic sets these: times before the epoch or beyond what
  // TimePoint holds would overflow the dispatcher's "due - now" arithmetic.
  const auto due_at = *due >= 0 ? from_unix_millis(*due) : std::nullopt;
  const auto created_at = *created >= 0 ? from_unix_millis(*created) : std::nullopt;
  if (!due_at || !created_at) return std::nullopt;
  return RetryInfo{*webhook, static_cast<int>(*attempt), *due_at, *created_at};
}

}  // namespace hookstream
