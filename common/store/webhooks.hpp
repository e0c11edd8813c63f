#pragma once
// Webhooks (subscriptions) in Redis. Every write bumps hs:webhooks:version and publishes the
// tenant on hs:changes in the same transaction, so dispatchers refresh their caches within 1 s.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/asio.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/redis/client.hpp"
#include "common/result.hpp"
#include "common/secret_box.hpp"
#include "common/store/errors.hpp"
#include "common/time.hpp"

namespace hookstream::store {

enum class WebhookStatus { active, paused, disabled };
std::string_view to_string(WebhookStatus s);
std::optional<WebhookStatus> parse_webhook_status(std::string_view text);

inline constexpr std::string_view kAllEvents = "*";
inline constexpr std::chrono::hours kSecretRotationOverlap{24};
// A webhook's rate_limit: attempts per second (SPEC §3).
inline constexpr int kMinRateLimit = 1;
inline constexpr int kMaxRateLimit = 10000;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Webhook {
  std::string id;
  std::string tenant;
  std::string url;
  std::vector<std::string> events;  // types from the catalog, or "*"
  std::string description;
  HeaderList headers;  // custom headers sent on every delivery
  WebhookStatus status = WebhookStatus::active;
  std::int64_t consecutive_fails = 0;
  std::optional<TimePoint> last_delivery_at;
  std::optional<bool> last_delivery_ok;
  TimePoint created_at;
  TimePoint updated_at;
  std::string secret;
  std::optional<std::string> previous_secret;  // still signs until previous_secret_expires_at
  std::optional<TimePoint> previous_secret_expires_at;
  // The content filter (SPEC §4) as compact JSON, as the API validated it; none: every event of
  // the subscribed types.
  std::optional<std::string> filter{};
  // At most this many attempts per second, summed over every dispatcher (SPEC §4); none: no limit.
  std::optional<int> rate_limit{};

  bool subscribes_to(std::string_view type) const;
  // The secrets that sign a delivery at `now`: current first, then one rotating out.
  std::vector<std::string> signing_secrets(TimePoint now) const;
  // When signing_secrets(now) next changes (the rotating-out secret stops), if it will.
  std::optional<TimePoint> signing_secrets_change_at(TimePoint now) const;
};

struct NewWebhook {
  std::string tenant;
  std::string url;
  std::vector<std::string> events;
  std::string description;
  HeaderList headers;
  bool active = true;
  std::optional<std::string> secret;    // generated when absent
  std::optional<std::string> filter{};  // compact JSON
  std::optional<int> rate_limit{};      // attempts per second
};

struct WebhookPatch {
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;
  std::optional<std::string> description;
  std::optional<HeaderList> headers;
  std::optional<bool> is_active;
  // Given: the new filter (compact JSON), or nullopt inside to remove it.
  std::optional<std::optional<std::string>> filter{};
  // Given: the new limit, or nullopt inside to remove it.
  std::optional<std::optional<int>> rate_limit{};
};

struct WebhookPage {
  std::vector<Webhook> webhooks;
  std::optional<std::string> next_cursor;
};

// What reseal_all() did.
struct ResealReport {
  std::size_t resealed = 0;         // values rewritten under the current key
  std::size_t plaintext = 0;        // of those, legacy plaintext values now encrypted
  std::size_t already_current = 0;  // values already sealed under the current key
  std::size_t failed = 0;           // values that did not open (unknown key, tampered): left as is
};

// Signing secrets (`secret`, `previous_secret`) are stored sealed by `keyring` (common/secret_box),
// with the webhook id as associated data. Reads also accept a legacy plaintext "whsec_…" value
// (written before encryption at rest); reseal_all() encrypts those.
class WebhookStore {
 public:
  WebhookStore(redis::Client& redis, const Clock& clock, Random& random,
               const SecretKeyring& keyring)
      : redis_(redis), clock_(clock), random_(random), keyring_(keyring), ids_(clock, random) {}

  asio::awaitable<Result<Webhook, StoreError>> create(NewWebhook in);
  // not_found for an unknown id and for another tenant's webhook alike.
  asio::awaitable<Result<Webhook, StoreError>> get(std::string_view tenant, std::string_view id);
  // In creation order; `cursor` is the last id of the previous page.
  asio::awaitable<Result<WebhookPage, StoreError>> list(std::string_view tenant,
                                                        std::optional<std::string> cursor,
                                                        std::size_t limit);
  asio::awaitable<Result<Webhook, StoreError>> update(std::string_view tenant, std::string_view id,
                                                      const WebhookPatch& patch);
  asio::awaitable<Result<void, StoreError>> remove(std::string_view tenant, std::string_view id);
  // A new secret; the old one keeps signing for kSecretRotationOverlap.
  asio::awaitable<Result<Webhook, StoreError>> rotate_secret(std::string_view tenant,
                                                             std::string_view id);
  // Every webhook of a tenant in one round trip (the dispatcher's subscription cache).
  asio::awaitable<Result<std::vector<Webhook>, StoreError>> load_tenant(std::string_view tenant);
  // How many webhooks are paused now, in every tenant (the hookstream_endpoints_paused gauge).
  asio::awaitable<Result<std::int64_t, StoreError>> count_paused();
  // The tenant's webhooks.
  asio::awaitable<Result<std::int64_t, StoreError>> count(std::string_view tenant);
  // Whether Redis answers (readiness).
  asio::awaitable<bool> reachable();
  // Rewrites every stored secret not sealed under the keyring's current key (key rotation, and
  // the upgrade from plaintext). Safe while the API and dispatchers run: each value is replaced
  // only if it is still the one read.
  asio::awaitable<Result<ResealReport, StoreError>> reseal_all();

 private:
  asio::awaitable<Result<std::int64_t, StoreError>> cardinality(std::vector<std::string> command);
  redis::Client& redis_;
  const Clock& clock_;
  Random& random_;
  const SecretKeyring& keyring_;
  IdGenerator ids_;
};

}  // namespace hookstream::store
