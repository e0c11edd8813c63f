#include "sink/stats.hpp"

namespace hookstream::sink {

void SinkStats::record_delivery(std::string_view path, std::string_view webhook_id,
                                SignatureState signature, int status,
                                std::optional<std::chrono::microseconds> latency,
                                std::int64_t received_ms) {
  ++deliveries_;
  if (status >= 200 && status < 300) {
    if (first_ok_ms_ == 0) first_ok_ms_ = received_ms;
    last_ok_ms_ = received_ms;
    pair_.assign(path);
    pair_ += '\n';
    pair_ += webhook_id;
    ok_pairs_.insert(pair_);
  }
  if (!webhook_id.empty() && !ids_.contains(webhook_id)) ids_.emplace(webhook_id);
  switch (signature) {
    case SignatureState::verified:
      ++verified_;
      break;
    case SignatureState::invalid:
      ++invalid_;
      break;
    case SignatureState::unchecked:
      ++unchecked_;
      break;
  }
  if (status > 0 && static_cast<std::size_t>(status) < statuses_.size())
    ++statuses_[static_cast<std::size_t>(status)];
  if (latency) latency_.record(*latency);
}

void SinkStats::reset() {
  requests_ = deliveries_ = verified_ = invalid_ = unchecked_ = 0;
  statuses_.fill(0);
  ids_.clear();
  ok_pairs_.clear();
  first_ok_ms_ = last_ok_ms_ = 0;
  latency_.reset();
}

nlohmann::json SinkStats::to_json() const {
  nlohmann::json statuses = nlohmann::json::object();
  for (std::size_t code = 0; code < statuses_.size(); ++code)
    if (statuses_[code] != 0) statuses[std::to_string(code)] = statuses_[code];
  return {
      {"requests", requests_},
      {"deliveries", deliveries_},
      {"unique_ids", ids_.size()},
      {"verified", verified_},
      {"invalid", invalid_},
      {"unchecked", unchecked_},
      {"statuses", std::move(statuses)},
      {"unique_ok", ok_pairs_.size()},
      {"first_ok_at_ms", first_ok_ms_},
      {"last_ok_at_ms", last_ok_ms_},
      {"latency_ms",
       {{"count", latency_.count()},
        {"p50", latency_.percentile_ms(50)},
        {"p95", latency_.percentile_ms(95)},
        {"p99", latency_.percentile_ms(99)},
        {"max", latency_.max_ms()}}},
  };
}

}  // namespace hookstream::sink
