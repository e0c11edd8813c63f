#include "common/store/delivery_log_writer.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace hookstream::store {

BatchedDeliveryLog::BatchedDeliveryLog(asio::any_io_executor executor, DeliveryLog& log,
                                       BatchLimits limits)
    : executor_(std::move(executor)), log_(log), limits_(limits), linger_(executor_) {}

// A coroutine, so that `update` stays in its frame while the initiation runs and is captured by
// reference: captured by value, the whole entry moved along with the initiation through
// async_initiate, ~30 moves per entry (callgrind).
asio::awaitable<Result<WebhookHealth, StoreError>> BatchedDeliveryLog::record(
    AttemptUpdate update) {
  co_return co_await await_completion<Answer>([this, &update](Completion<Answer> done) {
    if (!update.success) send_now_ = true;
    if (updates_.empty()) gathering_since_ = std::chrono::steady_clock::now();
    ++waiting_per_webhook_[update.webhook_id];
    updates_.push_back(std::move(update));
    answers_.push_back(std::move(done));
    schedule_flush();
  });
}

// A flush is posted behind the work already queued, so the entries settled in this tick go
// together; while the in-flight calls are unanswered, or successes linger, entries keep gathering.
void BatchedDeliveryLog::schedule_flush() {
  if (flush_posted_ || updates_.empty() || in_flight_ >= limits_.max_calls_in_flight) return;
  const bool full =
      updates_.size() >= limits_.max_entries || (updates_.size() >= limits_.full_batch && dense());
  if (!send_now_ && !full) {
    arm_linger();
    return;
  }
  flush_posted_ = true;
  asio::post(executor_, [this] {
    flush_posted_ = false;
    flush();
  });
}

bool BatchedDeliveryLog::dense() const {
  const auto webhooks = waiting_per_webhook_.size();
  return webhooks < limits_.many_webhooks ||
         updates_.size() >= limits_.entries_per_webhook * webhooks;
}

void BatchedDeliveryLog::arm_linger() {
  if (linger_armed_) return;
  linger_armed_ = true;
  linger_.expires_after(limits_.linger);
  linger_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // the writer is going away
    linger_armed_ = false;
    if (updates_.empty()) return;
    if (!dense() && std::chrono::steady_clock::now() - gathering_since_ < limits_.sparse_linger) {
      arm_linger();
      return;
    }
    send_now_ = true;
    schedule_flush();
  });
}

void BatchedDeliveryLog::flush() {
  while (!updates_.empty() && in_flight_ < limits_.max_calls_in_flight) {
    const auto n = std::min(updates_.size(), limits_.max_entries);
    Batch batch;
    if (n == updates_.size()) {  // the usual case: all of it, without moving an entry
      batch.updates.swap(updates_);
      batch.answers.swap(answers_);
      updates_.reserve(n);
      answers_.reserve(n);
    } else {
      const auto end = static_cast<long>(n);
      batch.updates.assign(std::make_move_iterator(updates_.begin()),
                           std::make_move_iterator(updates_.begin() + end));
      batch.answers.assign(std::make_move_iterator(answers_.begin()),
                           std::make_move_iterator(answers_.begin() + end));
      updates_.erase(updates_.begin(), updates_.begin() + end);
      answers_.erase(answers_.begin(), answers_.begin() + end);
    }
    for (const auto& u : batch.updates) {
      const auto it = waiting_per_webhook_.find(u.webhook_id);
      if (--it->second == 0) waiting_per_webhook_.erase(it);
    }
    if (!updates_.empty()) gathering_since_ = std::chrono::steady_clock::now();
    ++in_flight_;
    ++calls_sent_;
    entries_sent_ += n;
    asio::co_spawn(executor_, send(std::move(batch)), log::on_exception("delivery log batch"));
  }
  if (updates_.empty()) send_now_ = false;
}

asio::awaitable<void> BatchedDeliveryLog::send(Batch batch) {
  // A failed call fails every entry; their callers send them again (counting is idempotent).
  auto answer = co_await log_.record_batch(batch.updates);
  --in_flight_;
  for (std::size_t i = 0; i < batch.answers.size(); ++i) {
    if (answer)
      std::move(batch.answers[i])(Answer((*answer)[i]));
    else
      std::move(batch.answers[i])(Answer(fail(answer.error())));
  }
  if (!updates_.empty()) schedule_flush();
}

}  // namespace hookstream::store
