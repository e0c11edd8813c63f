#pragma once
// Events (SPEC §2): what a producer publishes and what endpoints receive.
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.hpp"
#include "common/ids.hpp"
#include "common/result.hpp"
#include "common/time.hpp"

namespace hookstream {

inline constexpr std::string_view kDefaultEventTypes =
    "submission.completed,submission.updated,contact.created,contact.updated,"
    "intake-bot.status-changed";
// Sent only by test pings; never publishable, always deliverable.
inline constexpr std::string_view kTestPingType = "test.ping";
inline constexpr std::string_view kDefaultSource = "hookstream";
inline constexpr std::size_t kMaxEventTypeLength = 128;
inline constexpr std::size_t kMaxEventIdLength = 128;
inline constexpr std::size_t kMaxTenantLength = 64;

struct Event {
  std::string id;
  std::string type;
  std::string source;
  std::string tenant;
  TimePoint time;
  // The event's data as JSON text (an object): kept verbatim from the API, the producer library
  // and binary-mode records; structured mode's `data` member re-serialised compactly.
  std::string data;
  std::optional<std::string> partition_key;
};

// What a caller supplies; the rest is filled in.
struct EventInput {
  std::string tenant{};
  std::string type{};
  std::string data{};
  std::optional<std::string> id{};
  std::optional<std::string> source{};
  std::optional<TimePoint> time{};
};

// Why an event was refused: `field` names the input field, `too_large` maps to HTTP 413.
struct EventProblem {
  std::string field;
  std::string message;
  bool too_large = false;
};

class EventCatalog {
 public:
  explicit EventCatalog(const std::vector<std::string>& types)
      : types_(types.begin(), types.end()) {}
  bool contains(std::string_view type) const { return types_.contains(std::string(type)); }
  const std::set<std::string>& types() const { return types_; }

 private:
  std::set<std::string> types_;
};

Result<void> validate_event_type_syntax(std::string_view type);
Result<void> validate_event_id(std::string_view id);
Result<void> validate_tenant_id(std::string_view tenant);
// `data` must be a JSON object of at most `max_bytes`.
Result<void, EventProblem> validate_event_data(std::string_view data, std::size_t max_bytes);

// Validates `input` against the catalog and limits, and fills id, source and time.
Result<Event, EventProblem> make_event(EventInput input, const EventsConfig& config,
                                       const EventCatalog& catalog, const IdGenerator& ids,
                                       const Clock& clock);

// Checks an event decoded from Kafka: ids, type syntax and tenant. The catalog is not consulted
// here, so events of a type removed from the catalog still reach their subscribers.
Result<void, EventProblem> validate_decoded_event(const Event& event);

// The body POSTed to endpoints, built once per event:
// {"id":"evt_…","type":"…","timestamp":"2026-03-05T12:00:00.000Z","data":{…}}
std::string webhook_payload(const Event& event);

}  // namespace hookstream
