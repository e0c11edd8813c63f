#pragma once
// Kept-alive delivery connections, idle between requests, grouped by origin.
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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

  // The request in progress's deadline: one timer per connection, armed when a request starts
  // and cancelled when it ends, instead of Beast's timer armed and cancelled around every read
  // and write. Past the deadline the socket is closed, so the read or write in progress fails,
  // and timed_out() says why.
  void watch(SteadyTime deadline);
  void unwatch();
  bool timed_out() const { return late_; }

  // Whether an idle connection still looks usable: the peer has not closed it and (for plain
  // HTTP) has sent nothing unasked. A cheap non-blocking peek; it cannot see a close that is still
  // in flight, which is why a request on a reused connection gets one retry on a fresh one.
  bool looks_alive();

  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

 private:
  // What a timer's handler may look at after the connection is gone: it can be queued, having
  // fired, when the request ends and the connection is destroyed.
  struct Watch {
    Connection* owner;
    std::uint64_t generation = 0;
  };
  std::shared_ptr<Watch> watch_;
  std::optional<asio::steady_timer> watchdog_;
  bool late_ = false;
};

// Idle connections by origin ("https://host:port"). Not thread-safe: one per io_context thread.
// Connections are taken most-recently-used first; the oldest is dropped past the per-origin cap,
// and connections idle longer than `idle_timeout` are dropped (looked for at most every tenth of
// it).
class ConnectionPool {
 public:
  ConnectionPool(std::size_t max_idle_per_origin, Millis idle_timeout);

  std::unique_ptr<Connection> take(std::string_view origin, SteadyTime now);
  void put(std::string_view origin, std::unique_ptr<Connection> connection, SteadyTime now);
  void prune(SteadyTime now);
  std::size_t idle_connections() const;

 private:
  void maybe_prune(SteadyTime now);

  std::size_t max_idle_per_origin_;
  Millis idle_timeout_;
  using Connections = std::deque<std::unique_ptr<Connection>>;
  std::map<std::string, Connections, std::less<>> idle_;
  SteadyTime last_prune_{};
};

}  // namespace hookstream::http
