#pragma once
// Kept-alive delivery connections, idle between requests, grouped by origin.
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "common/asio.hpp"
#include "common/time.hpp"

namespace hookstream::http {

namespace beast = boost::beast;
using SteadyTime = std::chrono::steady_clock::time_point;

// One HTTP/1.1 connection, plain or TLS. Destroying it closes the socket; a TLS connection is not
// shut down politely (no close_notify), which receivers see as a harmless stream_truncated.
struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;                   // set for http
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;  // set for https
  beast::flat_buffer buffer;   // bytes read past the last response (empty when reusable)
  std::string remote_address;  // ip:port
  SteadyTime idle_since{};

  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  // Whether an idle connection still looks usable: the peer has not closed it and (for plain
  // HTTP) has sent nothing unasked. A cheap non-blocking peek; it cannot see a close that is still
  // in flight, which is why a request on a reused connection gets one retry on a fresh one.
  bool looks_alive();
};

// Idle connections by origin ("https://host:port"). Not thread-safe: one per io_context thread.
// Connections are taken most-recently-used first; the oldest is dropped past the per-origin cap,
// and connections idle longer than `idle_timeout` are dropped (looked for at most every tenth of
// it).
class ConnectionPool {
 public:
  ConnectionPool(std::size_t max_idle_per_origin, Millis idle_timeout);

  std::unique_ptr<Connection> take(const std::string& origin, SteadyTime now);
  void put(const std::string& origin, std::unique_ptr<Connection> connection, SteadyTime now);
  void prune(SteadyTime now);
  std::size_t idle_connections() const;

 private:
  void maybe_prune(SteadyTime now);

  std::size_t max_idle_per_origin_;
  Millis idle_timeout_;
  std::map<std::string, std::deque<std::unique_ptr<Connection>>> idle_;
  SteadyTime last_prune_{};
};

}  // namespace hookstream::http
