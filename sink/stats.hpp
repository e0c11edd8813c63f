#pragma once
// The counters behind GET /stats. Recording is O(1) and allocates only for a webhook-id not seen
// before; the process is single-threaded, so there are no locks.
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "sink/delivery_line.hpp"
#include "sink/latency_histogram.hpp"

namespace hookstream::sink {

class SinkStats {
 public:
  // Any request except the sink's own /stats and /healthz endpoints.
  void record_request() { ++requests_; }
  // `status` 0: not answered (--hang), so not counted under "statuses". `path` and the webhook-id
  // name one (endpoint, event) pair; `received_ms` is the receipt time in Unix milliseconds.
  void record_delivery(std::string_view path, std::string_view webhook_id, SignatureState signature,
                       int status, std::optional<std::chrono::microseconds> latency,
                       std::int64_t received_ms);
  void reset();

  // {"requests":N,"deliveries":N,"unique_ids":N,"verified":N,"invalid":N,"unchecked":N,
  //  "statuses":{"200":N},"latency_ms":{"count":N,"p50":x,"p95":x,"p99":x,"max":x},
  //  "unique_ok":N (distinct path + webhook-id answered 2xx: (endpoint, event) pairs delivered),
  //  "first_ok_at_ms":T,"last_ok_at_ms":T (Unix ms of the first and last 2xx; 0 before any)}
  nlohmann::json to_json() const;

 private:
  struct IdHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  std::uint64_t requests_ = 0;
  std::uint64_t deliveries_ = 0;
  std::uint64_t verified_ = 0;
  std::uint64_t invalid_ = 0;
  std::uint64_t unchecked_ = 0;
  std::array<std::uint64_t, 600> statuses_{};  // by status code; the sink sends 100–599
  std::unordered_set<std::string, IdHash, std::equal_to<>> ids_;
  std::unordered_set<std::string> ok_pairs_;  // path + '\n' + webhook-id
  std::string pair_;                          // reused key buffer
  std::int64_t first_ok_ms_ = 0;
  std::int64_t last_ok_ms_ = 0;
  LatencyHistogram latency_;
};

}  // namespace hookstream::sink
