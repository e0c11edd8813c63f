#include "dispatcher/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace hookstream::dispatcher {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  attempts_ = &prometheus::BuildCounter()
                   .Name("hookstream_delivery_attempts_total")
                   .Help("Delivery attempts by outcome (success, http_error, timeout, …)")
                   .Register(*registry_);
  for (std::size_t i = 0; i < http::kOutcomeCount; ++i)
    attempts_by_outcome_[i] =
        &attempts_->Add({{"outcome", std::string(http::to_string(static_cast<http::Outcome>(i)))}});
  latency_ =
      &prometheus::BuildHistogram()
           .Name("hookstream_delivery_attempt_duration_seconds")
           .Help("Duration of one delivery attempt")
           .Register(*registry_)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                            0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  auto counter = [&](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry_).Add({});
  };
  retries_ = counter("hookstream_retries_scheduled_total", "Retries written to a retry topic");
  dead_letters_ = counter("hookstream_dead_letters_total", "Records sent to <prefix>.dead");
  not_attempted_ =
      counter("hookstream_deliveries_not_attempted_total",
              "Deliveries logged as failed because the endpoint is paused or disabled");
  paused_ =
      counter("hookstream_endpoints_paused_total", "Endpoints paused after failing repeatedly");
  offset_resets_ = counter("hookstream_consumer_offset_resets_total",
                           "Committed offsets found gone (retention): records were lost");
  deferred_ = counter("hookstream_deliveries_deferred_total",
                      "Deliveries parked untried in a retry tier because their endpoint was "
                      "stalled");
  filtered_ =
      counter("hookstream_deliveries_filtered_total",
              "Deliveries not created because the webhook's filter did not match the event");
  permanent_failures_ = counter(
      "hookstream_permanent_write_failures_total",
      "Writes Redis or Kafka refused for good (a dead letter skipped, a retry that could not be "
      "queued and was logged as failed, a delivery log entry lost); each is logged as an error");
  auto& log_calls = prometheus::BuildCounter()
                        .Name("hookstream_delivery_log_calls_total")
                        .Help(
                            "Delivery log script calls (one per batch) by result: answered, "
                            "no_answer (Redis down or slow), refused (Redis said no: out of "
                            "memory, a read-only replica, a script error; logged as an error)")
                        .Register(*registry_);
  log_calls_answered_ = &log_calls.Add({{"result", "answered"}});
  log_calls_unanswered_ = &log_calls.Add({{"result", "no_answer"}});
  log_calls_refused_ = &log_calls.Add({{"result", "refused"}});
  log_entries_ = counter("hookstream_delivery_log_entries_total",
                         "Entries sent in delivery log script calls (a failed call's are sent "
                         "again and counted again)");
  rate_limit_reservations_ =
      counter("hookstream_rate_limit_reservations_total",
              "Batches of send slots of rate-limited endpoints taken from Redis");
  rate_limit_parked_ =
      counter("hookstream_rate_limit_parked_total",
              "Deliveries parked untried in a retry tier because their rate-limited endpoint's "
              "backlog here was full (HOOKSTREAM_RATE_LIMIT_BACKLOG); logged as pending");
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_).Add({});
  };
  rate_limit_backlog_ = gauge("hookstream_rate_limit_backlog",
                              "Deliveries waiting in this process for a rate-limited endpoint's "
                              "send slots (parked ones excluded)");
  in_flight_ = gauge("hookstream_deliveries_in_flight", "Delivery attempts in progress");
  pending_records_ = gauge("hookstream_consumer_pending_records",
                           "Records read from Kafka and not yet finished (uncommitted)");
  paused_now_ = gauge("hookstream_endpoints_paused",
                      "Endpoints paused now, in every tenant (the same figure on every replica)");
  lag_ = &prometheus::BuildGauge()
              .Name("hookstream_consumer_lag")
              .Help(
                  "Records of this replica's partitions not finished yet: the high watermark "
                  "minus the offset the next commit would carry, summed per topic")
              .Register(*registry_);
}

void Metrics::set_consumer_lag(const std::map<std::string, std::int64_t>& by_topic) {
  for (auto& [topic, gauge] : lag_by_topic_)
    if (!by_topic.contains(topic)) gauge->Set(0);
  for (const auto& [topic, lag] : by_topic) {
    auto it = lag_by_topic_.find(topic);
    if (it == lag_by_topic_.end())
      it = lag_by_topic_.emplace(topic, &lag_->Add({{"topic", topic}})).first;
    it->second->Set(static_cast<double>(lag));
  }
}

void Metrics::attempt(http::Outcome outcome, double seconds) {
  attempts_by_outcome_[static_cast<std::size_t>(outcome)]->Increment();
  latency_->Observe(seconds);
}

void Metrics::delivery_log_call(std::size_t entries, const store::StoreError* failure) {
  log_entries_->Increment(static_cast<double>(entries));
  if (failure == nullptr)
    log_calls_answered_->Increment();
  else if (failure->code == store::StoreErrc::refused)
    log_calls_refused_->Increment();
  else
    log_calls_unanswered_->Increment();
}

std::string Metrics::serialize() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace hookstream::dispatcher
