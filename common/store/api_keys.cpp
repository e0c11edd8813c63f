#include "common/store/api_keys.hpp"

#include <openssl/evp.h>

#include <array>

#include "common/signing.hpp"
#include "common/store/layout.hpp"
#include "common/store/redis_hash.hpp"

namespace hookstream::store {
namespace {

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

std::string join_scopes(const std::vector<Scope>& scopes) {
  std::string out;
  for (auto s : scopes) out += (out.empty() ? "" : ",") + std::string(to_string(s));
  return out;
}

std::vector<Scope> split_scopes(std::string_view text) {
  std::vector<Scope> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    if (auto s = parse_scope(text.substr(0, comma))) out.push_back(*s);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

Result<ApiKey, StoreError> parse_key(std::string_view id, const redis::Reply& reply) {
  const auto f = to_fields(reply);
  if (f.empty()) return fail(StoreError{StoreErrc::not_found, "no API key " + std::string(id)});
  ApiKey k;
  k.id = std::string(id);
  k.tenant = field_or(f, "tenant");
  k.name = field_or(f, "name");
  k.scopes = split_scopes(field_or(f, "scopes"));
  k.rate_limit = int_field(f, "rate_limit");
  k.hash = field_or(f, "hash");
  k.display_prefix = field_or(f, "display_prefix");
  const auto created = time_field(f, "created_at");
  if (k.tenant.empty() || k.hash.empty() || !created)
    return fail(StoreError{StoreErrc::corrupt, "API key " + k.id + " is incomplete in Redis"});
  k.created_at = *created;
  k.expires_at = time_field(f, "expires_at");
  k.revoked_at = time_field(f, "revoked_at");
  k.portal = field_or(f, "portal") == "1";
  return k;
}

}  // namespace

std::string_view to_string(Scope scope) {
  switch (scope) {
    case Scope::webhooks_read:
      return "webhooks:read";
    case Scope::webhooks_write:
      return "webhooks:write";
    case Scope::events_write:
      return "events:write";
    case Scope::keys_manage:
      return "keys:manage";
    case Scope::portal_create:
      return "portal:create";
  }
  return "unknown";
}

std::string scope_list() {
  std::string out;
  for (auto s : kAllScopes) out.append(out.empty() ? "" : ", ").append(to_string(s));
  return out;
}

std::optional<Scope> parse_scope(std::string_view text) {
  for (auto s : kAllScopes)
    if (to_string(s) == text) return s;
  return std::nullopt;
}

bool ApiKey::has_scope(Scope s) const {
  return std::find(scopes.begin(), scopes.end(), s) != scopes.end();
}

std::string hash_api_key(std::string_view secret) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(secret.data(), secret.size(), digest.data(), &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

std::string generate_api_key(Random& random, std::string_view prefix) {
  std::string out(prefix);
  for (std::size_t i = 0; i < kApiKeyRandomChars; ++i) out.push_back(kBase62[random.uniform(62)]);
  return out;
}

bool has_api_key_shape(std::string_view secret) {
  const auto prefix = secret.starts_with(kPortalTokenPrefix) ? kPortalTokenPrefix : kApiKeyPrefix;
  if (!secret.starts_with(prefix) || secret.size() < prefix.size() + 32 || secret.size() > 200)
    return false;
  return secret.substr(prefix.size()).find_first_not_of(kBase62) == std::string_view::npos;
}

// A new key (or portal token) with its secret, and the HSET that stores it.
CreatedApiKey ApiKeyStore::make_key(NewApiKey in, std::string_view secret_prefix,
                                    std::string_view id_prefix, std::vector<std::string>& hset) {
  CreatedApiKey out;
  out.secret = generate_api_key(random_, secret_prefix);
  ApiKey& k = out.key;
  k.id = ids_.next(id_prefix);
  k.tenant = std::move(in.tenant);
  k.name = std::move(in.name);
  k.scopes = std::move(in.scopes);
  k.rate_limit = in.rate_limit;
  k.hash = hash_api_key(out.secret);
  k.display_prefix = out.secret.substr(0, secret_prefix.size() + 4);
  k.created_at = clock_.now();
  k.expires_at = in.expires_at;
  hset = {
      "HSET",       api_key_key(k.id),     "tenant", k.tenant, "name",           k.name,
      "scopes",     join_scopes(k.scopes), "hash",   k.hash,   "display_prefix", k.display_prefix,
      "created_at", ms_text(k.created_at)};
  if (k.rate_limit) hset.insert(hset.end(), {"rate_limit", std::to_string(*k.rate_limit)});
  if (k.expires_at) hset.insert(hset.end(), {"expires_at", ms_text(*k.expires_at)});
  return out;
}

asio::awaitable<Result<CreatedApiKey, StoreError>> ApiKeyStore::create(NewApiKey in) {
  std::vector<std::string> hset;
  CreatedApiKey out = make_key(std::move(in), kApiKeyPrefix, id_prefix::api_key, hset);
  const ApiKey& k = out.key;
  // Named, not a braced temporary: GCC 12 miscompiles initializer lists inside co_await.
  std::vector<std::vector<std::string>> cmds = {{"MULTI"},
                                                std::move(hset),
                                                {"SET", api_key_hash_key(k.hash), k.id},
                                                {"ZADD", tenant_keys_key(k.tenant), "0", k.id},
                                                {"EXEC"}};
  auto r = co_await redis_.pipeline(std::move(cmds));
  if (!r) co_return fail(unavailable(r.error()));
  if (!r->back().is_array()) co_return fail(refused("API key write", r->back().debug_string()));
  co_return out;
}

asio::awaitable<Result<CreatedApiKey, StoreError>> ApiKeyStore::create_portal_token(NewApiKey in) {
  if (!in.expires_at)
    co_return fail(StoreError{StoreErrc::corrupt, "a portal token needs an expiry"});
  std::vector<std::string> hset;
  CreatedApiKey out = make_key(std::move(in), kPortalTokenPrefix, id_prefix::portal_session, hset);
  out.key.portal = true;
  hset.insert(hset.end(), {"portal", "1"});
  const ApiKey& k = out.key;
  // Kept a minute past the expiry (the API refuses it from then on); not in the tenant's list.
  const auto drop_at = ms_text(*k.expires_at + std::chrono::minutes(1));
  std::vector<std::vector<std::string>> cmds = {
      {"MULTI"},
      std::move(hset),
      {"PEXPIREAT", api_key_key(k.id), drop_at},
      {"SET", api_key_hash_key(k.hash), k.id, "PXAT", drop_at},
      {"EXEC"}};
  auto r = co_await redis_.pipeline(std::move(cmds));
  if (!r) co_return fail(unavailable(r.error()));
  if (!r->back().is_array())
    co_return fail(refused("portal token write", r->back().debug_string()));
  co_return out;
}

asio::awaitable<Result<std::optional<ApiKey>, StoreError>> ApiKeyStore::find_by_secret(
    std::string_view secret) {
  if (!has_api_key_shape(secret)) co_return std::optional<ApiKey>{};
  const std::string hash = hash_api_key(secret);
  auto id = co_await redis_.command(cmd("GET", api_key_hash_key(hash)));
  if (!id) co_return fail(unavailable(id.error()));
  if (!id->is_string()) co_return std::optional<ApiKey>{};
  auto fields = co_await redis_.command(cmd("HGETALL", api_key_key(id->as_string())));
  if (!fields) co_return fail(unavailable(fields.error()));
  auto key = parse_key(id->as_string(), *fields);
  if (!key) {
    if (key.error().code == StoreErrc::not_found) co_return std::optional<ApiKey>{};
    co_return fail(std::move(key).error());
  }
  // The lookup is by hash already; the constant-time comparison guards against a stale index.
  if (key->revoked_at || !signing::constant_time_equal(key->hash, hash))
    co_return std::optional<ApiKey>{};
  co_return std::optional<ApiKey>{std::move(*key)};
}

asio::awaitable<Result<ApiKey, StoreError>> ApiKeyStore::get(std::optional<std::string_view> tenant,
                                                             std::string_view id) {
  auto fields = co_await redis_.command(cmd("HGETALL", api_key_key(id)));
  if (!fields) co_return fail(unavailable(fields.error()));
  auto key = parse_key(id, *fields);
  if (key && tenant && key->tenant != *tenant)
    co_return fail(StoreError{StoreErrc::not_found, "no API key " + std::string(id)});
  co_return key;
}

asio::awaitable<Result<std::vector<ApiKey>, StoreError>> ApiKeyStore::list(
    std::string_view tenant) {
  auto ids = co_await redis_.command(cmd("ZRANGE", tenant_keys_key(tenant), "0", "-1"));
  if (!ids) co_return fail(unavailable(ids.error()));
  std::vector<std::vector<std::string>> cmds;
  for (const auto& id : ids->elements()) cmds.push_back({"HGETALL", api_key_key(id.as_string())});
  std::vector<ApiKey> out;
  if (cmds.empty()) co_return out;
  auto replies = co_await redis_.pipeline(std::move(cmds));
  if (!replies) co_return fail(unavailable(replies.error()));
  for (std::size_t i = 0; i < replies->size(); ++i) {
    auto key = parse_key(ids->elements()[i].as_string(), (*replies)[i]);
    if (key) out.push_back(std::move(*key));
  }
  co_return out;
}

asio::awaitable<Result<ApiKey, StoreError>> ApiKeyStore::revoke(
    std::optional<std::string_view> tenant, std::string_view id) {
  auto key = co_await get(tenant, id);
  if (!key) co_return key;
  if (!key->revoked_at) {
    key->revoked_at = clock_.now();
    std::vector<std::vector<std::string>> cmds = {
        {"MULTI"},
        {"HSET", api_key_key(id), "revoked_at", ms_text(*key->revoked_at)},
        {"DEL", api_key_hash_key(key->hash)},
        {"EXEC"}};
    auto r = co_await redis_.pipeline(std::move(cmds));
    if (!r) co_return fail(unavailable(r.error()));
  }
  co_return key;
}

}  // namespace hookstream::store
