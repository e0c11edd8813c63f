#pragma once
// Who is calling: the API key from "Authorization: Bearer <key>" or "X-API-Key: <key>", looked up
// by hash in Redis. Looked-up keys are cached for key_cache_ttl (≤ 60 s), which bounds how long a
// revoked key keeps working on other replicas; this replica forgets a key it revokes at once.
#include <optional>
#include <string_view>
#include <unordered_map>

#include "api/errors.hpp"
#include "common/clock.hpp"
#include "common/store/api_keys.hpp"

namespace hookstream::api {

std::optional<std::string_view> presented_key(const Request& req);

class Authenticator {
 public:
  Authenticator(store::ApiKeyStore& keys, const Clock& clock, Millis cache_ttl)
      : keys_(keys), clock_(clock), cache_ttl_(cache_ttl) {}

  // The caller's key, or authentication_required / service_unavailable.
  asio::awaitable<Result<store::ApiKey, ApiError>> authenticate(const Request& req);
  void forget(std::string_view key_id);

 private:
  struct Cached {
    store::ApiKey key;
    TimePoint fetched_at;
  };
  static constexpr std::size_t kMaxCached = 10'000;
  store::ApiKeyStore& keys_;
  const Clock& clock_;
  Millis cache_ttl_;
  std::unordered_map<std::string, Cached> cache_;  // by key hash
};

}  // namespace hookstream::api
