// An attacker's view of the real binaries (docs/security.md): the authorization matrix built from
// the router's own table, API key minting, rate limit order, secrets at rest and in responses and
// logs, and custom headers that try to override signing headers. One pipeline (redis-server, the
// embedded Kafka cluster, hookstream-api, a dispatcher and a receiver) for the whole suite.
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "api/app.hpp"
#include "common/store/api_keys.hpp"
#include "common/time.hpp"
#include "tests/fixtures/pipeline.hpp"

namespace hookstream::testing {
namespace {

using nlohmann::json;
using store::Scope;

constexpr const char* kOtherTenantKeyScopes =
    "webhooks:read,webhooks:write,events:write,keys:manage";

std::string scopes_without(Scope missing) {
  std::string out;
  for (auto s : store::kAllScopes)
    if (s != missing) out += (out.empty() ? "" : ",") + std::string(store::to_string(s));
  return out;
}

// The resources of one tenant that route parameters name.
struct Resources {
  std::string webhook_id;
  std::string delivery_id;
  std::string api_key_id;
};

class Security : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PipelineOptions options;
    options.env = {{"HOOKSTREAM_API_KEY_CACHE_TTL", "1s"},
                   // The matrix makes many requests per key; the rate limit has its own test.
                   {"HOOKSTREAM_RATE_LIMIT", "100000"},
                   {"HOOKSTREAM_SUBSCRIPTION_REFRESH", "100ms"}};
    p_ = new Pipeline(options);
    other_key_ = new CreatedKey(p_->api().create_key("globex", kOtherTenantKeyScopes));
    acme_ = new Resources(make_resources(p_->admin_key(), "/acme"));
    globex_ = new Resources(make_resources(other_key_->key, "/globex"));
  }
  static void TearDownTestSuite() {
    delete globex_;
    delete acme_;
    delete other_key_;
    delete p_;
  }

  // A webhook with one delivery in its log, and an API key id, for the key's tenant.
  static Resources make_resources(const std::string& key, const std::string& path) {
    Resources r;
    const auto w = p_->create_webhook(path, {"contact.created"}, key);
    r.webhook_id = w["id"].get<std::string>();
    p_->publish("contact.created", {{"name", "Ada"}}, key);
    json deliveries;
    const bool logged = eventually(
        [&] {
          deliveries = p_->deliveries(r.webhook_id, key);
          return !deliveries.empty();
        },
        30s);
    if (!logged) throw std::runtime_error("no delivery was logged:\n" + p_->logs());
    r.delivery_id = deliveries[0]["id"].get<std::string>();
    const auto created = call("POST", "/v1/api-keys", key, R"({"scopes":["webhooks:read"]})");
    if (created.status != 201) throw std::runtime_error("api key: " + created.body);
    r.api_key_id = created.json()["data"]["api_key"]["id"].get<std::string>();
    return r;
  }

  static HttpResult call(const std::string& method, const std::string& target,
                         const std::string& key, const std::string& body = {},
                         std::map<std::string, std::string> headers = {}) {
    return p_->api().request(method, target, key, body, std::move(headers));
  }

  static CommandResult redis_cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"redis-cli", "-p", std::to_string(p_->redis().port()), "--raw"});
    return run_command(args, {}, 30s);
  }

  // Every value in Redis as text: what someone holding a copy of the data would read.
  static std::string redis_contents() {
    std::string out;
    const auto keys = redis_cli({"--scan"});
    std::istringstream lines(keys.out);
    for (std::string key; std::getline(lines, key);) {
      if (key.empty()) continue;
      const auto type = redis_cli({"TYPE", key}).out;
      std::vector<std::string> read;
      if (type.starts_with("hash"))
        read = {"HGETALL", key};
      else if (type.starts_with("string"))
        read = {"GET", key};
      else if (type.starts_with("zset"))
        read = {"ZRANGE", key, "0", "-1"};
      else if (type.starts_with("list"))
        read = {"LRANGE", key, "0", "-1"};
      else if (type.starts_with("set"))
        read = {"SMEMBERS", key};
      else
        continue;
      out += key + "\n" + redis_cli(read).out;
    }
    return out;
  }

  static void expect_error(const HttpResult& r, int status, const std::string& code,
                           const std::string& what) {
    EXPECT_EQ(r.status, status) << what << ": " << r.body;
    EXPECT_EQ(r.json()["error"].value("code", ""), code) << what << ": " << r.body;
  }

  static Pipeline* p_;
  static CreatedKey* other_key_;
  static Resources* acme_;
  static Resources* globex_;
};

Pipeline* Security::p_ = nullptr;
CreatedKey* Security::other_key_ = nullptr;
Resources* Security::acme_ = nullptr;
Resources* Security::globex_ = nullptr;

// The request target for a route pattern, with its parameters taken from `r`. A parameter the
// matrix does not know fails the test: a new route must teach the matrix what its ids are.
std::optional<std::string> fill(const std::string& pattern, const Resources& r) {
  std::string out;
  std::string_view rest = pattern;
  while (!rest.empty()) {
    const auto open = rest.find('{');
    if (open == std::string_view::npos) {
      out += rest;
      break;
    }
    const auto close = rest.find('}', open);
    out += rest.substr(0, open);
    const auto name = rest.substr(open + 1, close - open - 1);
    const std::string_view before = std::string_view(out);
    if (name == "id" && before.starts_with("/v1/webhooks/"))
      out += r.webhook_id;
    else if (name == "id" && before.starts_with("/v1/api-keys/"))
      out += r.api_key_id;
    else if (name == "did")
      out += r.delivery_id;
    else if (name == "asset")
      out += "app.js";
    else
      return std::nullopt;
    rest.remove_prefix(close + 1);
  }
  return out;
}

// A body the route accepts, so that what decides the answer is who asks, not what they send.
std::string valid_body(const std::string& method, const std::string& pattern,
                       const std::string& receiver_url) {
  if (method == "POST" && pattern == "/v1/webhooks")
    return json{{"url", receiver_url}, {"events", {"contact.created"}}}.dump();
  if (method == "PATCH") return R"({"description":"matrix"})";
  if (method == "POST" && pattern == "/v1/events")
    return R"({"type":"contact.updated","data":{"matrix":true}})";
  if (method == "POST" && pattern == "/v1/api-keys") return R"({"scopes":["keys:manage"]})";
  if (method == "POST" && pattern == "/v1/webhooks/{id}/recover")
    return json{{"since", format_rfc3339(std::chrono::system_clock::now() - std::chrono::hours(1))}}
        .dump();
  if (method == "POST") return "{}";
  return {};
}

TEST_F(Security, AuthorizationMatrixCoversEveryRouteOfTheRouter) {
  const auto router = api::make_router();
  ASSERT_GE(router.routes().size(), 20u);

  // Keys of tenant acme: one lacking each scope, plus expired, revoked and unknown ones. None is
  // used before its case, so no API cache hides a revocation.
  std::map<Scope, CreatedKey> lacking;
  for (auto s : store::kAllScopes)
    lacking.emplace(s, p_->api().create_key("acme", scopes_without(s)));
  const auto expired = p_->api().create_key("acme", kAllScopes, {"--expires-in", "1ms"});
  const auto revoked = p_->api().create_key("acme", kAllScopes);
  ASSERT_EQ(p_->api().admin({"keys", "revoke", revoked.id}).exit_code, 0);
  const std::string unknown = std::string(store::kApiKeyPrefix) + std::string(40, 'Q');
  const std::string receiver_url = p_->receiver().url("/matrix");
  // Portal tokens of acme: a read-only one, and one that has expired.
  const auto mint = [&](const std::string& body) {
    const auto r = call("POST", "/v1/portal-sessions", p_->admin_key(), body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json()["data"].value("token", std::string());
  };
  const auto read_only = mint(R"({"scopes":["webhooks:read"]})");
  const auto expired_token = mint(R"({"expires_in":"1s"})");
  ASSERT_TRUE(
      eventually([&] { return call("GET", "/v1/webhooks", expired_token).status == 401; }, 10s));

  std::set<std::string> covered;
  for (const auto& route : router.routes()) {
    const std::string method(api::http::to_string(route.method));
    const std::string name = method + " " + route.pattern;
    SCOPED_TRACE(name);
    covered.insert(name);
    const auto own = fill(route.pattern, *acme_);
    const auto other = fill(route.pattern, *globex_);
    ASSERT_TRUE(own && other) << name << ": the matrix does not know this route's parameters; "
                              << "teach fill() which resource each one names";
    const auto body = valid_body(method, route.pattern, receiver_url);

    if (route.access == api::Access::open) {
      const auto r = call(method, *own, {}, body);
      EXPECT_NE(r.status, 401) << r.body;
      EXPECT_NE(r.status, 403) << r.body;
      EXPECT_LT(r.status, 500 + (route.pattern == "/readyz" ? 4 : 0)) << r.body;
      continue;
    }
    ASSERT_TRUE(route.access == api::Access::any_key ||
                (route.access == api::Access::scoped && route.scope.has_value()))
        << "a route that needs a key must name its scope (or be any_key)";

    // Who is asking, before anything else.
    expect_error(call(method, *own, {}, body), 401, "authentication_required", "no key");
    expect_error(call(method, *own, unknown, body), 401, "authentication_required", "unknown key");
    expect_error(call(method, *own, expired.key, body), 401, "authentication_required",
                 "expired key");
    expect_error(call(method, *own, revoked.key, body), 401, "authentication_required",
                 "revoked key");
    expect_error(call(method, *own, "hsk_live_short", body), 401, "authentication_required",
                 "malformed key");
    expect_error(call(method, *own, expired_token, body), 401, "authentication_required",
                 "expired portal token");

    // A read-only portal token: what webhooks:read allows and nothing else (so never API keys or
    // portal sessions), and another tenant's ids are unknown to it.
    if (route.access == api::Access::scoped && *route.scope != Scope::webhooks_read) {
      expect_error(call(method, *own, read_only, body), 403, "insufficient_scopes",
                   "read-only portal token");
    } else {
      const auto r = call(method, *own, read_only, body);
      EXPECT_TRUE(r.status >= 200 && r.status < 300) << "read-only portal token: " << r.body;
      if (route.pattern.find('{') != std::string::npos)
        expect_error(call(method, *other, read_only, body), 404, "resource_not_found",
                     "read-only portal token, another tenant's id");
    }

    // Each missing scope: 403 naming the one needed exactly when it is this route's scope.
    // Otherwise the key gets through, and another tenant's ids are unknown to it (404, never 403).
    for (const auto& [missing, key] : lacking) {
      SCOPED_TRACE("key without " + std::string(store::to_string(missing)));
      const auto r = call(method, *other, key.key, body);
      if (route.access == api::Access::scoped && *route.scope == missing) {
        expect_error(r, 403, "insufficient_scopes", "missing scope");
        EXPECT_EQ(r.json()["error"]["details"]["required_scopes"],
                  json::array({std::string(store::to_string(missing))}))
            << r.body;
      } else if (route.pattern.find('{') != std::string::npos) {
        expect_error(r, 404, "resource_not_found", "another tenant's id");
      } else {
        EXPECT_LT(r.status, 300) << r.body;
      }
    }

    // The control: with its own ids and every scope, acme gets an answer that is none of the above.
    // DELETE gets fresh resources so that it does not take away the ones the matrix uses.
    auto control_ids = *acme_;
    if (method == "DELETE") {
      control_ids.webhook_id =
          p_->create_webhook("/matrix-delete", {"contact.created"})["id"].get<std::string>();
      control_ids.api_key_id = p_->api().create_key("acme", "webhooks:read").id;
    }
    const auto r = call(method, *fill(route.pattern, control_ids), p_->admin_key(), body);
    EXPECT_TRUE(r.status >= 200 && r.status < 300) << r.body;
  }

  // The matrix walked the router's table, so it has every route; the list below is what SPEC §3
  // names, so a route dropped from the table cannot pass unnoticed either.
  for (const char* expected : {"POST /v1/webhooks",
                               "GET /v1/webhooks",
                               "GET /v1/webhooks/{id}",
                               "PATCH /v1/webhooks/{id}",
                               "DELETE /v1/webhooks/{id}",
                               "POST /v1/webhooks/{id}/test",
                               "POST /v1/webhooks/{id}/rotate-secret",
                               "GET /v1/webhooks/{id}/stats",
                               "POST /v1/webhooks/{id}/recover",
                               "POST /v1/portal-sessions",
                               "GET /v1/webhooks/{id}/deliveries",
                               "GET /v1/webhooks/{id}/deliveries/{did}",
                               "POST /v1/webhooks/{id}/deliveries/{did}/redeliver",
                               "POST /v1/events",
                               "GET /v1/event-types",
                               "POST /v1/api-keys",
                               "GET /v1/api-keys",
                               "GET /v1/api-keys/{id}",
                               "DELETE /v1/api-keys/{id}",
                               "GET /healthz",
                               "GET /readyz",
                               "GET /metrics"})
    EXPECT_TRUE(covered.contains(expected)) << expected;
}

TEST_F(Security, AnotherTenantsDeliveryUnderOwnWebhookIsNotFound) {
  for (const char* suffix : {"", "/redeliver"}) {
    const auto r =
        call(suffix[0] ? "POST" : "GET",
             "/v1/webhooks/" + acme_->webhook_id + "/deliveries/" + globex_->delivery_id + suffix,
             p_->admin_key());
    expect_error(r, 404, "resource_not_found", suffix);
  }
  const auto own =
      call("GET", "/v1/webhooks/" + acme_->webhook_id + "/deliveries/" + acme_->delivery_id,
           p_->admin_key());
  EXPECT_EQ(own.status, 200) << own.body;
}

TEST_F(Security, MissingScopeIsAnsweredBeforeTheRateLimitAndDoesNotSpendIt) {
  // The counts hold within one one-minute window; a run that straddles two (X-RateLimit-Reset
  // changed) is repeated once with a fresh key.
  for (int run = 0; run < 2; ++run) {
    const auto key = p_->api().create_key("acme", "webhooks:read", {"--rate-limit", "2"});
    std::set<std::string> windows;
    auto ask = [&](const std::string& method, const std::string& target, const std::string& body) {
      auto r = call(method, target, key.key, body);
      windows.insert(r.header("x-ratelimit-reset").value_or("none"));
      return r;
    };
    std::vector<HttpResult> refused;
    for (int i = 0; i < 4; ++i)
      refused.push_back(ask("POST", "/v1/events", R"({"type":"contact.created","data":{}})"));
    const auto first = ask("GET", "/v1/webhooks", {});
    const auto second = ask("GET", "/v1/webhooks", {});
    const auto limited = ask("GET", "/v1/webhooks", {});
    const auto scope = ask("POST", "/v1/webhooks", "{}");
    if (windows.size() != 1 && run == 0) continue;
    ASSERT_EQ(windows.size(), 1u) << "every response carries X-RateLimit-Reset, in one window";

    // Refused for scope as often as asked: always 403, never 429, and the budget stays whole.
    for (const auto& r : refused) {
      expect_error(r, 403, "insufficient_scopes", "missing scope");
      EXPECT_EQ(r.header("x-ratelimit-limit"), "2");
      EXPECT_EQ(r.header("x-ratelimit-remaining"), "2");
    }
    EXPECT_EQ(first.status, 200) << first.body;
    EXPECT_EQ(first.header("x-ratelimit-remaining"), "1");
    EXPECT_EQ(second.status, 200) << second.body;
    expect_error(limited, 429, "rate_limit_exceeded", "third allowed request");
    EXPECT_TRUE(limited.header("retry-after").has_value());
    // Over its budget, a request it may never make is still told why.
    expect_error(scope, 403, "insufficient_scopes", "over budget, missing scope");
    EXPECT_EQ(scope.header("x-ratelimit-remaining"), "0");
    break;
  }
}

TEST_F(Security, AKeyCannotMintAKeyMorePowerfulThanItself) {
  const auto manager = p_->api().create_key("acme", "keys:manage,webhooks:read");
  for (const char* scope : {"webhooks:write", "events:write"}) {
    const auto r = call("POST", "/v1/api-keys", manager.key,
                        json{{"scopes", {"webhooks:read", scope}}}.dump());
    expect_error(r, 403, "insufficient_scopes", scope);
    EXPECT_EQ(r.json()["error"]["details"]["required_scopes"], json::array({scope})) << r.body;
  }
  // The rate limit is a per-key budget, not a privilege: it is not capped by the creator's.
  const auto higher =
      call("POST", "/v1/api-keys", manager.key, R"({"scopes":["webhooks:read"],"rate_limit":500})");
  ASSERT_EQ(higher.status, 201) << higher.body;

  const auto ok =
      call("POST", "/v1/api-keys", manager.key, R"({"scopes":["webhooks:read","keys:manage"]})");
  ASSERT_EQ(ok.status, 201) << ok.body;

  // A key that expires mints keys that expire no later (and inherit its expiry by default).
  const auto expiring = p_->api().create_key("acme", "keys:manage", {"--expires-in", "1h"});
  const auto later =
      call("POST", "/v1/api-keys", expiring.key, R"({"scopes":["keys:manage"],"expires_in":"2h"})");
  expect_error(later, 400, "validation_failed", "a later expiry");
  const auto inherited =
      call("POST", "/v1/api-keys", expiring.key, R"({"scopes":["keys:manage"]})");
  ASSERT_EQ(inherited.status, 201) << inherited.body;
  EXPECT_FALSE(inherited.json()["data"]["api_key"]["expires_at"].is_null()) << inherited.body;
}

TEST_F(Security, SecretsAreEncryptedAtRestAndNeverListedOrLogged) {
  const auto created =
      call("POST", "/v1/webhooks", p_->admin_key(),
           json{{"url", p_->receiver().url("/secrets")}, {"events", {"contact.created"}}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const auto webhook = created.json()["data"]["webhook"];
  const std::string id = webhook["id"].get<std::string>();
  const std::string secret = webhook["secret"].get<std::string>();
  PathBehaviour behaviour;
  behaviour.secrets = {secret};
  p_->receiver().configure("/secrets", behaviour);
  // A rotation leaves a previous secret too; both must be sealed.
  const auto rotated = call("POST", "/v1/webhooks/" + id + "/rotate-secret", p_->admin_key());
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string new_secret = rotated.json()["data"]["webhook"]["secret"].get<std::string>();

  const auto stored = redis_cli({"HGET", "hs:wh:" + id, "secret"}).out;
  EXPECT_TRUE(stored.starts_with("hs1:test:")) << stored;
  EXPECT_TRUE(redis_cli({"HGET", "hs:wh:" + id, "previous_secret"}).out.starts_with("hs1:test:"));

  // Deliveries are still signed with the plaintext secrets (the receiver verifies with the old
  // one).
  p_->publish("contact.created", {{"n", 1}});
  ASSERT_TRUE(p_->receiver().wait_for_count("/secrets", 1, 30s)) << p_->logs();
  EXPECT_TRUE(p_->receiver().received("/secrets")[0].verified);

  // Neither the secrets nor any API key appear in Redis, the RDB file, list or get responses, or
  // the logs of the API and the dispatcher.
  ASSERT_EQ(redis_cli({"SAVE"}).exit_code, 0);
  std::string rdb;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(p_->redis().dir()))
    if (entry.is_regular_file()) {
      std::ifstream f(entry.path(), std::ios::binary);
      rdb += std::string(std::istreambuf_iterator<char>(f), {});
    }
  ASSERT_FALSE(rdb.empty());
  const std::string contents = redis_contents();
  const auto listed = call("GET", "/v1/webhooks?limit=100", p_->admin_key()).body;
  const auto got = call("GET", "/v1/webhooks/" + id, p_->admin_key()).body;
  const auto keys = call("GET", "/v1/api-keys", p_->admin_key()).body;
  const std::string logs = p_->api().process().output() + p_->logs();
  for (const auto& [what, text] :
       {std::pair{"redis", contents}, std::pair{"rdb", rdb}, std::pair{"list", listed},
        std::pair{"get", got}, std::pair{"api keys", keys}, std::pair{"logs", logs}}) {
    for (const auto& s : {secret, new_secret, p_->admin_key(), other_key_->key}) {
      EXPECT_EQ(text.find(s), std::string::npos) << what << " holds " << s.substr(0, 12) << "…";
      // The random part alone, in case a prefix was stripped somewhere.
      EXPECT_EQ(text.find(s.substr(s.rfind('_') + 1)), std::string::npos) << what;
    }
  }
  // API keys are stored as their SHA-256: the lookup key exists, the key itself nowhere.
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned len = 0;
  const std::string admin = p_->admin_key();
  EVP_Digest(admin.data(), admin.size(), digest.data(), &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xF];
  }
  EXPECT_EQ(redis_cli({"EXISTS", "hs:keyhash:" + hex}).out, "1\n");
}

TEST_F(Security, LegacyPlaintextSecretsAreReadThenResealedByTheAdminCommand) {
  const auto w = p_->create_webhook("/legacy", {"contact.created"});
  const std::string id = w["id"].get<std::string>();
  const std::string secret = w["secret"].get<std::string>();
  // What a webhook written before encryption at rest looks like.
  ASSERT_EQ(redis_cli({"HSET", "hs:wh:" + id, "secret", secret}).exit_code, 0);
  const auto read = call("POST", "/v1/webhooks/" + id + "/test", p_->admin_key());
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.json()["data"]["delivered"], true) << read.body;
  ASSERT_TRUE(p_->receiver().wait_for_count("/legacy", 1, 10s));
  EXPECT_TRUE(p_->receiver().received("/legacy")[0].verified);

  const auto resealed = p_->api().admin({"secrets", "reseal"});
  ASSERT_EQ(resealed.exit_code, 0) << resealed.err;
  const auto report = json::parse(resealed.out);
  EXPECT_GE(report["plaintext_encrypted"].get<int>(), 1) << resealed.out;
  EXPECT_EQ(report["failed"], 0) << resealed.out;
  const auto stored = redis_cli({"HGET", "hs:wh:" + id, "secret"}).out;
  EXPECT_TRUE(stored.starts_with("hs1:test:")) << stored;
  EXPECT_EQ(stored.find(secret), std::string::npos);

  // Rotation: list the new key first and reseal; every value moves to it, and back again (so the
  // running API and dispatcher, which know only "test", keep working for the tests after this).
  const std::string new_ring = "next:" + std::string(43, 'A') + "=," + kTestSecretKeys;
  const auto forward =
      run_command({binary_path("hookstream-api").string(), "secrets", "reseal"}, {}, 30s, [&] {
        ProcessOptions o;
        o.env = p_->env();
        o.env["HOOKSTREAM_SECRET_KEYS"] = new_ring;
        return o;
      }());
  ASSERT_EQ(forward.exit_code, 0) << forward.err;
  EXPECT_GE(json::parse(forward.out)["resealed"].get<int>(), 2) << forward.out;
  EXPECT_TRUE(redis_cli({"HGET", "hs:wh:" + id, "secret"}).out.starts_with("hs1:next:"));
  const auto back = p_->api().admin({"secrets", "reseal"});  // "test" only: "next" fails to open
  EXPECT_NE(back.exit_code, 0);
  EXPECT_GE(json::parse(back.out)["failed"].get<int>(), 1) << back.out;
  ProcessOptions both;
  both.env = p_->env();
  both.env["HOOKSTREAM_SECRET_KEYS"] =
      std::string(kTestSecretKeys) + ",next:" + std::string(43, 'A') + "=";
  const auto restored =
      run_command({binary_path("hookstream-api").string(), "secrets", "reseal"}, {}, 30s, both);
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_TRUE(redis_cli({"HGET", "hs:wh:" + id, "secret"}).out.starts_with("hs1:test:"));
}

TEST_F(Security, CustomHeadersCannotOverrideSigningHeaders) {
  for (const char* name : {"webhook-signature", "Webhook-Id", "WEBHOOK-TIMESTAMP", "Content-Type",
                           "Host", "Content-Length", "X-Hookstream-Attempt"}) {
    const auto r = call("POST", "/v1/webhooks", p_->admin_key(),
                        json{{"url", "https://example.com/hooks"},
                             {"events", {"*"}},
                             {"headers", {{name, "forged"}}}}
                            .dump());
    expect_error(r, 400, "validation_failed", name);
    EXPECT_TRUE(r.json()["error"]["details"]["fields"].contains("headers." + std::string(name)))
        << r.body;
  }

  // At send time too: a reserved name that reached Redis anyway is not sent.
  const auto w = p_->create_webhook("/headers", {"contact.created"});
  const std::string id = w["id"].get<std::string>();
  const std::string forged =
      json::array({json::array({"webhook-signature", "v1,forged"}),
                   json::array({"Content-Type", "text/plain"}),
                   json::array({"webhook-id", "evt_forged"}), json::array({"X-Extra", "kept"})})
          .dump();
  ASSERT_EQ(redis_cli({"HSET", "hs:wh:" + id, "headers", forged}).exit_code, 0);
  ASSERT_EQ(redis_cli({"INCR", "hs:webhooks:version"}).exit_code, 0);
  ASSERT_EQ(redis_cli({"PUBLISH", "hs:changes", "acme"}).exit_code, 0);
  // The test ping reads the webhook now; the dispatcher after its refresh.
  const auto ping = call("POST", "/v1/webhooks/" + id + "/test", p_->admin_key());
  ASSERT_EQ(ping.status, 200) << ping.body;
  ASSERT_TRUE(p_->receiver().wait_for_count("/headers", 1, 10s));
  for (const auto& d : p_->receiver().received("/headers")) {
    EXPECT_TRUE(d.verified) << d.verify_error;
    EXPECT_EQ(d.header("webhook-signature").value_or("forged").find("forged"), std::string::npos);
    EXPECT_EQ(d.header("content-type"), "application/json");
    EXPECT_NE(d.id, "evt_forged");
    EXPECT_EQ(d.header("x-extra"), "kept");
  }
}

TEST_F(Security, PrivateTargetsAreRefusedAtCreationAndOnTestPingsUnlessAllowed) {
  // A second API replica on the same Redis and Kafka, without the allow-list the suite uses.
  auto env = p_->env();
  env["HOOKSTREAM_ALLOW_PRIVATE_TARGETS"] = "false";
  ApiServer strict(env);
  for (const char* url :
       {"https://127.0.0.1/hooks", "https://2130706433/hooks", "https://0x7f.1/hooks",
        "https://0177.0.0.1:8443/hooks", "https://[::1]/hooks", "https://[::ffff:169.254.169.254]/",
        "https://169.254.169.254/latest/meta-data", "https://10.1/hooks", "https://[fd00::1]/",
        "https://0/hooks", "https://224.0.0.1/"}) {
    const auto r = strict.request("POST", "/v1/webhooks", p_->admin_key(),
                                  json{{"url", url}, {"events", {"*"}}}.dump());
    expect_error(r, 400, "validation_failed", url);
    EXPECT_TRUE(r.json()["error"]["details"]["fields"].contains("url")) << r.body;
  }
  // A name is judged when a request connects: a test ping to localhost is refused there.
  const auto named =
      strict.request("POST", "/v1/webhooks", p_->admin_key(),
                     json{{"url", "https://localhost:1/hooks"}, {"events", {"*"}}}.dump());
  ASSERT_EQ(named.status, 201) << named.body;
  const auto ping = strict.request(
      "POST", "/v1/webhooks/" + named.json()["data"]["webhook"]["id"].get<std::string>() + "/test",
      p_->admin_key());
  ASSERT_EQ(ping.status, 200) << ping.body;
  EXPECT_EQ(ping.json()["data"]["delivered"], false) << ping.body;
  EXPECT_EQ(ping.json()["data"]["outcome"], "blocked_address") << ping.body;
  // The allow-listed replica accepts a loopback literal (multicast stays refused everywhere).
  const auto allowed = call("POST", "/v1/webhooks", p_->admin_key(),
                            json{{"url", "https://127.0.0.1:1/hooks"}, {"events", {"*"}}}.dump());
  EXPECT_EQ(allowed.status, 201) << allowed.body;
  expect_error(call("POST", "/v1/webhooks", p_->admin_key(),
                    json{{"url", "https://224.0.0.1/"}, {"events", {"*"}}}.dump()),
               400, "validation_failed", "multicast");
}

TEST(SecretKeysAtStart, MissingOrMalformedKeyringStopsEachBinaryWithANamedError) {
  const std::string material = std::string(20, 'Z');
  for (const char* binary : {"hookstream-api", "hookstream-dispatcher"}) {
    ProcessOptions missing;
    missing.unset_env = {"HOOKSTREAM_SECRET_KEYS"};
    const auto a = run_command({binary_path(binary).string()}, {}, 20s, missing);
    EXPECT_EQ(a.exit_code, 2) << binary << a.out << a.err;
    EXPECT_NE((a.out + a.err).find("HOOKSTREAM_SECRET_KEYS: is required"), std::string::npos)
        << binary << ": " << a.out << a.err;

    ProcessOptions malformed;
    malformed.env = {{"HOOKSTREAM_SECRET_KEYS", "k1:" + material}};
    const auto b = run_command({binary_path(binary).string()}, {}, 20s, malformed);
    EXPECT_EQ(b.exit_code, 2) << binary << b.out << b.err;
    EXPECT_NE((b.out + b.err).find("HOOKSTREAM_SECRET_KEYS"), std::string::npos) << b.err;
    EXPECT_EQ((b.out + b.err).find(material), std::string::npos) << b.err;
  }
}

// SPEC §6's admin CLI needs Redis only: its key commands never touch webhook secrets, so they run
// without HOOKSTREAM_SECRET_KEYS (and `secrets reseal`, which does, still refuses).
TEST(SecretKeysAtStart, KeyCommandsOfTheAdminCliNeedNoKeyring) {
  RedisServer redis;
  ProcessOptions options;
  options.env = {{"HOOKSTREAM_REDIS_URL", redis.url()}};
  options.unset_env = {"HOOKSTREAM_SECRET_KEYS"};
  const auto api = binary_path("hookstream-api").string();
  const auto created = run_command(
      {api, "keys", "create", "--tenant", "acme", "--scopes", "webhooks:read"}, {}, 20s, options);
  EXPECT_EQ(created.exit_code, 0) << created.err;
  EXPECT_TRUE(created.out.starts_with("hsk_live_")) << created.out;
  const auto listed = run_command({api, "keys", "list", "--tenant", "acme"}, {}, 20s, options);
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("key_"), std::string::npos) << listed.out;
  const auto reseal = run_command({api, "secrets", "reseal"}, {}, 20s, options);
  EXPECT_EQ(reseal.exit_code, 2) << reseal.out;
  EXPECT_NE(reseal.err.find("HOOKSTREAM_SECRET_KEYS: is required"), std::string::npos)
      << reseal.err;
}

}  // namespace
}  // namespace hookstream::testing
