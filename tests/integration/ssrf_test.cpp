// SSRF against real sockets: DNS rebinding. A name that answers a public address first and a
// loopback address on every later lookup (where a server listens) must never reach that server:
// the client resolves once and connects only to what it screened.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "common/http/address_guard.hpp"
#include "common/http/delivery_client.hpp"

namespace hookstream::http {
namespace {

using error_code = boost::system::error_code;
using tcp = asio::ip::tcp;

// First answer: `first`; every later answer: `then`.
class RebindingResolver final : public HostResolver {
 public:
  RebindingResolver(std::string first, std::string then)
      : first_(asio::ip::make_address(first)), then_(asio::ip::make_address(then)) {}
  asio::awaitable<std::vector<asio::ip::address>> resolve(std::string,
                                                          std::chrono::steady_clock::time_point,
                                                          error_code&) override {
    co_return std::vector<asio::ip::address>{calls_++ == 0 ? first_ : then_};
  }
  int calls() const { return calls_; }

 private:
  asio::ip::address first_, then_;
  int calls_ = 0;
};

TEST(DnsRebinding, TheCheckAppliesToTheAddressActuallyConnected) {
  asio::io_context io;
  // A loopback server that counts connections: the rebinding target.
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::atomic<int> accepted{0};
  std::function<void()> accept_next = [&] {
    acceptor.async_accept([&](const error_code& ec, tcp::socket) {
      if (ec) return;
      ++accepted;
      accept_next();
    });
  };
  accept_next();
  const auto port = acceptor.local_endpoint().port();

  for (const bool allow_private : {false, true}) {
    SCOPED_TRACE(allow_private ? "allow_private_targets" : "default");
    // 100.128.0.1 is public (just past CGNAT) and unroutable here: the attempt fails or times out.
    auto resolver = std::make_shared<RebindingResolver>("100.128.0.1", "127.0.0.1");
    ClientOptions options;
    options.allow_private_targets = allow_private;
    options.resolver = resolver;
    options.connect_timeout = Millis{300};
    auto client = DeliveryClient::create(io.get_executor(), options);
    ASSERT_TRUE(client.ok());
    DeliveryRequest req;
    req.url = *parse_url("http://rebind.example:" + std::to_string(port) + "/hook");
    req.body = std::make_shared<const std::string>("{}");
    req.timeout = Millis{1000};
    std::optional<DeliveryResult> out;
    for (int attempt = 0; attempt < 3; ++attempt) {  // retries resolve again: each must be judged
      out.reset();
      asio::co_spawn(io, (*client)->post(req),
                     [&](std::exception_ptr, DeliveryResult r) { out = std::move(r); });
      io.restart();
      while (!out && io.run_one_for(std::chrono::seconds(5))) {
      }
      ASSERT_TRUE(out.has_value());
      if (attempt == 0) {
        // Connected (or tried to) only to the address the guard saw; never to the loopback one.
        EXPECT_NE(out->outcome, Outcome::success) << out->error;
        EXPECT_NE(out->outcome, Outcome::blocked_address) << out->error;
        EXPECT_EQ(out->error.find("127.0.0.1"), std::string::npos) << out->error;
      } else if (!allow_private) {
        // Later lookups answer loopback: refused before any connection.
        EXPECT_EQ(out->outcome, Outcome::blocked_address) << out->error;
      }
    }
    EXPECT_EQ(resolver->calls(), 3);
    if (!allow_private) {
      EXPECT_EQ(accepted.load(), 0);
    }
  }
  // The control: with private targets allowed, the later (loopback) answers were connected to, so
  // this server does count connections.
  EXPECT_GT(accepted.load(), 0);
}

}  // namespace
}  // namespace hookstream::http
