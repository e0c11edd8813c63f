// POST /v1/portal-sessions (SPEC §3): portal tokens for a tenant, with the webhook scopes asked
// for and never more than the caller holds; they work for /v1 like a key of those scopes until
// they expire, are not listed among the tenant's keys, and Redis forgets them afterwards.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "common/time.hpp"
#include "tests/fixtures/pipeline.hpp"

namespace hookstream::testing {
namespace {

using nlohmann::json;

TEST(PortalSessions, TokensCarryTheScopesAskedForAndWorkLikeKeysUntilTheyExpire) {
  Pipeline p(PipelineOptions{
      .dispatchers = 0, .env = {{"HOOKSTREAM_PORTAL_URL", "https://hooks.example.com/portal/"}}});
  const auto before = std::chrono::system_clock::now();
  const auto session = p.api("POST", "/v1/portal-sessions", "");
  ASSERT_EQ(session.status, 201) << session.body;
  const auto data = session.json()["data"];
  const std::string token = data["token"];
  EXPECT_TRUE(std::regex_match(token, std::regex("hsp_[0-9A-Za-z]{40}"))) << token;
  EXPECT_EQ(data["url"], "https://hooks.example.com/portal/#token=" + token);
  EXPECT_EQ(data["scopes"], json::array({"webhooks:read", "webhooks:write"}));
  const auto expires = parse_rfc3339(data["expires_at"].get<std::string>());
  ASSERT_TRUE(expires);
  EXPECT_GE(*expires, before + std::chrono::minutes(59));
  EXPECT_LE(*expires, std::chrono::system_clock::now() + std::chrono::minutes(61));

  // Like a key of its scopes, for the caller's tenant.
  const auto created =
      p.api("POST", "/v1/webhooks",
            json{{"url", p.receiver().url("/portal")}, {"events", {"*"}}}.dump(), token);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.json()["data"]["webhook"]["id"];
  EXPECT_EQ(p.api("GET", "/v1/webhooks/" + id, {}, p.admin_key()).status, 200);
  EXPECT_EQ(p.api("GET", "/v1/webhooks/" + id + "/stats", {}, token).status, 200);
  EXPECT_EQ(p.api("GET", "/v1/event-types", {}, token).status, 200);
  // Never API keys, portal sessions or events.
  EXPECT_EQ(p.api("GET", "/v1/api-keys", {}, token).status, 403);
  EXPECT_EQ(p.api("POST", "/v1/api-keys", R"({"scopes":["webhooks:read"]})", token).status, 403);
  EXPECT_EQ(p.api("POST", "/v1/portal-sessions", "{}", token).status, 403);
  EXPECT_EQ(p.api("POST", "/v1/events", R"({"type":"contact.created","data":{}})", token).status,
            403);
  // Not listed among the tenant's keys.
  const auto keys = p.api("GET", "/v1/api-keys");
  ASSERT_EQ(keys.status, 200);
  for (const auto& k : keys.json()["data"]["api_keys"])
    EXPECT_FALSE(k["prefix"].get<std::string>().starts_with("hsp_")) << k.dump();
  // Another tenant's webhook is unknown to it.
  const auto globex = p.api().create_key("globex", "webhooks:read,webhooks:write");
  const auto theirs = p.create_webhook("/globex", {"*"}, globex.key);
  EXPECT_EQ(p.api("GET", "/v1/webhooks/" + theirs["id"].get<std::string>(), {}, token).status, 404);

  // Read only: reads work, writes are refused naming the scope.
  const auto reader = p.api("POST", "/v1/portal-sessions", R"({"scopes":["webhooks:read"]})");
  ASSERT_EQ(reader.status, 201) << reader.body;
  const std::string read_token = reader.json()["data"]["token"];
  EXPECT_EQ(p.api("GET", "/v1/webhooks", {}, read_token).status, 200);
  const auto refused = p.api("PATCH", "/v1/webhooks/" + id, R"({"is_active":false})", read_token);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(refused.json()["error"]["details"]["required_scopes"], json::array({"webhooks:write"}));

  // Never more than the caller holds; only webhook scopes; at most a day.
  const auto limited = p.api().create_key("acme", "webhooks:read,portal:create");
  const auto more =
      p.api("POST", "/v1/portal-sessions", R"({"scopes":["webhooks:write"]})", limited.key);
  EXPECT_EQ(more.status, 403) << more.body;
  EXPECT_EQ(more.json()["error"]["details"]["required_scopes"], json::array({"webhooks:write"}));
  const auto own = p.api("POST", "/v1/portal-sessions", "", limited.key);
  ASSERT_EQ(own.status, 201) << own.body;
  EXPECT_EQ(own.json()["data"]["scopes"], json::array({"webhooks:read"}));
  const auto none = p.api().create_key("acme", "portal:create");
  EXPECT_EQ(p.api("POST", "/v1/portal-sessions", "", none.key).status, 403);
  const auto no_scope = p.api().create_key("acme", "webhooks:read,webhooks:write");
  EXPECT_EQ(p.api("POST", "/v1/portal-sessions", "", no_scope.key).status, 403);
  for (const auto* body : {R"({"scopes":["keys:manage"]})", R"({"expires_in":"25h"})",
                           R"({"expires_in":"soon"})", R"({"scopes":[]})", R"({"ttl":"1h"})"}) {
    const auto r = p.api("POST", "/v1/portal-sessions", body);
    EXPECT_EQ(r.status, 400) << body << " " << r.body;
  }

  // Until it expires; then 401, and Redis forgets it.
  const auto brief = p.api("POST", "/v1/portal-sessions", R"({"expires_in":"1s"})");
  ASSERT_EQ(brief.status, 201) << brief.body;
  const std::string brief_token = brief.json()["data"]["token"];
  EXPECT_EQ(p.api("GET", "/v1/webhooks", {}, brief_token).status, 200);
  ASSERT_TRUE(
      eventually([&] { return p.api("GET", "/v1/webhooks", {}, brief_token).status == 401; }, 10s));
  const auto redis = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"redis-cli", "-p", std::to_string(p.redis().port()), "--raw"});
    return run_command(args, {}, 30s).out;
  };
  std::istringstream sessions(redis({"--scan", "--pattern", "hs:key:ps_*"}));
  int seen = 0;
  for (std::string key; std::getline(sessions, key);) {
    if (key.empty()) continue;
    ++seen;
    const auto ms = std::stoll(redis({"PTTL", key}));
    EXPECT_GT(ms, 0) << key;  // dropped a minute after it expires
    EXPECT_LE(ms, 61 * 60 * 1000) << key;
  }
  EXPECT_EQ(seen, 4);
}

}  // namespace
}  // namespace hookstream::testing
