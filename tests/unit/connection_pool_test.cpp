// The idle-connection pool's bounds and expiry (common/http/connection_pool.*). Connections here
// have no socket: every check below decides before one would be looked at.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace hookstream::http
