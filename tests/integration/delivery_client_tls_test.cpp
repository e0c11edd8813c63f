// The delivery client over TLS (verification, names, the extra CA) and its connection pool's
// bounds, against a real in-test server on loopback.
#include <filesystem>

#include "tests/integration/delivery_client_server.hpp"

namespace hookstream::http {
namespace {

using namespace test_server;

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
