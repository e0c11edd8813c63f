#pragma once
// Every Redis key hookstream uses, in one place. All keys start with "hs:".
//
//   hs:key:{key_id}                  hash   API key: tenant, name, scopes, rate_limit, hash, …
//   hs:keyhash:{sha256 hex}          string key_id (lookup by presented key)
//   hs:tenant:{tenant}:keys          zset   key ids (score 0, ordered by id = by creation)
//   hs:wh:{wh_id}                    hash   webhook: tenant, url, events, headers, filter, status,
//                                           secrets, …
//   hs:tenant:{tenant}:webhooks      zset   webhook ids (score 0, lexicographic = creation order)
//   hs:webhooks:version              int    bumped on every subscription change
//   hs:webhooks:paused               set    ids of the webhooks paused now (a gauge's source)
//   hs:changes                       pub/sub channel: the tenant whose subscriptions changed
//   hs:rl:{key_id}:{window}          int    requests in one rate-limit window
//   hs:idem:{tenant}:{key}           string idempotent POST /v1/events answers (24 h)
//   hs:dlv:{dlv_id}                  string delivery with its attempts, JSON (dispatcher; a hash
//                                           before 0.3)
//   hs:wh:{wh_id}:deliveries         zset   delivery ids by creation time (dispatcher)
//   hs:evb:{batch}                   hash   the events of one logged batch (dispatcher)
//   hs:wh:{wh_id}:slots              string a rate-limited webhook's next free send slot, µs
//                                           (dispatcher, lua/reserve_send_slots.lua)
//   hs:stats:{hour}                  hash   attempts per webhook in one hour (dispatcher;
//                                           webhook_stats.hpp)
// The delivery log's formats are in delivery_record.hpp, its scripts in lua/.
//
// Scripts touch keys they compute from others (e.g. webhook hashes from a tenant's index), which
// is fine on a single Redis or a replicated primary; Redis Cluster is not supported.
#include <string>
#include <string_view>

namespace hookstream::store {

inline constexpr std::string_view kChangesChannel = "hs:changes";
inline constexpr std::string_view kWebhooksVersionKey = "hs:webhooks:version";
// Kept by every script that changes a webhook's status (the delivery log's pauses, the API's
// updates and deletes).
inline constexpr std::string_view kPausedWebhooksKey = "hs:webhooks:paused";

inline std::string api_key_key(std::string_view id) {
  return "hs:key:" + std::string(id);
}
inline std::string api_key_hash_key(std::string_view hash) {
  return "hs:keyhash:" + std::string(hash);
}
inline std::string tenant_keys_key(std::string_view tenant) {
  return "hs:tenant:" + std::string(tenant) + ":keys";
}
inline std::string webhook_key(std::string_view id) {
  return "hs:wh:" + std::string(id);
}
inline std::string tenant_webhooks_key(std::string_view tenant) {
  return "hs:tenant:" + std::string(tenant) + ":webhooks";
}
inline std::string rate_limit_key(std::string_view key_id, std::int64_t window) {
  return "hs:rl:" + std::string(key_id) + ":" + std::to_string(window);
}
inline std::string idempotency_key(std::string_view tenant, std::string_view key) {
  return "hs:idem:" + std::string(tenant) + ":" + std::string(key);
}
inline std::string delivery_key(std::string_view id) {
  return "hs:dlv:" + std::string(id);
}
inline std::string webhook_deliveries_key(std::string_view webhook_id) {
  return "hs:wh:" + std::string(webhook_id) + ":deliveries";
}
inline std::string webhook_slots_key(std::string_view webhook_id) {
  return "hs:wh:" + std::string(webhook_id) + ":slots";
}

}  // namespace hookstream::store
