#pragma once
// An HTTP/1.1 server (the API, and the dispatcher's metrics endpoint): one coroutine per connection
// owns its stream (Beast's awaitable server shape), keep-alive, a request size limit, and timeouts
// at every step so a slow or idle client cannot hold resources for long.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <list>
#include <memory>

#include "common/asio.hpp"
#include "common/result.hpp"
#include "common/time.hpp"

namespace hookstream::http {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

struct HttpServerLimits {
  std::size_t body_limit = 1024 * 1024;
  std::size_t header_limit = 16 * 1024;
  Millis idle_timeout{60'000};     // keep-alive: waiting for the next request to start
  Millis request_timeout{10'000};  // from a request's first byte to its last
  Millis write_timeout{10'000};
  // At this many connections one is closed to make room for the newcomer: the longest idle
  // (waiting for its next request), else the oldest still sending its request. So neither idle
  // keep-alive connections nor slow half-sent requests can lock clients out; only when every
  // connection has a request being answered is the newcomer closed instead.
  std::size_t max_connections = 10'000;
};

using RequestParser = bhttp::request_parser<bhttp::string_body>;
// Applies the header and body limits to a fresh parser: the server reads every request through
// one set up here (and so does the fuzz target that feeds it untrusted bytes).
void configure_request_parser(RequestParser& parser, const HttpServerLimits& limits);

// "host:port" with an IP address (or localhost) for a listening socket.
Result<asio::ip::tcp::endpoint> parse_listen_address(std::string_view text);

class HttpServer {
 public:
  // Answers one request. Exceptions are programming errors: logged, answered with 500.
  using Handler = std::function<asio::awaitable<Response>(Request&)>;
  // Builds the answer to a request the server refuses by itself (too large, malformed).
  using Refusal = std::function<Response(bhttp::status status, std::string_view message)>;

  HttpServer(asio::io_context& io, HttpServerLimits limits, Handler handler, Refusal refusal);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; "address in use" and friends come back as values.
  Result<void> listen(const asio::ip::tcp::endpoint& endpoint);
  asio::ip::tcp::endpoint local_endpoint() const;
  void start();
  // Stops accepting and closes idle connections; requests in flight finish and their responses
  // carry "Connection: close". The io_context runs out of work once every connection is gone.
  void shutdown();
  std::size_t connection_count() const { return connections_.size(); }

 private:
  struct Connection {
    beast::tcp_stream* stream = nullptr;
    bool busy = false;     // a request has started arriving and is not answered yet
    bool reading = false;  // busy, and the request has not fully arrived
    bool closing = false;  // cancelled to make room; its coroutine is on its way out
    std::chrono::steady_clock::time_point waiting_since{};  // idle or reading since
  };
  bool make_room();
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(asio::ip::tcp::socket socket);
  asio::awaitable<bool> handle_one(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                   Connection& self);

  asio::io_context& io_;
  HttpServerLimits limits_;
  Handler handler_;
  Refusal refusal_;
  asio::ip::tcp::acceptor acceptor_;
  std::list<Connection> connections_;
  bool stopping_ = false;
};

}  // namespace hookstream::http
