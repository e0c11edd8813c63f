// The portal's files as hookstream-api serves them (SPEC §7): /portal/ and its assets, built into
// the binary, under a Content-Security-Policy without inline script, framed only where
// HOOKSTREAM_PORTAL_FRAME_ANCESTORS allows. (Its screens are driven in Chromium by tests/portal/.)
#include <gtest/gtest.h>

#include <regex>

#include "tests/fixtures/api_server.hpp"
#include "tests/fixtures/kafka_cluster.hpp"
#include "tests/fixtures/redis_server.hpp"

namespace hookstream::testing {
namespace {

TEST(Portal, IsServedFromTheBinaryUnderAPolicyWithoutInlineScriptAndNotFramedByDefault) {
  RedisServer redis;
  KafkaCluster kafka;
  auto env = kafka.env();
  env["HOOKSTREAM_REDIS_URL"] = redis.url();
  ApiServer api(env);

  const auto bare = api.request("GET", "/portal");
  EXPECT_EQ(bare.status, 308);
  EXPECT_EQ(bare.header("location"), "/portal/");

  const auto index = api.request("GET", "/portal/");
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_EQ(index.header("content-type"), "text/html; charset=utf-8");
  const auto csp = index.header("content-security-policy").value_or("");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
  EXPECT_EQ(index.header("x-frame-options"), "DENY");
  EXPECT_EQ(index.header("x-content-type-options"), "nosniff");
  // Every script is a file of the portal's own; no inline handlers or styles.
  const std::regex script("<script([^>]*)>");
  int scripts = 0;
  for (auto it = std::sregex_iterator(index.body.begin(), index.body.end(), script);
       it != std::sregex_iterator(); ++it, ++scripts)
    EXPECT_NE((*it)[1].str().find("src=\"app.js\""), std::string::npos) << (*it)[0];
  EXPECT_EQ(scripts, 1);
  EXPECT_EQ(index.body.find(" on"), std::string::npos);
  EXPECT_EQ(index.body.find("style="), std::string::npos);
  // Nothing from another host.
  EXPECT_EQ(index.body.find("//"), std::string::npos);

  for (const auto& [name, type] : std::vector<std::pair<std::string, std::string>>{
           {"app.js", "text/javascript; charset=utf-8"}, {"app.css", "text/css; charset=utf-8"}}) {
    const auto r = api.request("GET", "/portal/" + name);
    EXPECT_EQ(r.status, 200) << name;
    EXPECT_EQ(r.header("content-type"), type) << name;
    EXPECT_TRUE(r.header("content-security-policy")) << name;
    EXPECT_GT(r.body.size(), 1000u) << name;
  }
  const auto js = api.request("GET", "/portal/app.js").body;
  EXPECT_EQ(js.find("innerHTML"), std::string::npos);     // text is set as text
  EXPECT_EQ(js.find("localStorage"), std::string::npos);  // the token stays in memory
  EXPECT_EQ(js.find("sessionStorage"), std::string::npos);
  EXPECT_EQ(api.request("GET", "/portal/missing.js").status, 404);
  EXPECT_EQ(api.request("GET", "/portal/..%2fapi").status, 404);
}

TEST(Portal, FrameAncestorsComeFromTheSettingAndABadOneStopsTheApi) {
  RedisServer redis;
  KafkaCluster kafka;
  auto env = kafka.env();
  env["HOOKSTREAM_REDIS_URL"] = redis.url();
  env["HOOKSTREAM_PORTAL_FRAME_ANCESTORS"] = "'self' https://app.example.com,https://*.example.org";
  {
    ApiServer api(env);
    const auto index = api.request("GET", "/portal/");
    ASSERT_EQ(index.status, 200);
    EXPECT_NE(index.header("content-security-policy")
                  .value_or("")
                  .find("frame-ancestors 'self' https://app.example.com https://*.example.org"),
              std::string::npos)
        << index.header("content-security-policy").value_or("");
    EXPECT_FALSE(index.header("x-frame-options"));
  }
  for (const auto* bad : {"*", "https://a.example.com; script-src *", "javascript:alert(1)",
                          "https://a.*.example.com"}) {
    env["HOOKSTREAM_PORTAL_FRAME_ANCESTORS"] = bad;
    ProcessOptions options;
    options.env = env;
    const auto r = run_command({binary_path("hookstream-api").string()}, {}, 30s, options);
    EXPECT_NE(r.exit_code, 0) << bad;
    EXPECT_NE(r.err.find("HOOKSTREAM_PORTAL_FRAME_ANCESTORS"), std::string::npos) << bad << r.err;
  }
}

}  // namespace
}  // namespace hookstream::testing
