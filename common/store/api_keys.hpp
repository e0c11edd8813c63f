#pragma once
// API keys (SPEC §3): "hsk_live_" + 40 base62 characters, shown once at creation and stored only
// as a SHA-256 hash. Each belongs to one tenant and carries scopes, an optional rate limit and an
// optional expiry. Revoking removes the hash lookup at once; API replicas that cached the key stop
// accepting it when their cache entry ages out (≤ 60 s).
//
// Portal tokens ("hsp_" + 40 base62, POST /v1/portal-sessions) are keys of the same kind: stored
// the same way, with webhook scopes only and an expiry of at most a day, after which Redis drops
// them; they are not listed among the tenant's keys.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/redis/client.hpp"
#include "common/result.hpp"
#include "common/store/errors.hpp"
#include "common/time.hpp"

namespace hookstream::store {

enum class Scope : std::uint8_t {
  webhooks_read,
  webhooks_write,
  events_write,
  keys_manage,
  portal_create
};
inline constexpr Scope kAllScopes[] = {Scope::webhooks_read, Scope::webhooks_write,
                                       Scope::events_write, Scope::keys_manage,
                                       Scope::portal_create};
// "webhooks:read, webhooks:write, …": every scope, for messages.
std::string scope_list();
std::string_view to_string(Scope scope);
std::optional<Scope> parse_scope(std::string_view text);

inline constexpr std::string_view kApiKeyPrefix = "hsk_live_";
inline constexpr std::size_t kApiKeyRandomChars = 40;
inline constexpr std::string_view kPortalTokenPrefix = "hsp_";

struct ApiKey {
  std::string id;
  std::string tenant;
  std::string name;
  std::vector<Scope> scopes;
  std::optional<std::int64_t> rate_limit;  // requests per minute; nullopt = the default
  std::string hash;                        // SHA-256 hex of the whole key
  std::string display_prefix;              // "hsk_live_AbCd" to recognise it in lists
  TimePoint created_at;
  std::optional<TimePoint> expires_at;
  std::optional<TimePoint> revoked_at;
  bool portal = false;  // a portal token

  bool has_scope(Scope s) const;
  bool expired_at(TimePoint now) const { return expires_at && now >= *expires_at; }
};

struct NewApiKey {
  std::string tenant;
  std::string name;
  std::vector<Scope> scopes;
  std::optional<std::int64_t> rate_limit;
  std::optional<TimePoint> expires_at;
};

struct CreatedApiKey {
  ApiKey key;
  std::string secret;  // the plaintext key: returned once, never stored
};

std::string hash_api_key(std::string_view secret);
std::string generate_api_key(Random& random, std::string_view prefix = kApiKeyPrefix);
// An API key's or a portal token's shape.
bool has_api_key_shape(std::string_view secret);

class ApiKeyStore {
 public:
  ApiKeyStore(redis::Client& redis, const Clock& clock, Random& random)
      : redis_(redis), clock_(clock), random_(random), ids_(clock, random) {}

  asio::awaitable<Result<CreatedApiKey, StoreError>> create(NewApiKey key);
  // A portal token: `key.expires_at` is required; Redis forgets the token then.
  asio::awaitable<Result<CreatedApiKey, StoreError>> create_portal_token(NewApiKey key);
  // The key whose hash matches; nullopt for an unknown or revoked key.
  asio::awaitable<Result<std::optional<ApiKey>, StoreError>> find_by_secret(
      std::string_view secret);
  // not_found for an unknown id or another tenant's key (when `tenant` is given).
  asio::awaitable<Result<ApiKey, StoreError>> get(std::optional<std::string_view> tenant,
                                                  std::string_view id);
  asio::awaitable<Result<std::vector<ApiKey>, StoreError>> list(std::string_view tenant);
  asio::awaitable<Result<ApiKey, StoreError>> revoke(std::optional<std::string_view> tenant,
                                                     std::string_view id);

 private:
  CreatedApiKey make_key(NewApiKey in, std::string_view secret_prefix, std::string_view id_prefix,
                         std::vector<std::string>& hset);

  redis::Client& redis_;
  const Clock& clock_;
  Random& random_;
  IdGenerator ids_;
};

}  // namespace hookstream::store
