// hookstream-api, the real binary, over HTTP against a real redis-server and the embedded Kafka
// cluster (SPEC §3).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/cloudevents.hpp"
#include "tests/fixtures/api_server.hpp"
#include "tests/fixtures/kafka_cluster.hpp"
#include "tests/fixtures/process.hpp"
#include "tests/fixtures/redis_server.hpp"

namespace hookstream::testing {
namespace {

using nlohmann::json;

class Api : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    redis_ = new RedisServer();
    kafka_ = new KafkaCluster();
    auto env = kafka_->env();
    env["HOOKSTREAM_REDIS_URL"] = redis_->url();
    env["HOOKSTREAM_API_KEY_CACHE_TTL"] = "1s";
    env["HOOKSTREAM_REDIS_COMMAND_TIMEOUT"] = "1s";
    env["HOOKSTREAM_PRODUCE_TIMEOUT"] = "3s";
    api_ = new ApiServer(env);
    admin_ = new CreatedKey(api_->create_key("acme", kAllScopes));
  }
  static void TearDownTestSuite() {
    delete admin_;
    delete api_;
    delete kafka_;
    delete redis_;
  }

  static HttpResult call(const std::string& method, const std::string& target,
                         const std::string& body = {}, const std::string& key = admin_->key,
                         std::map<std::string, std::string> headers = {}) {
    return api_->request(method, target, key, body, std::move(headers));
  }

  static json create_webhook(const json& body, const std::string& key = admin_->key) {
    auto r = call("POST", "/v1/webhooks", body.dump(), key);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.json()["data"]["webhook"];
  }

  static void expect_error(const HttpResult& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    const auto j = r.json();
    EXPECT_EQ(j.value("success", true), false) << r.body;
    EXPECT_EQ(j["error"].value("code", ""), code) << r.body;
    EXPECT_FALSE(j["error"].value("message", "").empty()) << r.body;
    EXPECT_TRUE(j["error"].contains("details")) << r.body;
  }

  static RedisServer* redis_;
  static KafkaCluster* kafka_;
  static ApiServer* api_;
  static CreatedKey* admin_;
};

RedisServer* Api::redis_ = nullptr;
KafkaCluster* Api::kafka_ = nullptr;
ApiServer* Api::api_ = nullptr;
CreatedKey* Api::admin_ = nullptr;

const json kHook = {{"url", "https://example.com/hooks"},
                    {"events", {"submission.completed", "contact.created"}},
                    {"description", "CRM sync"},
                    {"headers", {{"X-Customer", "42"}}}};

TEST_F(Api, HealthReadinessMetricsAndDocument) {
  EXPECT_EQ(api_->request("GET", "/healthz").status, 200);
  const auto ready = api_->request("GET", "/readyz");
  EXPECT_TRUE(eventually([&] { return api_->request("GET", "/readyz").status == 200; }, 15s))
      << ready.body;
  const auto metrics = api_->request("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("hookstream_api_requests_total"), std::string::npos);
  const auto doc = api_->request("GET", "/v1/openapi.json");
  EXPECT_EQ(doc.status, 200);
  EXPECT_EQ(doc.json().value("openapi", "").substr(0, 2), "3.");
}

TEST_F(Api, EventTypesNeedAnyValidKey) {
  const auto r = call("GET", "/v1/event-types");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto types = r.json()["data"]["event_types"];
  EXPECT_EQ(types.size(), 5u);
  expect_error(call("GET", "/v1/event-types", {}, ""), 401, "authentication_required");
}

TEST_F(Api, CreateReturnsTheSecretOnlyOnce) {
  const auto w = create_webhook(kHook);
  EXPECT_TRUE(w.value("id", "").starts_with("wh_")) << w;
  EXPECT_TRUE(w.value("secret", "").starts_with("whsec_")) << w;
  EXPECT_EQ(w["url"], "https://example.com/hooks");
  EXPECT_EQ(w["status"], "active");
  EXPECT_EQ(w["is_active"], true);
  EXPECT_EQ(w["consecutive_fails"], 0);
  EXPECT_TRUE(w["last_delivery_at"].is_null());
  EXPECT_EQ(w["headers"]["X-Customer"], "42");

  const auto got = call("GET", "/v1/webhooks/" + w["id"].get<std::string>());
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_FALSE(got.json()["data"]["webhook"].contains("secret"));
  EXPECT_EQ(got.json()["data"]["webhook"]["description"], "CRM sync");
  const auto listed = call("GET", "/v1/webhooks?limit=100");
  ASSERT_EQ(listed.status, 200);
  const auto webhooks =
      listed.json()["data"]["webhooks"];  // a named copy: the range must outlive the loop
  for (const auto& item : webhooks) EXPECT_FALSE(item.contains("secret"));
  EXPECT_EQ(listed.body.find(w["secret"].get<std::string>()), std::string::npos);
}

TEST_F(Api, PatchChangesOnlyTheGivenFields) {
  const auto w = create_webhook(kHook);
  const std::string path = "/v1/webhooks/" + w["id"].get<std::string>();
  const auto r = call("PATCH", path, R"({"description":"renamed"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto p = r.json()["data"]["webhook"];
  EXPECT_EQ(p["description"], "renamed");
  EXPECT_EQ(p["url"], w["url"]);
  EXPECT_EQ(p["events"], w["events"]);
  EXPECT_EQ(p["headers"], w["headers"]);
  EXPECT_EQ(p["status"], "active");
  EXPECT_EQ(p["created_at"], w["created_at"]);

  const auto off = call("PATCH", path, R"({"is_active":false})").json()["data"]["webhook"];
  EXPECT_EQ(off["status"], "disabled");
  EXPECT_EQ(off["is_active"], false);
  EXPECT_EQ(off["description"], "renamed");
  const auto on = call("PATCH", path, R"({"is_active":true})").json()["data"]["webhook"];
  EXPECT_EQ(on["status"], "active");
}

TEST_F(Api, DeleteThenGetIsNotFound) {
  const auto w = create_webhook(kHook);
  const std::string path = "/v1/webhooks/" + w["id"].get<std::string>();
  // Its delivery index (written by the dispatcher) goes with it.
  const auto redis_cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"redis-cli", "-p", std::to_string(redis_->port()), "--raw"});
    return run_command(args).out;
  };
  const std::string index = "hs:wh:" + w["id"].get<std::string>() + ":deliveries";
  ASSERT_EQ(redis_cli({"ZADD", index, "0", "0000000000000001:dlv_x"}), "1\n");
  const auto del = call("DELETE", path);
  EXPECT_EQ(del.status, 204);
  EXPECT_TRUE(del.body.empty());
  EXPECT_EQ(redis_cli({"EXISTS", index}), "0\n");
  expect_error(call("GET", path), 404, "resource_not_found");
  expect_error(call("DELETE", path), 404, "resource_not_found");
  expect_error(call("PATCH", path, R"({"description":"x"})"), 404, "resource_not_found");
}

TEST_F(Api, ListPaginatesWithACursor) {
  const auto other = api_->create_key("paginated", kAllScopes);
  std::set<std::string> created;
  for (int i = 0; i < 5; ++i)
    created.insert(create_webhook(kHook, other.key)["id"].get<std::string>());
  std::set<std::string> seen;
  std::string target = "/v1/webhooks?limit=2";
  int pages = 0;
  for (;;) {
    const auto r = call("GET", target, {}, other.key);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto data = r.json()["data"];
    EXPECT_LE(data["webhooks"].size(), 2u);
    for (const auto& w : data["webhooks"])
      EXPECT_TRUE(seen.insert(w["id"].get<std::string>()).second);
    ++pages;
    if (data["next_cursor"].is_null()) break;
    target = "/v1/webhooks?limit=2&cursor=" + data["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(seen, created);
  EXPECT_EQ(pages, 3);
  expect_error(call("GET", "/v1/webhooks?limit=0", {}, other.key), 400, "validation_failed");
  expect_error(call("GET", "/v1/webhooks?limit=101", {}, other.key), 400, "validation_failed");
}

TEST_F(Api, RotateSecretReturnsANewSecret) {
  const auto w = create_webhook(kHook);
  const auto r = call("POST", "/v1/webhooks/" + w["id"].get<std::string>() + "/rotate-secret");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto data = r.json()["data"];
  EXPECT_TRUE(data["webhook"]["secret"].get<std::string>().starts_with("whsec_"));
  EXPECT_NE(data["webhook"]["secret"], w["secret"]);
  EXPECT_FALSE(data["previous_secret_expires_at"].is_null());
}

TEST_F(Api, CreateAcceptsACallerChosenSecret) {
  const std::string secret = "whsec_" + std::string(32, 'A');  // base64 of 24 zero bytes
  const auto r = call(
      "POST", "/v1/webhooks",
      json{{"url", "https://example.com/hooks"}, {"events", {"*"}}, {"secret", secret}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json()["data"]["webhook"]["secret"], secret);
  for (const char* bad :
       {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "whsec_AAAA", "whsec_not*base64", "whsec_"}) {
    const auto refused =
        call("POST", "/v1/webhooks",
             json{{"url", "https://example.com/hooks"}, {"events", {"*"}}, {"secret", bad}}.dump());
    expect_error(refused, 400, "validation_failed");
    EXPECT_TRUE(refused.json()["error"]["details"]["fields"].contains("secret")) << refused.body;
  }
}

TEST_F(Api, ValidationNamesEachField) {
  const auto r = call("POST", "/v1/webhooks",
                      json{{"url", "http://example.com"},
                           {"events", {"contact.created", "nope.nope", "contact.created"}},
                           {"description", std::string(501, 'x')},
                           {"headers", {{"Webhook-Signature", "x"}, {"X-Ok", "a\r\nb"}}},
                           {"colour", "red"}}
                          .dump());
  expect_error(r, 400, "validation_failed");
  const auto fields = r.json()["error"]["details"]["fields"];
  for (const char* f : {"url", "events[1]", "events[2]", "description", "headers.Webhook-Signature",
                        "headers.X-Ok", "colour"})
    EXPECT_TRUE(fields.contains(f)) << f << " in " << fields;
  for (const auto& bad :
       {json{{"url", "https://user:pw@example.com"}, {"events", {"*"}}},
        json{{"url", "ftp://example.com"}, {"events", {"*"}}},
        json{{"url", "https://"}, {"events", {"*"}}},
        json{{"url", "https://example.com"}, {"events", json::array()}}, json{{"events", {"*"}}}})
    expect_error(call("POST", "/v1/webhooks", bad.dump()), 400, "validation_failed");
  expect_error(call("POST", "/v1/webhooks", "{not json"), 400, "validation_failed");
  expect_error(call("POST", "/v1/webhooks", "[1,2]"), 400, "validation_failed");
}

TEST_F(Api, FilterIsStoredReturnedReplacedAndRemoved) {
  const json amount = json::parse(R"({"data":{"amount":{"$gte":100}}})");
  auto body = kHook;
  body["filter"] = amount;
  const auto w = create_webhook(body);
  EXPECT_EQ(w["filter"], amount) << w;
  const std::string path = "/v1/webhooks/" + w["id"].get<std::string>();
  EXPECT_EQ(call("GET", path).json()["data"]["webhook"]["filter"], amount);

  // Only the given fields change: the filter stays through other edits.
  const auto renamed = call("PATCH", path, R"({"description":"renamed"})");
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(renamed.json()["data"]["webhook"]["filter"], amount);

  const json regions =
      json::parse(R"({"$or":[{"data":{"region":"eu"}},{"data":{"region":"us"}}]})");
  const auto replaced = call("PATCH", path, json{{"filter", regions}}.dump());
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(replaced.json()["data"]["webhook"]["filter"], regions);
  EXPECT_EQ(replaced.json()["data"]["webhook"]["url"], w["url"]);
  bool listed = false;
  const auto page = call("GET", "/v1/webhooks?limit=100").json()["data"]["webhooks"];
  for (const auto& item : page)
    if (item["id"] == w["id"]) listed = item["filter"] == regions;
  EXPECT_TRUE(listed) << page;

  // null removes it; a webhook created without one shows null.
  const auto removed = call("PATCH", path, R"({"filter":null})");
  ASSERT_EQ(removed.status, 200) << removed.body;
  EXPECT_TRUE(removed.json()["data"]["webhook"]["filter"].is_null()) << removed.body;
  EXPECT_TRUE(call("GET", path).json()["data"]["webhook"]["filter"].is_null());
  const auto plain = create_webhook(kHook);
  EXPECT_TRUE(plain.contains("filter") && plain["filter"].is_null()) << plain;
  auto with_null = kHook;
  with_null["filter"] = nullptr;
  EXPECT_TRUE(create_webhook(with_null)["filter"].is_null());
}

TEST_F(Api, BadFiltersAreRefusedNamingTheirPath) {
  // The detail that names where in the filter the problem is, for a create with `filter`.
  const auto refused = [&](const json& filter, const std::string& method = "POST",
                           const std::string& target = "/v1/webhooks") {
    auto body = method == "POST" ? kHook : json::object();
    body["filter"] = filter;
    const auto r = call(method, target, body.dump());
    expect_error(r, 400, "validation_failed");
    return r.json()["error"]["details"]["fields"];
  };
  EXPECT_EQ(refused(json::parse(R"({"data":{"amount":{"$gte":true}}})")),
            json::parse(R"({"filter.data.amount.$gte":"expected a number or a string"})"));
  EXPECT_EQ(
      refused(json::parse(R"({"$or":[{"type":"contact.created"},{"data":{"n":{"$in":1}}}]})")),
      json::parse(R"({"filter.$or[1].data.n.$in":"expected an array of values"})"));
  EXPECT_TRUE(
      refused(json::parse(R"({"data":{"n":{"$regex":"a"}}})")).contains("filter.data.n.$regex"));
  EXPECT_TRUE(refused("type=contact.created").contains("filter"));
  json deep = 1;
  for (int i = 0; i < 9; ++i) deep = json{{"k", deep}};
  EXPECT_EQ(refused(deep)["filter.k.k.k.k.k.k.k.k"], "nested deeper than 8 levels");
  const auto too_long = refused(json{{"data", {{"s", std::string(5000, 'x')}}}});
  EXPECT_NE(too_long["filter"].get<std::string>().find("the limit is 4096"), std::string::npos);

  // A refused PATCH changes nothing.
  auto body = kHook;
  body["filter"] = json::parse(R"({"type":"contact.created"})");
  const auto w = create_webhook(body);
  const std::string path = "/v1/webhooks/" + w["id"].get<std::string>();
  EXPECT_EQ(refused(json::parse(R"({"$and":[]})"), "PATCH", path),
            json::parse(R"j({"filter.$and":"expected a non-empty array of filters (objects)"})j"));
  EXPECT_EQ(call("GET", path).json()["data"]["webhook"]["filter"], body["filter"]);
}

TEST_F(Api, TenantsCannotSeeEachOther) {
  const auto w = create_webhook(kHook);
  const auto other = api_->create_key("globex", kAllScopes);
  const std::string path = "/v1/webhooks/" + w["id"].get<std::string>();
  expect_error(call("GET", path, {}, other.key), 404, "resource_not_found");
  expect_error(call("PATCH", path, R"({"description":"x"})", other.key), 404, "resource_not_found");
  expect_error(call("DELETE", path, {}, other.key), 404, "resource_not_found");
  expect_error(call("POST", path + "/rotate-secret", {}, other.key), 404, "resource_not_found");
  const auto list = call("GET", "/v1/webhooks", {}, other.key);
  EXPECT_EQ(list.body.find(w["id"].get<std::string>()), std::string::npos);
  expect_error(call("GET", "/v1/api-keys/" + admin_->id, {}, other.key), 404, "resource_not_found");
  EXPECT_EQ(call("GET", path).status, 200);
}

TEST_F(Api, MissingScopeIsForbiddenNamingTheScope) {
  const auto reader = api_->create_key("acme", "webhooks:read");
  const auto r = call("POST", "/v1/webhooks", kHook.dump(), reader.key);
  expect_error(r, 403, "insufficient_scopes");
  EXPECT_EQ(r.json()["error"]["details"]["required_scopes"], json({"webhooks:write"}));
  expect_error(call("POST", "/v1/events", R"({"type":"contact.created","data":{}})", reader.key),
               403, "insufficient_scopes");
  expect_error(call("GET", "/v1/api-keys", {}, reader.key), 403, "insufficient_scopes");
  EXPECT_EQ(call("GET", "/v1/webhooks", {}, reader.key).status, 200);
}

TEST_F(Api, MissingUnknownExpiredAndRevokedKeysAreRejected) {
  expect_error(api_->request("GET", "/v1/webhooks"), 401, "authentication_required");
  expect_error(call("GET", "/v1/webhooks", {}, "hsk_live_" + std::string(40, 'A')), 401,
               "authentication_required");
  expect_error(call("GET", "/v1/webhooks", {}, "garbage"), 401, "authentication_required");
  // X-API-Key works as well as Bearer.
  EXPECT_EQ(api_->request("GET", "/v1/webhooks", {}, {}, {{"X-API-Key", admin_->key}}).status, 200);

  const auto short_lived = api_->create_key("acme", kAllScopes, {"--expires-in", "1s"});
  EXPECT_EQ(call("GET", "/v1/webhooks", {}, short_lived.key).status, 200);
  EXPECT_TRUE(eventually(
      [&] { return call("GET", "/v1/webhooks", {}, short_lived.key).status == 401; }, 10s));

  // Revoked through the API: this replica forgets it at once.
  auto created = call("POST", "/v1/api-keys", R"({"name":"ci","scopes":["webhooks:read"]})");
  ASSERT_EQ(created.status, 201) << created.body;
  const auto k = created.json()["data"]["api_key"];
  const std::string secret = k["key"];
  EXPECT_TRUE(secret.starts_with("hsk_live_"));
  EXPECT_EQ(call("GET", "/v1/webhooks", {}, secret).status, 200);
  EXPECT_EQ(call("DELETE", "/v1/api-keys/" + k["id"].get<std::string>()).status, 204);
  expect_error(call("GET", "/v1/webhooks", {}, secret), 401, "authentication_required");

  // Revoked through the admin CLI (as another replica would see it): gone within the cache TTL.
  const auto cli_key = api_->create_key("acme", "webhooks:read");
  EXPECT_EQ(call("GET", "/v1/webhooks", {}, cli_key.key).status, 200);
  const auto revoked = api_->admin({"keys", "revoke", cli_key.id});
  EXPECT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_TRUE(
      eventually([&] { return call("GET", "/v1/webhooks", {}, cli_key.key).status == 401; }, 5s));
}

TEST_F(Api, ApiKeysListWithoutSecrets) {
  auto created =
      call("POST", "/v1/api-keys",
           R"({"name":"deploy","scopes":["events:write"],"rate_limit":500,"expires_in":"30d"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const auto k = created.json()["data"]["api_key"];
  EXPECT_EQ(k["rate_limit"], 500);
  EXPECT_FALSE(k["expires_at"].is_null());
  const auto list = call("GET", "/v1/api-keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(k["key"].get<std::string>()), std::string::npos);
  bool found = false;
  const auto keys = list.json()["data"]["api_keys"];
  for (const auto& item : keys) {
    EXPECT_FALSE(item.contains("key"));
    found = found || item["id"] == k["id"];
  }
  EXPECT_TRUE(found) << list.body;
  const auto one = call("GET", "/v1/api-keys/" + k["id"].get<std::string>());
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(one.json()["data"]["api_key"]["name"], "deploy");
  expect_error(call("POST", "/v1/api-keys", R"({"scopes":["root"]})"), 400, "validation_failed");
  const auto cli = api_->admin({"keys", "list", "--tenant", "acme"});
  EXPECT_EQ(cli.exit_code, 0);
  EXPECT_NE(cli.out.find(k["id"].get<std::string>()), std::string::npos);
  EXPECT_EQ(cli.out.find(k["key"].get<std::string>()), std::string::npos);
}

TEST_F(Api, RateLimitHeadersAnd429) {
  const auto limited = api_->create_key("limited", kAllScopes, {"--rate-limit", "5"});
  int ok = 0;
  HttpResult last;
  for (int i = 0; i < 8; ++i) {
    last = call("GET", "/v1/webhooks", {}, limited.key);
    if (last.status == 200) {
      ++ok;
      EXPECT_EQ(last.header("X-RateLimit-Limit"), "5");
      EXPECT_TRUE(last.header("X-RateLimit-Remaining").has_value());
      EXPECT_TRUE(last.header("X-RateLimit-Reset").has_value());
    }
  }
  // A minute boundary can fall between the requests; at most one fresh window then.
  EXPECT_GE(ok, 5);
  EXPECT_LE(ok, 6);
  expect_error(last, 429, "rate_limit_exceeded");
  const auto retry_after = std::stoi(last.header("Retry-After").value_or("0"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 60);
  EXPECT_EQ(last.header("X-RateLimit-Remaining"), "0");
  // Errors of authenticated requests carry the headers too.
  const auto admin_404 = call("GET", "/v1/webhooks/wh_nope");
  EXPECT_TRUE(admin_404.header("X-RateLimit-Limit").has_value());
}

TEST_F(Api, PostedEventIsReadBackFromKafkaWithKcat) {
  const auto r = call("POST", "/v1/events",
                      R"({"type":"submission.completed","data":{"submission_id":"s-9"}})");
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = r.json()["data"]["event"]["id"];
  EXPECT_TRUE(id.starts_with("evt_"));
  EXPECT_EQ(r.json()["data"]["event"]["type"], "submission.completed");

  const auto k = run_command({"kcat", "-C", "-b", kafka_->bootstrap(), "-t",
                              kafka_->topic_prefix() + ".events", "-e", "-J", "-q"},
                             {}, 30s);
  ASSERT_EQ(k.exit_code, 0) << k.err;
  std::optional<json> record;
  std::istringstream lines(k.out);
  for (std::string line; std::getline(lines, line);) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_object() && j["key"] == id) record = j;
  }
  ASSERT_TRUE(record.has_value()) << k.out;
  EXPECT_EQ((*record)["payload"], R"({"submission_id":"s-9"})");
  std::map<std::string, std::string> h;
  for (std::size_t i = 0; i + 1 < (*record)["headers"].size(); i += 2)
    h[(*record)["headers"][i]] = (*record)["headers"][i + 1];
  EXPECT_EQ(h["ce_specversion"], "1.0");
  EXPECT_EQ(h["ce_id"], id);
  EXPECT_EQ(h["ce_type"], "submission.completed");
  EXPECT_EQ(h["ce_tenant"], "acme");
  EXPECT_EQ(h["content-type"], "application/json");
  EXPECT_TRUE(parse_rfc3339(h["ce_time"]).ok());
}

TEST_F(Api, EventIdempotency) {
  auto count_with_key = [&](const std::string& key) {
    const auto k = run_command({"kcat", "-C", "-b", kafka_->bootstrap(), "-t",
                                kafka_->topic_prefix() + ".events", "-e", "-J", "-q"},
                               {}, 30s);
    int n = 0;
    std::istringstream lines(k.out);
    for (std::string line; std::getline(lines, line);)
      if (json::parse(line, nullptr, false).value("key", "") == key) ++n;
    return n;
  };
  const std::string body = R"({"type":"contact.created","data":{"n":1}})";
  const auto first = call("POST", "/v1/events", body, admin_->key, {{"Idempotency-Key", "req-1"}});
  ASSERT_EQ(first.status, 202) << first.body;
  const auto second = call("POST", "/v1/events", body, admin_->key, {{"Idempotency-Key", "req-1"}});
  ASSERT_EQ(second.status, 202) << second.body;
  EXPECT_EQ(second.json()["data"], first.json()["data"]);
  EXPECT_EQ(second.header("Idempotent-Replayed"), "true");
  EXPECT_EQ(count_with_key(first.json()["data"]["event"]["id"]), 1);

  const std::string with_id = R"({"id":"evt_caller_7","type":"contact.created","data":{}})";
  EXPECT_EQ(call("POST", "/v1/events", with_id).status, 202);
  EXPECT_EQ(call("POST", "/v1/events", with_id).status, 202);
  EXPECT_EQ(count_with_key("evt_caller_7"), 1);
}

TEST_F(Api, EventValidationAndSizeLimit) {
  expect_error(call("POST", "/v1/events", R"({"type":"nope.nope","data":{}})"), 400,
               "validation_failed");
  expect_error(call("POST", "/v1/events", R"({"type":"contact.created","data":[1]})"), 400,
               "validation_failed");
  expect_error(call("POST", "/v1/events", R"({"type":"test.ping","data":{}})"), 400,
               "validation_failed");
  const std::string big =
      R"({"type":"contact.created","data":{"x":")" + std::string(300 * 1024, 'a') + "\"}}";
  expect_error(call("POST", "/v1/events", big), 413, "payload_too_large");
  const std::string huge =
      R"({"type":"contact.created","data":{"x":")" + std::string(2 * 1024 * 1024, 'a') + "\"}}";
  expect_error(call("POST", "/v1/events", huge), 413, "payload_too_large");
  EXPECT_EQ(api_->request("GET", "/healthz").status, 200);
}

TEST_F(Api, UnknownRoutesAndMethods) {
  expect_error(call("GET", "/v1/nothing"), 404, "resource_not_found");
  const auto r = call("PUT", "/v1/webhooks");
  expect_error(r, 405, "method_not_allowed");
  EXPECT_TRUE(r.header("Allow").has_value());
}

// A client that sends half a request and stalls is cut off by the request timeout, and the server
// keeps serving others meanwhile.
TEST_F(Api, StalledAndIdleClientsAreCutOff) {
  std::vector<int> fds;
  for (int i = 0; i < 20; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(api_->port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const std::string partial =
        "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"ty";
    ASSERT_GT(::write(fd, partial.data(), partial.size()), 0);
    fds.push_back(fd);
  }
  EXPECT_EQ(api_->request("GET", "/healthz").status, 200);
  EXPECT_EQ(call("GET", "/v1/webhooks").status, 200);
  for (int fd : fds) ::close(fd);
  EXPECT_TRUE(api_->process().running());
}

}  // namespace
}  // namespace hookstream::testing
