// The idle-connection pool's bounds and expiry (common/http/connection_pool.*): connections there
// have no socket, every check decides before one would be looked at. Then a connection's request
// deadline (Connection::watch), on a loopback socket whose peer never answers.
#include <gtest/gtest.h>

#include <array>
#include <functional>

#include "common/http/connection_pool.hpp"

namespace hookstream::http {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<Connection> connection(std::string address) {
  auto c = std::make_unique<Connection>();
  c->remote_address = std::move(address);
  return c;
}

TEST(ConnectionPool, KeepsUpToItsBoundPerOriginNewestFirst) {
  ConnectionPool pool(3, 60s);
  const SteadyTime t0{};
  for (int i = 0; i < 5; ++i) pool.put("http://a:1", connection(std::to_string(i)), t0);
  pool.put("http://b:1", connection("b"), t0);
  EXPECT_EQ(pool.idle_connections(), 4u);
  auto taken = pool.take("http://a:1", t0 + 10ms);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->remote_address, "4");  // the oldest two were dropped, the newest comes first
}

TEST(ConnectionPool, NeverHandsOutAConnectionIdleLongerThanTheTimeout) {
  ConnectionPool pool(8, 100ms);
  const SteadyTime t0{};
  pool.put("http://a:1", connection("old"), t0 + 1s);
  pool.put("http://b:1", connection("fresh"), t0 + 1s + 95ms);  // walks: "old" is 95 ms idle
  // 5 ms later no walk is due (a tenth of the timeout apart), and "old" has expired.
  EXPECT_FALSE(pool.take("http://a:1", t0 + 1s + 100ms));
  auto fresh = pool.take("http://b:1", t0 + 1s + 100ms);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->remote_address, "fresh");
}

TEST(ConnectionPool, ExpiredConnectionsOfOtherOriginsAreDroppedOnALaterWalk) {
  ConnectionPool pool(8, 100ms);
  const SteadyTime t0{};
  pool.put("http://a:1", connection("a"), t0 + 1s);
  pool.put("http://b:1", connection("b"), t0 + 1s + 150ms);  // a walk: "a" expired 50 ms ago
  EXPECT_EQ(pool.idle_connections(), 1u);
}

// A Connection on a connected loopback socket, and its peer, which never writes.
struct Loopback {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
  asio::ip::tcp::socket peer{io};
  std::unique_ptr<Connection> connection = std::make_unique<Connection>();
  std::array<char, 16> bytes{};
  bool read_done = false;

  Loopback() {
    connection->plain = std::make_unique<beast::tcp_stream>(io);
    connection->tcp().socket().connect(acceptor.local_endpoint());
    acceptor.accept(peer);
  }
  // A request whose answer and deadline come due in the same pass of the reactor: the answer is
  // written before the io_context runs, and the deadline is now. `on_answer` runs first.
  void answer_and_deadline_due(std::function<void()> on_answer) {
    connection->tcp().socket().async_read_some(
        asio::buffer(bytes), [on_answer](const boost::system::error_code& ec, std::size_t) {
          ASSERT_FALSE(ec);
          on_answer();
        });
    peer.write_some(asio::buffer("x", 1));
    connection->watch(std::chrono::steady_clock::now());
  }
  // A read the peer never answers: it ends when the socket is closed under it.
  void start_read() {
    connection->tcp().socket().async_read_some(
        asio::buffer(bytes),
        [this](const boost::system::error_code&, std::size_t) { read_done = true; });
  }
};

TEST(ConnectionWatch, ARequestPastItsDeadlineHasItsSocketClosedAndSaysSo) {
  Loopback l;
  l.start_read();
  l.connection->watch(std::chrono::steady_clock::now() + 20ms);
  l.io.run_for(10s);  // returns once the read has ended and the timer has run
  EXPECT_TRUE(l.read_done);
  EXPECT_TRUE(l.connection->timed_out());
  EXPECT_FALSE(l.connection->tcp().socket().is_open());
}

TEST(ConnectionWatch, ARequestThatEndsInTimeIsNotCutAndLeavesNoTimerBehind) {
  Loopback l;
  const auto start = std::chrono::steady_clock::now();
  l.connection->watch(start + 10s);
  l.connection->unwatch();
  l.io.run_for(10s);  // nothing left to wait for: returns at once
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_FALSE(l.connection->timed_out());
  EXPECT_TRUE(l.connection->tcp().socket().is_open());
}

// The request's answer and its deadline come due in the same pass of the reactor: the answer's
// handler runs first and the next request starts; then the timer's handler, which fired for the
// request that ended, must leave the next one alone.
TEST(ConnectionWatch, ATimerThatFiredForTheLastRequestDoesNotCutTheNextOne) {
  Loopback l;
  bool next_started = false;
  l.answer_and_deadline_due([&] {
    l.connection->unwatch();  // the request ended, its answer read
    l.connection->watch(std::chrono::steady_clock::now() + 10s);
    l.start_read();  // the next request
    next_started = true;
  });
  l.io.run_for(200ms);
  ASSERT_TRUE(next_started);
  EXPECT_FALSE(l.read_done);
  EXPECT_FALSE(l.connection->timed_out());
  EXPECT_TRUE(l.connection->tcp().socket().is_open());
}

// The same, but the request that ended closes its connection: the timer's handler, already due,
// runs after the connection is gone and must not touch it (the sanitizer build in scripts/test
// would say so).
TEST(ConnectionWatch, AConnectionGoneBeforeItsDueTimerRanIsNotTouched) {
  Loopback l;
  bool closed = false;
  l.answer_and_deadline_due([&] {
    l.connection.reset();  // dropped, even before unwatch() (the generation cannot help)
    closed = true;
  });
  l.io.run_for(10s);  // returns once both handlers ran
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace hookstream::http
