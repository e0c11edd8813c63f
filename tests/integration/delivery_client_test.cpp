// The delivery client against a real in-test HTTP server on loopback: outcomes, headers, limits,
// keep-alive, stale connections and the address guard (TLS and the pool's bounds:
// delivery_client_tls_test.cpp).
#include "tests/integration/delivery_client_server.hpp"

namespace hookstream::http {
namespace {

using namespace test_server;

TEST(DeliveryClient, SuccessKeepsTheResponseBody) {
  TestServer server(always(respond(200, "thanks")));
  Client client;
  const auto r = client.post(http_url(server));
  EXPECT_EQ(to_string(r.outcome), "success") << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "thanks");
  EXPECT_TRUE(r.error.empty());
  EXPECT_EQ(r.remote_address, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_FALSE(r.retry_after.has_value());
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].method, "POST");
  EXPECT_EQ(server.requests()[0].target, "/hook");
  EXPECT_EQ(server.requests()[0].body, R"({"hello":"world"})");
}

TEST(DeliveryClient, SendsExactlyTheExpectedHeaders) {
  TestServer server(always(respond(204)));
  Client client;
  auto request = Client::request(http_url(server) + "?a=1", "{}");
  request.headers = {{"webhook-id", "msg_1"},
                     {"X-Custom", "a b  c"},
                     {"x-dup", "1"},
                     {"x-dup", "2"},
                     {"x-evil", "v\r\nx-injected: yes"},
                     {"Content-Length", "999"},
                     {"Host", "elsewhere.example"}};
  const auto r = client.post(request);
  EXPECT_EQ(r.outcome, Outcome::success) << r.error;
  ASSERT_EQ(server.requests().size(), 1u);
  const auto got = server.requests()[0];
  EXPECT_EQ(got.target, "/hook?a=1");
  EXPECT_EQ(got.header("user-agent"), std::string("hookstream/") + HOOKSTREAM_VERSION);
  EXPECT_EQ(got.header("content-type"), "application/json");
  EXPECT_EQ(got.header("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(got.header("content-length"), "2");
  EXPECT_EQ(got.header("webhook-id"), "msg_1");
  EXPECT_EQ(got.header("x-custom"), "a b  c");
  EXPECT_EQ(got.values("x-dup"), (std::vector<std::string>{"1", "2"}));
  EXPECT_TRUE(got.values("x-evil").empty());
  EXPECT_TRUE(got.values("x-injected").empty());
  std::vector<std::string> names;
  for (const auto& [k, v] : got.headers) names.push_back(k);
  const std::vector<std::string> expected{"Host",       "Content-Type",  "User-Agent",
                                          "webhook-id", "X-Custom",      "x-dup",
                                          "x-dup",      "Content-Length"};
  EXPECT_EQ(names, expected);
}

TEST(DeliveryClient, CallerContentTypeAndUserAgentReplaceTheDefaults) {
  TestServer server(always(respond(200)));
  Client client;
  auto request = Client::request(http_url(server));
  request.headers = {{"content-type", "application/cloudevents+json"}, {"user-agent", "custom/1"}};
  EXPECT_EQ(client.post(request).outcome, Outcome::success);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].header("content-type"), "application/cloudevents+json");
  EXPECT_EQ(server.requests()[0].header("user-agent"), "custom/1");
}

TEST(DeliveryClient, ServerErrorIsAnHttpErrorWithItsStatus) {
  TestServer server(always(respond(500, "boom")));
  Client client;
  const auto r = client.post(http_url(server));
  EXPECT_EQ(r.outcome, Outcome::http_error);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "boom");
  EXPECT_NE(r.error.find("500"), std::string::npos) << r.error;
  EXPECT_TRUE(is_retriable(r.outcome, r.status));
}

TEST(DeliveryClient, RedirectsAreNotFollowed) {
  TestServer server([](const ReceivedRequest& req, std::size_t) {
    Reply r = respond(301);
    if (req.target == "/hook") r.headers = {{"location", "/elsewhere"}};
    return r;
  });
  Client client;
  const auto r = client.post(http_url(server));
  EXPECT_EQ(r.outcome, Outcome::http_error);
  EXPECT_EQ(r.status, 301);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].target, "/hook");
}

TEST(DeliveryClient, LargeResponseBodyIsTruncatedAndTheConnectionDropped) {
  std::string big(1024 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  TestServer server(always(respond(200, big)));
  Client client;
  const auto r = client.post(http_url(server));
  EXPECT_EQ(r.outcome, Outcome::success) << r.error;
  EXPECT_EQ(r.body, big.substr(0, 1024));
  EXPECT_EQ(client->idle_connections(), 0u);
  // The next delivery gets a fresh connection and works.
  EXPECT_EQ(client.post(http_url(server)).outcome, Outcome::success);
  EXPECT_EQ(server.accepts(), 2u);
}

TEST(DeliveryClient, ChunkedBodyUnderTheDrainLimitKeepsTheConnection) {
  TestServer server([](const ReceivedRequest&, std::size_t) {
    Reply r;
    r.kind = Reply::Kind::raw;
    r.raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    // Raw replies close afterwards, so this checks body assembly rather than reuse.
    for (int i = 0; i < 10; ++i) r.raw += "200\r\n" + std::string(0x200, 'z') + "\r\n";
    r.raw += "0\r\n\r\n";
    return r;
  });
  Client client;
  const auto r = client.post(http_url(server));
  EXPECT_EQ(r.outcome, Outcome::success) << r.error;
  EXPECT_EQ(r.body, std::string(1024, 'z'));
}

TEST(DeliveryClient, ServerThatNeverAnswersTimesOut) {
  Reply hang;
  hang.kind = Reply::Kind::hang;
  TestServer server(always(hang));
  Client client;
  const auto started = Clock::now();
  const auto r = client.post(http_url(server), "{}", Millis{500});
  const auto elapsed = std::chrono::duration_cast<Millis>(Clock::now() - started);
  std::cout << "[ timing ] never-answering server, timeout 500 ms: " << elapsed.count() << " ms\n";
  EXPECT_EQ(r.outcome, Outcome::timeout) << r.error;
  EXPECT_GE(elapsed, Millis{500});
  EXPECT_LT(elapsed, Millis{1500});
  EXPECT_GE(r.duration, Millis{500});
  EXPECT_EQ(client->idle_connections(), 0u);
}

TEST(DeliveryClient, ResponseThatNeverFinishesTimesOut) {
  Reply partial;
  partial.kind = Reply::Kind::raw;
  partial.raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part";
  partial.hang_after = true;
  TestServer server(always(partial));
  Client client;
  const auto started = Clock::now();
  const auto r = client.post(http_url(server), "{}", Millis{500});
  const auto elapsed = std::chrono::duration_cast<Millis>(Clock::now() - started);
  std::cout << "[ timing ] response body that never finishes, timeout 500 ms: " << elapsed.count()
            << " ms\n";
  EXPECT_EQ(r.outcome, Outcome::timeout) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(elapsed, Millis{500});
  EXPECT_LT(elapsed, Millis{1500});
}

TEST(DeliveryClient, NothingListeningIsAConnectFailure) {
  Client client;
  const auto r = client.post("http://127.0.0.1:" + std::to_string(free_port()) + "/");
  EXPECT_EQ(r.outcome, Outcome::connect) << r.error;
  EXPECT_NE(r.error.find("refused"), std::string::npos) << r.error;
  EXPECT_TRUE(is_retriable(r.outcome, r.status));
}

TEST(DeliveryClient, UnresolvableNameIsADnsFailure) {
  Client client;
  const auto r = client.post("http://no-such-host.invalid/");
  EXPECT_EQ(r.outcome, Outcome::dns) << r.error;
}

TEST(DeliveryClient, LoopbackIsBlockedHoweverItIsSpelled) {
  TestServer server(always(respond(200)));
  Client client(ClientOptions{});
  const auto port = std::to_string(server.port());
  for (const std::string host :
       {"127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "localhost", "[::ffff:127.0.0.1]"}) {
    const auto r = client.post("http://" + host + ":" + port + "/");
    EXPECT_EQ(r.outcome, Outcome::blocked_address) << host << ": " << r.error;
    EXPECT_NE(r.error.find("loopback"), std::string::npos) << host << ": " << r.error;
    EXPECT_TRUE(r.remote_address.empty());
  }
  const auto decimal = client.post("http://2130706433:" + port + "/");
  EXPECT_NE(decimal.error.find("127.0.0.1"), std::string::npos) << decimal.error;
  EXPECT_FALSE(is_retriable(decimal.outcome, decimal.status));
  EXPECT_EQ(server.accepts(), 0u);
}

TEST(DeliveryClient, AllowPrivateTargetsAdmitsLoopback) {
  TestServer server(always(respond(200)));
  Client client;  // allow_private_targets = true
  const auto port = std::to_string(server.port());
  for (const std::string host : {"127.0.0.1", "2130706433", "localhost"}) {
    const auto r = client.post("http://" + host + ":" + port + "/");
    EXPECT_EQ(r.outcome, Outcome::success) << host << ": " << r.error;
    EXPECT_EQ(r.remote_address, "127.0.0.1:" + port) << host;
  }
}

TEST(DeliveryClient, KeepAliveReusesOneConnection) {
  TestServer server(always(respond(200, "ok")));
  Client client;
  EXPECT_EQ(client.post(http_url(server)).outcome, Outcome::success);
  EXPECT_EQ(client->idle_connections(), 1u);
  EXPECT_EQ(client.post(http_url(server)).outcome, Outcome::success);
  EXPECT_EQ(client.post(http_url(server)).outcome, Outcome::success);
  EXPECT_EQ(server.accepts(), 1u);
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(client->idle_connections(), 1u);
}

TEST(DeliveryClient, ConnectionCloseIsHonoured) {
  Reply r = respond(200);
  r.headers = {{"connection", "close"}};
  TestServer server(always(r));
  Client client;
  EXPECT_EQ(client.post(http_url(server)).outcome, Outcome::success);
  EXPECT_EQ(client->idle_connections(), 0u);
}

TEST(DeliveryClient, IdleConnectionClosedByTheServerIsReplaced) {
  Reply r = respond(200);
  r.close_after = true;  // promises keep-alive, then closes
  TestServer server(always(r));
  Client client;
  EXPECT_EQ(client.post(http_url(server)).outcome, Outcome::success);
  ASSERT_TRUE(eventually([&] { return server.closed() == 1; }, 5s));
  const auto second = client.post(http_url(server));
  EXPECT_EQ(second.outcome, Outcome::success) << second.error;
  EXPECT_EQ(server.accepts(), 2u);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(DeliveryClient, StaleConnectionIsRetriedOnceOnAFreshOne) {
  // The second request on any connection is read and then dropped without an answer, as when a
  // receiver closes an idle connection just as the client reuses it.
  TestServer server([](const ReceivedRequest&, std::size_t index) {
    Reply r = respond(200, "fresh");
    if (index == 1) r.kind = Reply::Kind::close;
    return r;
  });
  Client client;
  EXPECT_EQ(client.post(http_url(server)).outcome, Outcome::success);
  ASSERT_EQ(client->idle_connections(), 1u);
  const auto r = client.post(http_url(server));
  EXPECT_EQ(r.outcome, Outcome::success) << r.error;
  EXPECT_EQ(r.body, "fresh");
  EXPECT_EQ(server.accepts(), 2u);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(DeliveryClient, RemoteClosingWithoutAnswerIsInvalidResponseAndNotRetried) {
  Reply close;
  close.kind = Reply::Kind::close;
  TestServer server(always(close));
  Client client;
  const auto r = client.post(http_url(server));
  EXPECT_EQ(r.outcome, Outcome::invalid_response) << r.error;
  EXPECT_NE(r.error.find("without a response"), std::string::npos) << r.error;
  EXPECT_EQ(server.requests().size(), 1u);  // a fresh connection is not retried
}

TEST(DeliveryClient, HalfWrittenResponseIsInvalidResponse) {
  for (const std::string raw : {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc",
                                "HTTP/1.1 200 OK\r\nContent-Le", "garbage\r\n\r\n"}) {
    Reply half;
    half.kind = Reply::Kind::raw;
    half.raw = raw;
    TestServer server(always(half));
    Client client;
    const auto started = Clock::now();
    const auto r = client.post(http_url(server), "{}", Millis{5000});
    EXPECT_EQ(r.outcome, Outcome::invalid_response) << raw << ": " << r.error;
    EXPECT_LT(Clock::now() - started, 2s) << raw;
    EXPECT_EQ(client->idle_connections(), 0u);
  }
}

TEST(DeliveryClient, RetryAfterIsParsedOn429And503) {
  TestServer server([](const ReceivedRequest& req, std::size_t) {
    Reply r = respond(req.target == "/busy" ? 503 : 429);
    r.headers = {{"retry-after", req.target == "/busy" ? "Fri, 01 Jan 2100 00:00:00 GMT" : "7"}};
    return r;
  });
  Client client;
  const auto limited = client.post(http_url(server));
  EXPECT_EQ(limited.outcome, Outcome::http_error);
  EXPECT_EQ(limited.status, 429);
  ASSERT_TRUE(limited.retry_after.has_value());
  EXPECT_EQ(*limited.retry_after, Millis{7000});
  const auto busy = client.post("http://127.0.0.1:" + std::to_string(server.port()) + "/busy");
  EXPECT_EQ(busy.status, 503);
  ASSERT_TRUE(busy.retry_after.has_value());
  EXPECT_GT(*busy.retry_after, std::chrono::hours(24 * 300));  // far future, capped
}

TEST(DeliveryClient, RetryAfterIsIgnoredOnOtherStatuses) {
  Reply r = respond(500);
  r.headers = {{"retry-after", "7"}};
  TestServer server(always(r));
  Client client;
  EXPECT_FALSE(client.post(http_url(server)).retry_after.has_value());
}

}  // namespace
}  // namespace hookstream::http
