#pragma once
// The delivery log (SPEC §3, §4): one record per (event, webhook) with its attempts, indexed per
// webhook newest first, bounded per webhook and by age (formats: delivery_record.hpp). Logging
// attempts also updates each webhook's health (consecutive_fails, last_delivery_*, automatic
// pause, 410 → disabled) and keeps the events, in the same script: the dispatcher logs everything
// it settled in one tick with one call (delivery_log_writer.hpp).
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/event.hpp"
#include "common/redis/client.hpp"
#include "common/store/delivery_record.hpp"
#include "common/store/errors.hpp"
#include "common/store/webhooks.hpp"

namespace hookstream::store {

enum class LogEntryKind {
  attempt,        // an attempt was made: it counts for the endpoint's health
  not_attempted,  // the endpoint was paused, disabled or unsubscribed: logged, not counted
  deferred,       // parked untried in a retry tier (a stalled endpoint): pending, no attempt
};

// What one finished attempt (or a decision not to attempt, or to defer) changes.
struct AttemptUpdate {
  LogEntryKind kind = LogEntryKind::attempt;
  std::string delivery_id;
  std::string webhook_id;
  std::string tenant;
  std::string event_id;
  std::string event_type;
  TimePoint created_at;  // used only when the delivery record is new
  DeliveryStatus status = DeliveryStatus::pending;
  AttemptRecord attempt;  // deferred: the number of the attempt it will make, and when
  std::optional<TimePoint> next_retry_at;
  bool success = false;
  bool disable_endpoint = false;       // the endpoint answered 410 Gone
  std::shared_ptr<const Event> event;  // kept for redelivery with the entry (null: not kept)
};

struct WebhookHealth {
  bool webhook_exists = true;
  WebhookStatus status = WebhookStatus::active;
  std::int64_t consecutive_fails = 0;
  bool status_changed = false;  // this attempt paused or disabled the webhook
};

struct DeliveryLogLimits {
  std::size_t max_per_webhook = 1000;
  Millis retention{7LL * 24 * 3600 * 1000};
  std::int64_t pause_after_failures = 10;
};

struct DeliveryPage {
  std::vector<Delivery> deliveries;
  std::optional<std::string> next_cursor;
};

class DeliveryLog {
 public:
  DeliveryLog(redis::Client& redis, DeliveryLogLimits limits) : redis_(redis), limits_(limits) {}

  // Logs every entry in one script call (lua/record_deliveries.lua), its events kept by an HSET
  // and its first attempts' records by SET NX written ahead of it in the same round trip (a
  // record written before without its attempt takes a second call to merge);
  // answers each entry's webhook health after it, in order. An entry whose attempt is logged
  // already (sent again after a timeout) changes nothing and is not counted again. Entries of a
  // deleted webhook are not logged (webhook_exists is false).
  // `entries` must outlive the awaitable.
  asio::awaitable<Result<std::vector<WebhookHealth>, StoreError>> record_batch(
      const std::vector<AttemptUpdate>& entries);
  asio::awaitable<Result<WebhookHealth, StoreError>> record(AttemptUpdate update);
  // The event of a delivery, as it was published, for a redelivery.
  asio::awaitable<Result<Event, StoreError>> load_event(const Delivery& delivery);
  // The events of many deliveries (recover), in order, read in one round trip (events kept by a
  // dispatcher before 0.3 are read one by one). The call fails as a whole when Redis does not
  // answer; an event no longer kept is not_found in its place.
  asio::awaitable<Result<std::vector<Result<Event, StoreError>>, StoreError>> load_events(
      const std::vector<Delivery>& deliveries);

  // Newest first. `cursor` is opaque (from next_cursor).
  asio::awaitable<Result<DeliveryPage, StoreError>> list(std::string_view webhook_id,
                                                         std::optional<std::string> cursor,
                                                         std::size_t limit,
                                                         std::optional<DeliveryStatus> status);
  // not_found unless the delivery belongs to this webhook.
  asio::awaitable<Result<Delivery, StoreError>> get(std::string_view webhook_id,
                                                    std::string_view delivery_id);
  // Marks deliveries of this webhook that failed for good (or also succeeded, `finished`) as
  // queued again (pending, due `now`), so that a second recover or redeliver does not queue them
  // twice; returns the ids it changed.
  enum class Requeue { failed, finished };
  asio::awaitable<Result<std::vector<std::string>, StoreError>> mark_requeued(
      std::string_view webhook_id, std::vector<std::string> delivery_ids, TimePoint now,
      Requeue which = Requeue::failed);
  // Gives those of one mark_requeued call (same `now`) whose attempt was not queued their status
  // back.
  asio::awaitable<Result<std::vector<std::string>, StoreError>> unmark_requeued(
      std::string_view webhook_id, std::vector<std::string> delivery_ids, TimePoint now);

 private:
  // One call of the record script: the entries at `positions`, in that order.
  struct ScriptCall {
    const std::vector<AttemptUpdate>& entries;
    const std::string& bucket;  // where the batch's events are kept
    TimePoint now;
    std::vector<std::size_t> positions;
    std::vector<bool> check;  // per entry: count and age its webhook's index
    // Per entry: its record passed to the script. Otherwise a first attempt's record is written
    // by SET NX ahead of the script, in the same round trip (lua/record_deliveries.lua).
    std::vector<bool> with_record;
  };
  // Runs it, `before` sent ahead in the same round trip; sets the health of the entries it was
  // given. Returns, per webhook whose entries it stopped at a record to merge, that entry.
  asio::awaitable<Result<std::vector<std::size_t>, StoreError>> run_record_script(
      const ScriptCall& call, std::vector<std::vector<std::string>> before,
      std::vector<WebhookHealth>& out);
  asio::awaitable<Result<Event, StoreError>> load_legacy_event(const Delivery& delivery);
  // Whether this entry should count and age the webhook's index: every max_per_webhook/16th
  // (at most every 64th) new delivery a writer logs for it, counted in buckets of webhook ids.
  bool check_bound(std::string_view webhook_id);

  redis::Client& redis_;
  DeliveryLogLimits limits_;
  std::array<std::uint32_t, 1024> logged_per_bucket_{};
};

}  // namespace hookstream::store
