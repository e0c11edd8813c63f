#pragma once
// The dispatcher's Prometheus metrics (SPEC §6): deliveries by outcome, latency, retries
// scheduled, dead letters, consumer lag signals, paused endpoints, lost offsets.
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <memory>
#include <string>

#include "common/http/outcome.hpp"
#include "common/store/errors.hpp"

namespace hookstream::dispatcher {

// Thread-safe: every shard of the process reports here.
class Metrics {
 public:
  Metrics();
  void attempt(http::Outcome outcome, double seconds);
  void retry_scheduled() { retries_->Increment(); }
  void dead_letter() { dead_letters_->Increment(); }
  void not_attempted() { not_attempted_->Increment(); }
  void endpoint_paused() { paused_->Increment(); }
  void offset_reset() { offset_resets_->Increment(); }
  void deferred() { deferred_->Increment(); }
  void filtered(std::size_t deliveries) { filtered_->Increment(static_cast<double>(deliveries)); }
  void permanent_failure() { permanent_failures_->Increment(); }
  // One delivery log script call of `entries` entries: answered, or why not.
  void delivery_log_call(std::size_t entries, const store::StoreError* failure);
  // Rate limits: deliveries held back at limited endpoints (each shard adds its change), slot
  // batches taken from Redis, deliveries parked because a limited endpoint's backlog was full.
  void rate_limit_backlog_change(double change) { rate_limit_backlog_->Increment(change); }
  void rate_limit_reservation() { rate_limit_reservations_->Increment(); }
  void rate_limit_parked() { rate_limit_parked_->Increment(); }
  void attempt_started() { in_flight_->Increment(); }
  void attempt_finished() { in_flight_->Decrement(); }
  void set_pending_records(double n) { pending_records_->Set(n); }
  // Per topic; topics missing from `by_topic` (no longer assigned here) read 0.
  void set_consumer_lag(const std::map<std::string, std::int64_t>& by_topic);
  void set_paused_endpoints(std::int64_t n) { paused_now_->Set(static_cast<double>(n)); }
  std::string serialize() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* attempts_;
  // One counter per outcome, registered up front: Family::Add hashes the labels under a mutex.
  std::array<prometheus::Counter*, http::kOutcomeCount> attempts_by_outcome_{};
  prometheus::Histogram* latency_;
  prometheus::Counter* retries_;
  prometheus::Counter* dead_letters_;
  prometheus::Counter* not_attempted_;
  prometheus::Counter* paused_;
  prometheus::Counter* offset_resets_;
  prometheus::Counter* deferred_;
  prometheus::Counter* filtered_;
  prometheus::Counter* permanent_failures_;
  prometheus::Counter* log_calls_answered_;
  prometheus::Counter* log_calls_unanswered_;
  prometheus::Counter* log_calls_refused_;
  prometheus::Counter* log_entries_;
  prometheus::Gauge* rate_limit_backlog_;
  prometheus::Counter* rate_limit_reservations_;
  prometheus::Counter* rate_limit_parked_;
  prometheus::Gauge* in_flight_;
  prometheus::Gauge* pending_records_;
  prometheus::Family<prometheus::Gauge>* lag_;
  std::map<std::string, prometheus::Gauge*, std::less<>> lag_by_topic_;  // consumer thread only
  prometheus::Gauge* paused_now_;
};

}  // namespace hookstream::dispatcher
