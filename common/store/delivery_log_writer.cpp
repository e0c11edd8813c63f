#include "common/store/delivery_log_writer.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace hookstream::store {

BatchedDeliveryLog::BatchedDeliveryLog(asio::any_io_executor executor, DeliveryLog& log,
                                       BatchLimits limits, WriteObserver observe)
    : executor_(std::move(executor)),
      log_(log),
      limits_(limits),
      linger_(executor_),
      observe_(std::move(observe)) {}

// The initiation captures `update` by reference (by value, the whole entry moved along with the
// initiation through async_initiate, ~30 moves per entry, callgrind). The caller's entry is moved
// into the batch, and moved back if the batch's call fails.
asio::awaitable<Result<WebhookHealth, StoreError>> BatchedDeliveryLog::record(
    AttemptUpdate& update) {
  co_return co_await await_completion<Answer>([this, &update](Completion<Answer> done) {
    if (!update.success) send_now_ = true;
    if (waiting_.empty()) gathering_since_ = std::chrono::steady_clock::now();
    ++waiting_per_webhook_[update.webhook_id];
    waiting_.updates.push_back(std::move(update));
    waiting_.origins.push_back(&update);
    waiting_.answers.push_back(std::move(done));
    schedule_flush();
  });
}

// A flush is posted behind the work already queued, so the entries settled in this tick go
// together; while the in-flight calls are unanswered, or successes linger, entries keep gathering.
void BatchedDeliveryLog::schedule_flush() {
  if (flush_posted_ || waiting_.empty() || in_flight_ >= limits_.max_calls_in_flight) return;
  const bool full =
      waiting_.size() >= limits_.max_entries || (waiting_.size() >= limits_.full_batch && dense());
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
         waiting_.size() >= limits_.entries_per_webhook * webhooks;
}

void BatchedDeliveryLog::arm_linger() {
  if (linger_armed_) return;
  linger_armed_ = true;
  linger_.expires_after(limits_.linger);
  linger_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // the writer is going away
    linger_armed_ = false;
    if (waiting_.empty()) return;
    if (!dense() && std::chrono::steady_clock::now() - gathering_since_ < limits_.sparse_linger) {
      arm_linger();
      return;
    }
    send_now_ = true;
    schedule_flush();
  });
}

void BatchedDeliveryLog::flush() {
  while (!waiting_.empty() && in_flight_ < limits_.max_calls_in_flight) {
    const auto n = std::min(waiting_.size(), limits_.max_entries);
    auto batch = waiting_.take_front(n);
    for (const auto& u : batch.updates) {
      const auto it = waiting_per_webhook_.find(u.webhook_id);
      if (--it->second == 0) waiting_per_webhook_.erase(it);
    }
    if (!waiting_.empty()) gathering_since_ = std::chrono::steady_clock::now();
    ++in_flight_;
    ++calls_sent_;
    entries_sent_ += n;
    asio::co_spawn(executor_, send(std::move(batch)), log::on_exception("delivery log batch"));
  }
  if (waiting_.empty()) send_now_ = false;
}

// A refusal is not an outage (those are the callers' "trying again" warnings): Redis is up and says
// no to every write until someone frees memory or fixes the cause, while the records wait.
void BatchedDeliveryLog::note(std::size_t entries, const StoreError* failure) {
  if (observe_) observe_(entries, failure);
  if (failure != nullptr && failure->code == StoreErrc::refused) {
    if (refused_in_a_row_++ == 0)
      log::error("redis refuses the delivery log's writes; the entries are held and sent again",
                 {{"error", failure->message}, {"entries", entries}});
  } else if (failure == nullptr && refused_in_a_row_ > 0) {
    log::info("redis takes the delivery log's writes again",
              {{"refused_calls", refused_in_a_row_}});
    refused_in_a_row_ = 0;
  }
}

BatchedDeliveryLog::Batch BatchedDeliveryLog::Batch::take_front(std::size_t n) {
  Batch front;
  if (n == size()) {
    std::swap(front, *this);
    updates.reserve(n);
    origins.reserve(n);
    answers.reserve(n);
    return front;
  }
  const auto end = static_cast<long>(n);
  front.updates.assign(std::make_move_iterator(updates.begin()),
                       std::make_move_iterator(updates.begin() + end));
  front.origins.assign(origins.begin(), origins.begin() + end);
  front.answers.assign(std::make_move_iterator(answers.begin()),
                       std::make_move_iterator(answers.begin() + end));
  updates.erase(updates.begin(), updates.begin() + end);
  origins.erase(origins.begin(), origins.begin() + end);
  answers.erase(answers.begin(), answers.begin() + end);
  return front;
}

asio::awaitable<void> BatchedDeliveryLog::send(Batch batch) {
  // A failed call fails every entry; their callers send them again (counting is idempotent).
  auto answer = co_await log_.record_batch(batch.updates);
  --in_flight_;
  note(batch.size(), answer ? nullptr : &answer.error());
  for (std::size_t i = 0; i < batch.answers.size(); ++i) {
    if (answer) {
      std::move(batch.answers[i])(Answer((*answer)[i]));
    } else {
      *batch.origins[i] = std::move(batch.updates[i]);  // its caller sends it again
      std::move(batch.answers[i])(Answer(fail(answer.error())));
    }
  }
  if (!waiting_.empty()) schedule_flush();
}

}  // namespace hookstream::store
