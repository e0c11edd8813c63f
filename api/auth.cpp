#include "api/auth.hpp"

#include <boost/beast/core/string.hpp>

namespace hookstream::api {
namespace {

ApiError unauthenticated(std::string message) {
  return {ApiErrc::authentication_required, std::move(message)};
}

}  // namespace

std::optional<std::string_view> presented_key(const Request& req) {
  if (const auto it = req.find(http::field::authorization); it != req.end()) {
    std::string_view v = it->value();
    if (v.size() > 7 && beast::iequals(v.substr(0, 7), "Bearer ")) {
      v.remove_prefix(7);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return v;
    }
  }
  if (const auto it = req.find("X-API-Key"); it != req.end()) return it->value();
  return std::nullopt;
}

asio::awaitable<Result<store::ApiKey, ApiError>> Authenticator::authenticate(const Request& req) {
  const auto secret = presented_key(req);
  if (!secret || secret->empty())
    co_return fail(unauthenticated(
        "an API key is required: send \"Authorization: Bearer <key>\" or \"X-API-Key: <key>\""));
  const auto now = clock_.now();
  const std::string hash = store::hash_api_key(*secret);

  std::optional<store::ApiKey> key;
  if (auto it = cache_.find(hash); it != cache_.end() && now - it->second.fetched_at < cache_ttl_) {
    key = it->second.key;
  } else {
    auto found = co_await keys_.find_by_secret(*secret);
    if (!found)
      co_return fail(ApiError{ApiErrc::service_unavailable, "the key store is unavailable; retry"});
    if (!*found) {
      cache_.erase(hash);
      co_return fail(unauthenticated("the API key is unknown or revoked"));
    }
    key = std::move(**found);
    if (cache_.size() >= kMaxCached) cache_.clear();
    cache_[hash] = Cached{*key, now};
  }
  if (key->expired_at(now)) co_return fail(unauthenticated("the API key has expired"));
  co_return std::move(*key);
}

void Authenticator::forget(std::string_view key_id) {
  std::erase_if(cache_, [&](const auto& entry) { return entry.second.key.id == key_id; });
}

}  // namespace hookstream::api
