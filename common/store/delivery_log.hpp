#pragma once
// The delivery log (SPEC §3, §4): one record per (event, webhook) with its attempts, indexed per
// webhook newest first, bounded per webhook and by age. Recording an attempt also updates the
// webhook's health (consecutive_fails, last_delivery_*, automatic pause, 410 → disabled) in the
// same script, so a delivery costs one Redis round trip.
#include <optional>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/event.hpp"
#include "common/redis/client.hpp"
#include "common/store/errors.hpp"
#include "common/store/webhooks.hpp"

namespace hookstream::store {

enum class DeliveryStatus { pending, succeeded, failed };
std::string_view to_string(DeliveryStatus s);
std::optional<DeliveryStatus> parse_delivery_status(std::string_view text);

struct AttemptRecord {
  int number = 0;
  TimePoint at;
  std::string outcome;  // http::Outcome name, or "not_attempted"
  int response_status = 0;
  std::string response_body;  // ≤ 1 KiB
  std::string error;
  std::int64_t duration_ms = 0;
};

struct Delivery {
  std::string id;
  std::string webhook_id;
  std::string tenant;
  std::string event_id;
  std::string event_type;
  DeliveryStatus status = DeliveryStatus::pending;
  int attempt_count = 0;
  int response_status = 0;
  std::string last_error;
  std::optional<TimePoint> delivered_at;
  std::optional<TimePoint> next_retry_at;
  TimePoint created_at;
  std::vector<AttemptRecord> attempts;  // filled by get()
};

// What one finished attempt (or a decision not to attempt) changes.
struct AttemptUpdate {
  std::string delivery_id;
  std::string webhook_id;
  std::string tenant;
  std::string event_id;
  std::string event_type;
  TimePoint created_at;  // used only when the delivery record is new
  DeliveryStatus status = DeliveryStatus::pending;
  AttemptRecord attempt;
  std::optional<TimePoint> next_retry_at;
  bool counts_for_health = true;  // false for deliveries not attempted
  bool success = false;
  bool disable_endpoint = false;  // the endpoint answered 410 Gone
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

// A delivery's id is derived from (tenant, event, webhook), so an event consumed twice (after a
// crash) updates the same record instead of creating a second one.
std::string delivery_id_for(std::string_view tenant, std::string_view event_id,
                            std::string_view webhook_id);

class DeliveryLog {
 public:
  DeliveryLog(redis::Client& redis, DeliveryLogLimits limits) : redis_(redis), limits_(limits) {}

  asio::awaitable<Result<WebhookHealth, StoreError>> record(const AttemptUpdate& update);
  // Keeps the event (type, source, time, data) for redelivery, as long as deliveries are kept.
  asio::awaitable<Result<void, StoreError>> keep_event(const Event& event);
  asio::awaitable<Result<Event, StoreError>> load_event(std::string_view tenant,
                                                        std::string_view event_id);

  // Newest first. `cursor` is opaque (from next_cursor).
  asio::awaitable<Result<DeliveryPage, StoreError>> list(std::string_view webhook_id,
                                                         std::optional<std::string> cursor,
                                                         std::size_t limit,
                                                         std::optional<DeliveryStatus> status);
  // not_found unless the delivery belongs to this webhook.
  asio::awaitable<Result<Delivery, StoreError>> get(std::string_view webhook_id,
                                                    std::string_view delivery_id);

 private:
  redis::Client& redis_;
  DeliveryLogLimits limits_;
};

}  // namespace hookstream::store
