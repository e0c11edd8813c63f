// The delivery client against a real in-test HTTP(S) server on loopback: outcomes, headers, limits,
// keep-alive, stale connections, TLS verification and the address guard.
#include <gtest/gtest.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/asio.hpp"
#include "common/http/delivery_client.hpp"
#include "tests/fixtures/process.hpp"
#include "tests/fixtures/test_certs.hpp"

namespace hookstream::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using namespace std::chrono_literals;
using hookstream::testing::eventually;
using hookstream::testing::free_port;
using hookstream::testing::TestCertificates;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
  std::string body;

  std::vector<std::string> values(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : headers)
      if (beast::iequals(k, name)) out.push_back(v);
    return out;
  }
  std::string header(std::string_view name) const {
    const auto v = values(name);
    return v.size() == 1 ? v.front() : "<" + std::to_string(v.size()) + " values>";
  }
};

// What the server does with a request: the `index`-th one on its connection, counting from 0.
struct Reply {
  enum class Kind {
    respond,  // a normal response (HTTP/1.1, keep-alive unless a header says otherwise)
    hang,     // say nothing, keep the connection open
    close,    // close the connection without answering
    raw,      // write `raw` verbatim, then close (or hang, with hang_after)
  };
  Kind kind = Kind::respond;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string raw;
  bool close_after = false;  // close right after responding, although keep-alive was promised
  bool hang_after = false;
};
using Behaviour = std::function<Reply(const ReceivedRequest&, std::size_t index)>;

Reply respond(int status, std::string body = {}) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

struct ServerOptions {
  std::optional<std::filesystem::path> cert;  // TLS when set
  std::optional<std::filesystem::path> key;
  std::string address = "127.0.0.1";
};

// A Beast server on its own thread, recording what it receives.
class TestServer {
 public:
  explicit TestServer(Behaviour behaviour, ServerOptions options = {})
      : behaviour_(std::move(behaviour)), acceptor_(io_) {
    if (options.cert) {
      tls_.emplace(ssl::context::tls_server);
      tls_->use_certificate_chain_file(options.cert->string());
      tls_->use_private_key_file(options.key->string(), ssl::context::pem);
    }
    const tcp::endpoint ep(asio::ip::make_address(options.address), 0);
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestServer() {
    io_.stop();
    thread_.join();
  }

  std::uint16_t port() const { return port_; }
  std::size_t accepts() const { return accepts_; }
  std::size_t closed() const { return closed_; }
  std::size_t tls_failures() const { return tls_failures_; }
  std::vector<ReceivedRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      error_code ec;
      tcp::socket socket =
          co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      ++accepts_;
      if (tls_)
        asio::co_spawn(io_, serve_tls(std::move(socket)), asio::detached);
      else
        asio::co_spawn(io_, serve_plain(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve_plain(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    co_await serve(stream);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    ++closed_;
  }

  asio::awaitable<void> serve_tls(tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls_);
    error_code ec;
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      ++tls_failures_;
    } else {
      co_await serve(stream);
    }
    beast::get_lowest_layer(stream).close();
    ++closed_;
  }

  template <typename Stream>
  asio::awaitable<void> serve(Stream& stream) {
    beast::flat_buffer buffer;
    for (std::size_t index = 0;; ++index) {
      bhttp::request<bhttp::string_body> req;
      error_code ec;
      co_await bhttp::async_read(stream, buffer, req,
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      ReceivedRequest received;
      received.method = std::string(req.method_string());
      received.target = std::string(req.target());
      for (const auto& field : req)
        received.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      received.body = req.body();
      {
        std::lock_guard lock(mu_);
        requests_.push_back(received);
      }
      const Reply reply = behaviour_(received, index);
      switch (reply.kind) {
        case Reply::Kind::hang:
          co_await hang();
          co_return;
        case Reply::Kind::close:
          co_return;
        case Reply::Kind::raw:
          co_await asio::async_write(stream, asio::buffer(reply.raw),
                                     asio::redirect_error(asio::use_awaitable, ec));
          if (reply.hang_after) co_await hang();
          co_return;
        case Reply::Kind::respond:
          break;
      }
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(reply.status), 11};
      for (const auto& [k, v] : reply.headers) res.insert(k, v);
      res.body() = reply.body;
      res.prepare_payload();
      co_await bhttp::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || reply.close_after || !res.keep_alive()) co_return;
    }
  }

  asio::awaitable<void> hang() {
    asio::steady_timer timer(io_, std::chrono::hours(1));
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  Behaviour behaviour_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::optional<ssl::context> tls_;
  std::uint16_t port_ = 0;
  std::atomic<std::size_t> accepts_{0}, closed_{0}, tls_failures_{0};
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> requests_;
  std::thread thread_;
};

// A client on the test thread's own io_context; post() runs one delivery to completion.
class Client {
 public:
  explicit Client(ClientOptions options = local_options()) {
    auto created = DeliveryClient::create(io_.get_executor(), std::move(options));
    if (!created) throw std::runtime_error(created.error().message);
    client_ = std::move(*created);
  }
  static ClientOptions local_options() {
    ClientOptions o;
    o.allow_private_targets = true;
    return o;
  }

  DeliveryResult post(const DeliveryRequest& request) {
    std::optional<DeliveryResult> out;
    std::exception_ptr error;
    asio::co_spawn(io_, client_->post(request), [&](std::exception_ptr e, DeliveryResult r) {
      error = e;
      out = std::move(r);
    });
    io_.restart();
    io_.run_for(request.timeout + 10s);
    if (error) std::rethrow_exception(error);
    if (!out) throw std::runtime_error("post() did not finish");
    return *out;
  }
  DeliveryResult post(const std::string& url, std::string body = R"({"hello":"world"})",
                      Millis timeout = Millis{5000}) {
    return post(request(url, std::move(body), timeout));
  }
  static DeliveryRequest request(const std::string& url, std::string body = R"({"hello":"world"})",
                                 Millis timeout = Millis{5000}) {
    auto parsed = parse_url(url);
    if (!parsed) throw std::runtime_error(parsed.error().message);
    DeliveryRequest r;
    r.url = *parsed;
    r.body = std::make_shared<const std::string>(std::move(body));
    r.timeout = timeout;
    return r;
  }

  DeliveryClient& operator*() { return *client_; }
  DeliveryClient* operator->() { return client_.get(); }
  asio::io_context& io() { return io_; }

 private:
  asio::io_context io_;
  std::unique_ptr<DeliveryClient> client_;
};

std::string http_url(const TestServer& s, const std::string& host = "127.0.0.1") {
  return "http://" + host + ":" + std::to_string(s.port()) + "/hook";
}
std::string https_url(const TestServer& s, const std::string& host) {
  return "https://" + host + ":" + std::to_string(s.port()) + "/hook";
}

Behaviour always(Reply reply) {
  return [reply](const ReceivedRequest&, std::size_t) { return reply; };
}

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

class DeliveryClientTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certs_ = new TestCertificates(); }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }
  static ServerOptions good_server() { return {certs_->server_cert(), certs_->server_key()}; }
  static ClientOptions trusting() {
    ClientOptions o = Client::local_options();
    o.extra_ca_file = certs_->ca_file().string();
    return o;
  }
  static TestCertificates* certs_;
};
TestCertificates* DeliveryClientTls::certs_ = nullptr;

TEST_F(DeliveryClientTls, TrustedCertificateByNameAndByIp) {
  TestServer server(always(respond(200, "secure")), good_server());
  Client client(trusting());
  for (const std::string host : {"localhost", "127.0.0.1"}) {
    const auto r = client.post(https_url(server, host));
    EXPECT_EQ(r.outcome, Outcome::success) << host << ": " << r.error;
    EXPECT_EQ(r.body, "secure");
  }
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].header("host"), "localhost:" + std::to_string(server.port()));
}

TEST_F(DeliveryClientTls, KeepAliveOverTls) {
  TestServer server(always(respond(200)), good_server());
  Client client(trusting());
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(client.post(https_url(server, "localhost")).outcome, Outcome::success);
  EXPECT_EQ(server.accepts(), 1u);
  EXPECT_EQ(client->idle_connections(), 1u);
}

TEST_F(DeliveryClientTls, UntrustedCertificateIsATlsFailure) {
  TestServer server(always(respond(200)), {certs_->wrong_cert(), certs_->wrong_key()});
  Client client(trusting());
  const auto r = client.post(https_url(server, "localhost"));
  EXPECT_EQ(r.outcome, Outcome::tls) << r.error;
  EXPECT_NE(r.error.find("certificate"), std::string::npos) << r.error;
  EXPECT_FALSE(is_retriable(r.outcome, r.status));
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(DeliveryClientTls, WithoutTheExtraCaTheTestCaIsNotTrusted) {
  TestServer server(always(respond(200)), good_server());
  Client client;
  const auto r = client.post(https_url(server, "localhost"));
  EXPECT_EQ(r.outcome, Outcome::tls) << r.error;
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(DeliveryClientTls, CertificateForAnotherAddressIsRefused) {
  // 127.0.0.2 reaches the loopback interface too, but the certificate names only 127.0.0.1.
  auto options = good_server();
  options.address = "127.0.0.2";
  TestServer server(always(respond(200)), options);
  Client client(trusting());
  const auto r = client.post(https_url(server, "127.0.0.2"));
  EXPECT_EQ(r.outcome, Outcome::tls) << r.error;
  EXPECT_NE(r.error.find("IP address mismatch"), std::string::npos) << r.error;
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(DeliveryClientTls, PlainHttpServerOnAnHttpsUrlIsATlsFailure) {
  TestServer server(always(respond(200)));
  Client client(trusting());
  const auto r = client.post(https_url(server, "localhost"));
  EXPECT_EQ(r.outcome, Outcome::tls) << r.error;
}

TEST_F(DeliveryClientTls, MissingCaFileIsAnErrorValue) {
  asio::io_context io;
  ClientOptions o;
  o.extra_ca_file = "/nonexistent/ca.pem";
  const auto created = DeliveryClient::create(io.get_executor(), o);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, "tls_ca_file");
  TestCertificates& certs = *certs_;
  o.extra_ca_file = certs.server_key().string();  // exists, but holds no certificate
  EXPECT_FALSE(DeliveryClient::create(io.get_executor(), o).ok());
}

std::size_t open_fds() {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    (void)entry;
    ++n;
  }
  return n;
}

TEST(DeliveryClient, PoolStaysBoundedAndNothingLeaks) {
  const auto fds_before = open_fds();
  {
    TestServer server(always(respond(200, "ok")));
    Reply hang;
    hang.kind = Reply::Kind::hang;
    TestServer hanging(always(hang));
    ClientOptions options = Client::local_options();
    options.max_idle_per_origin = 2;
    Client client(options);
    // Six deliveries at once need six connections; only two may stay.
    std::vector<DeliveryRequest> requests;
    for (int i = 0; i < 6; ++i) requests.push_back(Client::request(http_url(server)));
    requests.push_back(Client::request(http_url(hanging), "{}", Millis{300}));
    int done = 0;
    std::vector<Outcome> outcomes;
    for (const auto& request : requests)
      asio::co_spawn(client.io(), client->post(request),
                     [&](std::exception_ptr e, DeliveryResult r) {
                       EXPECT_FALSE(e);
                       outcomes.push_back(r.outcome);
                       ++done;
                     });
    client.io().run_for(10s);
    ASSERT_EQ(done, 7);
    EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), Outcome::success), 6);
    EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), Outcome::timeout), 1);
    EXPECT_EQ(server.accepts(), 6u);
    EXPECT_EQ(client->idle_connections(), 2u);
    // Failures of every kind leave nothing behind either.
    Reply close;
    close.kind = Reply::Kind::close;
    TestServer closing(always(close));
    EXPECT_EQ(client.post(http_url(closing)).outcome, Outcome::invalid_response);
    EXPECT_EQ(client.post("http://127.0.0.1:" + std::to_string(free_port()) + "/").outcome,
              Outcome::connect);
    EXPECT_EQ(client->idle_connections(), 2u);
  }
  EXPECT_TRUE(eventually([&] { return open_fds() == fds_before; }, 5s))
      << open_fds() << " open descriptors, " << fds_before << " before";
}

TEST(DeliveryClient, IdleConnectionsExpire) {
  TestServer server(always(respond(200)));
  ClientOptions options = Client::local_options();
  options.idle_timeout = Millis{50};
  Client client(options);
  EXPECT_EQ(client.post(http_url(server)).outcome, Outcome::success);
  EXPECT_EQ(client->idle_connections(), 1u);
  std::this_thread::sleep_for(Millis{100});  // the idle timeout itself is what is under test
  EXPECT_EQ(client.post(http_url(server)).outcome, Outcome::success);
  EXPECT_EQ(server.accepts(), 2u);
}

}  // namespace
}  // namespace hookstream::http
