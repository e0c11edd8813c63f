#pragma once
// How the dispatcher logs what it settled. DeliveryLogWriter is the narrow interface the engine
// depends on (tests give it a fake); BatchedDeliveryLog is the real one: every entry settled in
// one tick of its executor goes to Redis in one script call (DeliveryLog::record_batch), and each
// caller resumes with its own entry's answer once that call was answered. Nothing is acknowledged
// before Redis answered, so a record's offset is committed only after the batch that logged it.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/asio.hpp"
#include "common/completion.hpp"
#include "common/store/delivery_log.hpp"

namespace hookstream::store {

class DeliveryLogWriter {
 public:
  virtual ~DeliveryLogWriter() = default;
  // The webhook's health after the entry was logged, or why it was not (then nothing of it was
  // logged, or it was and sending it again changes nothing: counting is idempotent). The entry is
  // taken once logged; on a failure it is as it was given, for the caller to send again (not a
  // copy kept per delivery against the rare failure). It must outlive the awaitable.
  virtual asio::awaitable<Result<WebhookHealth, StoreError>> record(AttemptUpdate& update) = 0;
};

struct BatchLimits {
  std::size_t max_entries = 4096;       // per script call
  std::size_t max_calls_in_flight = 2;  // calls sent and not answered; more entries wait and batch
  // Successes wait up to `linger` for `full_batch` entries to gather: two thirds of a script
  // call's Redis time is its fixed part (dispatch, argument set-up, the webhook's health read and
  // index write), so twelve-entry calls cost ~20 us of Redis per entry where fifty-entry calls
  // cost far less. Nobody waits on a success's entry but its record's offset (the POST was
  // answered, the endpoint's worker went on). Any other entry goes at once with what gathered: a
  // failure's worker waits for it, so that the failure that pauses an endpoint counts before the
  // next attempt.
  Millis linger{5};
  std::size_t full_batch = 128;
  // A call costs Redis one command per entry plus three per webhook it touches (the health read,
  // the index check and the index write). A fan-out batch spreads over many webhooks, one entry
  // each, so it costs four commands an entry: once it touches `many_webhooks` or more, it gathers
  // (up to `sparse_linger` or `max_entries`) until it holds `entries_per_webhook` entries per
  // webhook (four: 1 + 3/4 commands an entry; 1,000 webhooks' four fit in `max_entries`).
  std::size_t many_webhooks = 64;
  std::size_t entries_per_webhook = 4;
  Millis sparse_linger{250};
};

// What each script call came to, for metrics: its entries, and why it failed (null: answered).
using WriteObserver = std::function<void(std::size_t entries, const StoreError* failure)>;

// One per executor (thread), like the Redis client it writes through. A call Redis refuses (out of
// memory, a read-only replica, a script error) fails its entries, which their callers send again;
// the first refusal of a series is logged as an error with Redis' message, and its end as info.
class BatchedDeliveryLog final : public DeliveryLogWriter {
 public:
  BatchedDeliveryLog(asio::any_io_executor executor, DeliveryLog& log, BatchLimits limits = {},
                     WriteObserver observe = {});

  asio::awaitable<Result<WebhookHealth, StoreError>> record(AttemptUpdate& update) override;

  std::size_t calls_sent() const { return calls_sent_; }
  std::size_t entries_sent() const { return entries_sent_; }

 private:
  using Answer = Result<WebhookHealth, StoreError>;
  // Entries, where each came from (given back there if its call fails) and their callers'
  // completions, in the same order.
  struct Batch {
    std::vector<AttemptUpdate> updates;
    std::vector<AttemptUpdate*> origins;
    std::vector<Completion<Answer>> answers;
    std::size_t size() const { return updates.size(); }
    bool empty() const { return updates.empty(); }
    // The first `n` entries; all of them without moving an entry (the usual case).
    Batch take_front(std::size_t n);
  };
  void schedule_flush();
  // Whether what is waiting is worth a call now that it lingered (or is full).
  bool dense() const;
  void arm_linger();
  void flush();
  asio::awaitable<void> send(Batch batch);
  void note(std::size_t entries, const StoreError* failure);

  asio::any_io_executor executor_;
  DeliveryLog& log_;
  BatchLimits limits_;
  Batch waiting_;  // to be sent
  std::unordered_map<std::string, std::size_t> waiting_per_webhook_;
  std::chrono::steady_clock::time_point gathering_since_{};  // when waiting_ stopped being empty
  asio::steady_timer linger_;
  bool linger_armed_ = false;
  bool send_now_ = false;  // an entry that is waited on, or one that lingered long enough
  bool flush_posted_ = false;
  std::size_t in_flight_ = 0;
  std::size_t calls_sent_ = 0;
  std::size_t entries_sent_ = 0;
  WriteObserver observe_;
  std::size_t refused_in_a_row_ = 0;  // calls refused since the last one answered
};

}  // namespace hookstream::store
