#include "common/http/server.hpp"

#include <sys/resource.h>

#include <array>
#include <charconv>

#include "common/log.hpp"

namespace hookstream::http {
namespace {

using asio::redirect_error;
using asio::use_awaitable;

bool is_disconnect(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
         ec == beast::error::timeout || ec == asio::error::broken_pipe;
}

// File descriptors kept free for everything but client connections: the listening socket, Redis,
// Kafka, outbound test pings, logs.
constexpr rlim_t kReservedFds = 256;

// Raises the soft open-file limit to the hard one (Debian's default soft limit, 1024, is far
// below max_connections) and returns how many connections fit under it. Beyond that, accept()
// fails with EMFILE and even /healthz could not get in.
std::size_t connections_that_fit(std::size_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return wanted;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= wanted + kReservedFds) return wanted;
  const auto fit =
      limit.rlim_cur > 2 * kReservedFds ? limit.rlim_cur - kReservedFds : limit.rlim_cur / 2;
  log::warn("fewer client connections than configured: the open-file limit is lower",
            {{"max_connections", wanted},
             {"open_file_limit", limit.rlim_cur},
             {"effective_max_connections", fit}});
  return static_cast<std::size_t>(fit);
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, HttpServerLimits limits, Handler handler,
                       Refusal refusal)
    : io_(io),
      limits_(limits),
      handler_(std::move(handler)),
      refusal_(std::move(refusal)),
      acceptor_(io) {}

HttpServer::~HttpServer() = default;

Result<void> HttpServer::listen(const asio::ip::tcp::endpoint& endpoint) {
  beast::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return fail("listen_failed", "cannot listen on " + endpoint.address().to_string() + ":" +
                                     std::to_string(endpoint.port()) + ": " + ec.message());
  }
  limits_.max_connections = connections_that_fit(limits_.max_connections);
  return {};
}

asio::ip::tcp::endpoint HttpServer::local_endpoint() const {
  return acceptor_.local_endpoint();
}

void HttpServer::start() {
  asio::co_spawn(io_, accept_loop(), log::on_exception("accept loop"));
}

void HttpServer::shutdown() {
  stopping_ = true;
  beast::error_code ignored;
  acceptor_.close(ignored);
  for (auto& c : connections_)
    if (!c.busy && c.stream) c.stream->cancel();
}

asio::awaitable<void> HttpServer::accept_loop() {
  while (!stopping_) {
    beast::error_code ec;
    auto socket = co_await acceptor_.async_accept(redirect_error(use_awaitable, ec));
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) break;
      // Out of file descriptors and similar: log, back off briefly, keep serving.
      log::warn("accept failed", {{"error", ec.message()}});
      asio::steady_timer pause(io_, std::chrono::milliseconds(50));
      co_await pause.async_wait(redirect_error(use_awaitable, ec));
      continue;
    }
    if (connections_.size() >= limits_.max_connections && !make_room()) {
      socket.close(ec);
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), log::on_exception("http connection"));
  }
}

// Closes the connection that has waited longest for its client: idle since its last answer, or
// still sending its request. Requests that have fully arrived are never cut off, and a connection
// accepted a moment ago (which has not had time to send) goes last.
bool HttpServer::make_room() {
  std::size_t closing = 0;
  Connection* victim = nullptr;
  for (auto& c : connections_) {
    if (c.closing) {
      ++closing;
    } else if (c.stream && (!c.busy || c.reading) &&
               (!victim || c.waiting_since < victim->waiting_since)) {
      victim = &c;
    }
  }
  if (victim) {
    victim->closing = true;
    victim->stream->cancel();
    return true;
  }
  // Connections cancelled a moment ago still count until their coroutines finish.
  return connections_.size() - closing < limits_.max_connections;
}

asio::awaitable<void> HttpServer::serve(asio::ip::tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  auto self = connections_.insert(connections_.end(), Connection{});
  self->stream = &stream;
  self->waiting_since = std::chrono::steady_clock::now();
  beast::flat_buffer buffer;
  try {
    while (!stopping_ && co_await handle_one(stream, buffer, *self)) {
    }
  } catch (...) {
    connections_.erase(self);
    throw;
  }
  connections_.erase(self);
  beast::error_code ec;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

// Reads one request and answers it; false when the connection should close.
asio::awaitable<bool> HttpServer::handle_one(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                             Connection& self) {
  beast::error_code ec;
  if (buffer.size() == 0) {
    // Idle between requests: wait for the first byte under the (longer) idle timeout.
    stream.expires_after(limits_.idle_timeout);
    const auto n =
        co_await stream.async_read_some(buffer.prepare(4096), redirect_error(use_awaitable, ec));
    // A request that arrived just as the connection was picked to make room is not served.
    if (ec || self.closing) co_return false;
    buffer.commit(n);
  }
  if (!self.busy) self.waiting_since = std::chrono::steady_clock::now();
  self.busy = true;
  self.reading = true;
  stream.expires_after(limits_.request_timeout);
  RequestParser parser;
  configure_request_parser(parser, limits_);

  auto refuse = [&](bhttp::status status, std::string_view message) -> asio::awaitable<bool> {
    self.reading = false;  // the answer is on its way: not one to cut off to make room
    Response res = refusal_(status, message);
    res.keep_alive(false);
    res.prepare_payload();
    stream.expires_after(limits_.write_timeout);
    beast::error_code wec;
    co_await bhttp::async_write(stream, res, redirect_error(use_awaitable, wec));
    // Lingering close: the client may still be sending the body we refused. Closing with unread
    // data makes the kernel send a reset, which can destroy our answer before the client reads it,
    // so stop sending, then read and discard (bounded in time and size) until the client is done.
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, wec);
    std::array<char, 16 * 1024> sink;
    std::size_t discarded = 0;
    stream.expires_after(std::chrono::seconds(2));
    while (!wec && discarded < 16 * 1024 * 1024) {
      discarded +=
          co_await stream.async_read_some(asio::buffer(sink), redirect_error(use_awaitable, wec));
    }
    co_return false;
  };

  co_await bhttp::async_read_header(stream, buffer, parser, redirect_error(use_awaitable, ec));
  // Beast checks Content-Length against the body limit while parsing the header.
  if (ec == bhttp::error::body_limit)
    co_return co_await refuse(
        bhttp::status::payload_too_large,
        "request body exceeds " + std::to_string(limits_.body_limit) + " bytes");
  if (ec == bhttp::error::header_limit)
    co_return co_await refuse(
        bhttp::status::request_header_fields_too_large,
        "request headers exceed " + std::to_string(limits_.header_limit) + " bytes");
  if (ec) {
    if (is_disconnect(ec)) co_return false;
    co_return co_await refuse(bhttp::status::bad_request, "malformed HTTP request");
  }
  const auto& header = parser.get();
  if (const auto length = parser.content_length(); length && *length > limits_.body_limit)
    co_return co_await refuse(
        bhttp::status::payload_too_large,
        "request body exceeds " + std::to_string(limits_.body_limit) + " bytes");
  if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
    bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, header.version()};
    co_await bhttp::async_write(stream, cont, redirect_error(use_awaitable, ec));
    if (ec) co_return false;
  }
  if (!parser.is_done()) {
    co_await bhttp::async_read(stream, buffer, parser, redirect_error(use_awaitable, ec));
    if (ec == bhttp::error::body_limit)
      co_return co_await refuse(
          bhttp::status::payload_too_large,
          "request body exceeds " + std::to_string(limits_.body_limit) + " bytes");
    if (ec) {
      if (is_disconnect(ec)) co_return false;
      co_return co_await refuse(bhttp::status::bad_request, "malformed HTTP request body");
    }
  }

  Request req = parser.release();
  self.reading = false;
  Response res;
  try {
    res = co_await handler_(req);
  } catch (const std::exception& e) {
    log::error("request handler threw", {{"error", e.what()},
                                         {"method", std::string(req.method_string())},
                                         {"target", std::string(req.target())}});
    res = refusal_(bhttp::status::internal_server_error, "internal error");
  }
  // A connection picked to make room just as its request completed is answered, then closed.
  const bool keep_alive = req.keep_alive() && !stopping_ && !self.closing;
  res.version(req.version());
  res.keep_alive(keep_alive);
  res.prepare_payload();
  stream.expires_after(limits_.write_timeout);
  co_await bhttp::async_write(stream, res, redirect_error(use_awaitable, ec));
  self.busy = false;
  self.waiting_since = std::chrono::steady_clock::now();
  co_return !ec && keep_alive;
}

void configure_request_parser(RequestParser& parser, const HttpServerLimits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(limits.header_limit));
  parser.body_limit(limits.body_limit);
}

Result<asio::ip::tcp::endpoint> parse_listen_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return fail("invalid_listen", "'" + std::string(text) + "' is not host:port");
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::uint16_t port = 0;
  const auto port_text = text.substr(colon + 1);
  const auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || p != port_text.data() + port_text.size())
    return fail("invalid_listen", "'" + std::string(text) + "' has no valid port");
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code aec;
  const auto address = asio::ip::make_address(host, aec);
  if (aec)
    return fail("invalid_listen",
                "'" + std::string(text) + "': '" + host + "' is not an IP address");
  return asio::ip::tcp::endpoint(address, port);
}

}  // namespace hookstream::http
