#include "common/http/delivery_client.hpp"

#include <openssl/x509.h>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

#include "common/ascii.hpp"
#include "common/http/address_guard.hpp"
#include "common/http/connection_pool.hpp"
#include "common/http/retry_after.hpp"
#include "common/http/tls.hpp"
#include "common/log.hpp"

namespace hookstream::http {
namespace {

namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;
using ResponseParser = bhttp::response_parser<bhttp::buffer_body>;

// How much response body we read at most to keep a connection reusable. A larger body is cut off
// after the part we keep, and the connection is dropped instead of drained.
constexpr std::size_t kDrainLimit = 64 * 1024;
constexpr std::size_t kReadChunk = 4096;

std::string endpoint_text(const tcp::endpoint& ep) {
  const auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

DeliveryResult failure(Outcome outcome, std::string error, std::string remote_address = {}) {
  DeliveryResult r;
  r.outcome = outcome;
  r.error = std::move(error);
  r.remote_address = std::move(remote_address);
  return r;
}

// RFC 9110 token characters, checked for every header of every request.
constexpr CharSet kTokenChars(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&'*+-.^_`|~");

bool is_token(std::string_view name) {
  return !name.empty() && kTokenChars.all_of(name);
}

// Beast 1.74 writes header values verbatim, so a CR or LF would split the request. (Not
// find_first_of: libstdc++ calls memchr over the three characters for each one of the value.)
bool is_safe_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// Headers that decide message framing are ours to set.
bool is_framing_header(std::string_view name) {
  return iequals_ascii(name, "host") || iequals_ascii(name, "content-length") ||
         iequals_ascii(name, "transfer-encoding") || iequals_ascii(name, "connection");
}

// The request as it goes on the wire: the head rendered into one string, sent with the shared
// body in one gather write (no per-request serializer state, no copy of the body).
struct RequestMessage {
  std::string head;
  std::shared_ptr<const std::string> body;
  std::array<asio::const_buffer, 2> buffers() const {
    return {asio::buffer(head), asio::buffer(*body)};
  }
};

void append_header(std::string& head, std::string_view name, std::string_view value) {
  append_all(head, {name, ": ", value, "\r\n"});
}

RequestMessage build_message(const DeliveryRequest& request,
                             std::shared_ptr<const std::string> body,
                             const ClientOptions& options) {
  RequestMessage message{{}, std::move(body)};
  auto& head = message.head;
  // request line, Host, the defaults, the framing
  std::size_t size =
      96 + request.url.target.size() + request.url.host.size() + options.user_agent.size();
  bool given_type = false, given_agent = false;
  for (const auto& h : request.headers) {
    size += h.name.size() + h.value.size() + 4;
    given_type = given_type || iequals_ascii(h.name, "content-type");
    given_agent = given_agent || iequals_ascii(h.name, "user-agent");
  }
  head.reserve(size);
  append_all(head, {"POST ", request.url.target, " HTTP/1.1\r\n"});
  head.append("Host: ");
  request.url.append_host_header(head);
  head.append("\r\n");
  if (!given_type) append_header(head, "Content-Type", "application/json");
  if (!given_agent) append_header(head, "User-Agent", options.user_agent);
  for (const auto& h : request.headers) {
    if (!is_token(h.name) || !is_safe_value(h.value) || is_framing_header(h.name)) {
      log::warn("delivery header not sent",
                {{"header", h.name.substr(0, 64)}, {"url_host", request.url.host}});
      continue;
    }
    append_header(head, h.name, h.value);
  }
  std::array<char, 24> length;
  const auto end =
      std::to_chars(length.data(), length.data() + length.size(), message.body->size());
  append_all(head,
             {"Content-Length: ",
              std::string_view(length.data(), static_cast<std::size_t>(end.ptr - length.data())),
              "\r\n\r\n"});
  return message;
}

std::string tls_failure_text(const error_code& ec, SSL* ssl) {
  std::string text = "TLS handshake failed: " + ec.message();
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) text += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
  return text;
}

// async_resolve with a deadline. Cancelling a resolver does not interrupt getaddrinfo, so the
// deadline completes the operation itself and leaves the lookup to finish unobserved.
template <typename Handler>
struct ResolveRace {
  ResolveRace(Handler h, const asio::any_io_executor& ex)
      : handler(std::move(h)), resolver(ex), timer(ex) {}
  void complete(const error_code& ec, tcp::resolver::results_type results) {
    if (!handler) return;
    auto h = std::move(*handler);
    handler.reset();
    std::move(h)(ec, std::move(results));
  }
  std::optional<Handler> handler;
  tcp::resolver resolver;
  asio::steady_timer timer;
};

asio::awaitable<tcp::resolver::results_type> resolve(const asio::any_io_executor& ex,
                                                     const std::string& host,
                                                     const std::string& port, SteadyTime deadline,
                                                     error_code& ec) {
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  return asio::async_initiate<decltype(token), void(error_code, tcp::resolver::results_type)>(
      [ex, host, port, deadline](auto handler) {
        using Race = ResolveRace<decltype(handler)>;
        auto race = std::make_shared<Race>(std::move(handler), ex);
        race->timer.expires_at(deadline);
        race->timer.async_wait([race](const error_code& timer_ec) {
          if (timer_ec) return;  // cancelled: the lookup finished first
          race->resolver.cancel();
          race->complete(beast::error::timeout, {});
        });
        race->resolver.async_resolve(
            host, port, tcp::resolver::numeric_service,
            [race](const error_code& resolve_ec, tcp::resolver::results_type results) {
              race->timer.cancel();
              race->complete(resolve_ec, std::move(results));
            });
      },
      token);
}

// The result of one request/response exchange on a connection.
struct Exchange {
  DeliveryResult result;
  bool keep_alive = false;        // the connection can carry another request
  bool nothing_received = false;  // failed before any response byte: safe to blame a stale socket
};

Outcome outcome_for_status(int status) {
  return status >= 200 && status < 300 ? Outcome::success : Outcome::http_error;
}

// "scheme://host:port", the connection pool's key, written into a buffer of its own instead of
// concatenated per request. The buffer holds any host parse_url admits (a name of at most 253
// bytes); a longer one (a Url built by hand) is written the same way into `spill`.
struct OriginKey {
  std::array<char, 288> bytes;
  std::string spill;
  std::string_view of(const Url& url) {
    const std::size_t most = url.scheme.size() + url.host.size() + 16;  // "://[", "]:", the port
    char* const start = most <= bytes.size() ? bytes.data() : (spill.resize(most), spill.data());
    const bool v6 = url.ipv6_literal;
    char* p = start;
    const auto put = [&](std::string_view part) { p = std::copy(part.begin(), part.end(), p); };
    put(url.scheme);
    put(v6 ? "://[" : "://");
    put(url.host);
    put(v6 ? "]:" : ":");
    p = std::to_chars(p, start + most, url.port).ptr;
    return {start, static_cast<std::size_t>(p - start)};
  }
};

// The connection's deadline is kept by Connection::watch (one timer per connection, not one per
// read and write); past it the socket is closed and the operation in progress fails.
template <typename Stream>
asio::awaitable<Exchange> exchange_on(Stream& stream, Connection& connection,
                                      const RequestMessage& message, SteadyTime deadline,
                                      const ClientOptions& options) {
  Exchange ex;
  error_code ec;
  auto& buffer = connection.buffer;
  connection.watch(deadline);
  struct Unwatch {
    Connection& c;
    ~Unwatch() { c.unwatch(); }
  } unwatch{connection};
  const auto late = [&] { return connection.timed_out(); };
  co_await asio::async_write(stream, message.buffers(),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    ex.nothing_received = true;
    ex.result =
        failure(late() ? Outcome::timeout : Outcome::connect,
                late() ? std::string("sending the request did not finish before the deadline")
                       : "sending the request failed: " + ec.message());
    co_return ex;
  }

  std::optional<ResponseParser> parser;
  do {  // 1xx interim responses (100 Continue, 103 Early Hints) precede the real one
    parser.emplace();
    // The loop below applies our own limits. Not boost::none: Beast 1.74 compares the length
    // against the empty optional and reports body_limit for every body.
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    co_await bhttp::async_read_header(stream, buffer, *parser,
                                      asio::redirect_error(asio::use_awaitable, ec));
  } while (!ec && parser->get().result_int() / 100 == 1 && parser->get().result_int() != 101);
  if (ec) {
    ex.nothing_received = !parser->got_some() && buffer.size() == 0;
    if (late())
      ex.result = failure(Outcome::timeout, "no response before the deadline");
    else if (ex.nothing_received)
      ex.result = failure(Outcome::invalid_response,
                          "the connection closed without a response: " + ec.message());
    else
      ex.result = failure(Outcome::invalid_response, "invalid response header: " + ec.message());
    co_return ex;
  }

  auto& result = ex.result;
  const auto& response = parser->get();
  result.status = static_cast<int>(response.result_int());
  if (result.status == 429 || result.status == 503)
    if (const auto it = response.find(bhttp::field::retry_after); it != response.end())
      result.retry_after = parse_retry_after(it->value(), std::chrono::system_clock::now());

  // Read the body: keep the first max_response_bytes, drain up to kDrainLimit so the connection
  // can be reused, and give up on the connection beyond that.
  const auto declared = parser->content_length();
  const bool drain = !declared || *declared <= kDrainLimit;
  std::array<char, kReadChunk> chunk;
  std::size_t total = 0;
  bool cut_off = false;
  while (!parser->is_done()) {
    if ((!drain && result.body.size() >= options.max_response_bytes) || total > kDrainLimit) {
      cut_off = true;
      break;
    }
    parser->get().body().data = chunk.data();
    parser->get().body().size = chunk.size();
    co_await bhttp::async_read(stream, buffer, *parser,
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    // A TLS peer that ends an EOF-delimited body without close_notify: the body is complete.
    if (ec == asio::ssl::error::stream_truncated && parser->need_eof()) parser->put_eof(ec);
    const std::size_t n = chunk.size() - parser->get().body().size;
    total += n;
    const std::size_t keep = std::min(n, options.max_response_bytes - result.body.size());
    result.body.append(chunk.data(), keep);
    if (ec) break;
  }
  if (ec) {
    result.outcome = late() ? Outcome::timeout : Outcome::invalid_response;
    result.error = late() ? "the response body did not arrive before the deadline"
                          : "the response body was cut short: " + ec.message();
    co_return ex;
  }
  result.outcome = outcome_for_status(result.status);
  if (result.outcome != Outcome::success)
    result.error = "HTTP " + std::to_string(result.status) + " " + std::string(response.reason());
  ex.keep_alive = !cut_off && parser->is_done() && parser->keep_alive() && buffer.size() == 0;
  co_return ex;
}

}  // namespace

struct DeliveryClient::State {
  State(asio::any_io_executor ex, ClientOptions opts, asio::ssl::context ctx)
      : executor(std::move(ex)),
        options(std::move(opts)),
        tls_context(std::move(ctx)),
        pool(options.max_idle_per_origin, options.idle_timeout) {}

  struct Connected {
    std::unique_ptr<Connection> connection;
    DeliveryResult failure;  // when connection is null
  };

  asio::awaitable<DeliveryResult> deliver(const DeliveryRequest& request, SteadyTime deadline);
  asio::awaitable<Connected> connect(const Url& url, SteadyTime deadline);
  asio::awaitable<Exchange> exchange(Connection& c, const RequestMessage& message,
                                     SteadyTime deadline);

  asio::any_io_executor executor;
  ClientOptions options;
  asio::ssl::context tls_context;
  ConnectionPool pool;
};

asio::awaitable<DeliveryResult> DeliveryClient::State::deliver(const DeliveryRequest& request,
                                                               SteadyTime deadline) {
  const Url& url = request.url;
  OriginKey origin_key;
  const std::string_view origin = origin_key.of(url);
  auto message = build_message(
      request, request.body ? request.body : std::make_shared<const std::string>(), options);

  const auto settle = [&](std::unique_ptr<Connection> c, Exchange& ex) {
    ex.result.remote_address = c->remote_address;
    if (ex.keep_alive) pool.put(origin, std::move(c), Clock::now());
  };

  if (auto pooled = pool.take(origin, Clock::now())) {
    auto ex = co_await exchange(*pooled, message, deadline);
    // The receiver may have closed the idle connection just as we reused it. Nothing came back,
    // so one retry on a fresh connection is safe enough for at-least-once delivery (receivers
    // dedupe on webhook-id).
    if (!ex.nothing_received || ex.result.outcome == Outcome::timeout) {
      settle(std::move(pooled), ex);
      co_return std::move(ex.result);
    }
    log::debug("pooled connection was dead, retrying on a fresh one",
               {{"remote", pooled->remote_address}, {"error", ex.result.error}});
  }

  auto connected = co_await connect(url, deadline);
  if (!connected.connection) co_return std::move(connected.failure);
  auto ex = co_await exchange(*connected.connection, message, deadline);
  settle(std::move(connected.connection), ex);
  co_return std::move(ex.result);
}

asio::awaitable<DeliveryClient::State::Connected> DeliveryClient::State::connect(
    const Url& url, SteadyTime deadline) {
  Connected out;
  error_code ec;
  // A literal address (in any spelling getaddrinfo would accept) is used as it is; a name is
  // resolved once, and only what that one answer named is screened and connected to.
  std::vector<asio::ip::address> candidates;
  if (const auto literal = literal_address(url.host)) {
    candidates.push_back(*literal);
  } else {
    std::vector<asio::ip::address> resolved;
    if (options.resolver) {
      resolved = co_await options.resolver->resolve(url.host, deadline, ec);
    } else {
      const auto results =
          co_await resolve(executor, url.host, std::to_string(url.port), deadline, ec);
      for (const auto& entry : results) resolved.push_back(entry.endpoint().address());
    }
    if (ec == beast::error::timeout) {
      out.failure = failure(Outcome::timeout, "resolving " + url.host + " took too long");
      co_return out;
    }
    if (ec || resolved.empty()) {
      out.failure = failure(
          Outcome::dns, "cannot resolve " + url.host + ": " + (ec ? ec.message() : "no addresses"));
      co_return out;
    }
    for (const auto& address : resolved)
      if (std::find(candidates.begin(), candidates.end(), address) == candidates.end())
        candidates.push_back(address);
  }

  // The guard sees exactly the addresses we may connect to; nothing is resolved again after it.
  const auto screened = screen(candidates, options.allow_private_targets);
  if (screened.allowed.empty()) {
    out.failure =
        failure(Outcome::blocked_address, url.host + " is a refused address: " + screened.refused);
    co_return out;
  }
  std::vector<tcp::endpoint> allowed;
  for (const auto& address : screened.allowed) allowed.emplace_back(address, url.port);

  std::string errors;
  for (const auto& ep : allowed) {
    const auto now = Clock::now();
    if (now >= deadline) break;
    auto stream = std::make_unique<beast::tcp_stream>(executor);
    stream->expires_at(std::min(deadline, now + options.connect_timeout));
    co_await stream->async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!errors.empty()) errors += "; ";
      errors += endpoint_text(ep) + ": " +
                (ec == beast::error::timeout ? std::string("timed out") : ec.message());
      continue;
    }
    error_code ignored;
    stream->socket().set_option(tcp::no_delay(true), ignored);
    auto c = std::make_unique<Connection>();
    c->remote_address = endpoint_text(ep);
    if (!url.is_https()) {
      stream->expires_never();  // from here on the connection's own deadline (Connection::watch)
      c->plain = std::move(stream);
      out.connection = std::move(c);
      co_return out;
    }
    c->tls =
        std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*stream), tls_context);
    if (auto prepared = prepare_peer_verification(c->tls->native_handle(), url); !prepared) {
      out.failure = failure(Outcome::tls, prepared.error().message, c->remote_address);
      co_return out;
    }
    c->tcp().expires_at(deadline);
    co_await c->tls->async_handshake(asio::ssl::stream_base::client,
                                     asio::redirect_error(asio::use_awaitable, ec));
    c->tcp().expires_never();  // from here on the connection's own deadline (Connection::watch)
    if (ec) {
      out.failure =
          ec == beast::error::timeout
              ? failure(Outcome::timeout, "TLS handshake did not finish before the deadline",
                        c->remote_address)
              : failure(Outcome::tls, tls_failure_text(ec, c->tls->native_handle()),
                        c->remote_address);
      co_return out;
    }
    out.connection = std::move(c);
    co_return out;
  }
  if (Clock::now() >= deadline)
    out.failure = failure(Outcome::timeout, "no connection before the deadline" +
                                                (errors.empty() ? "" : " (" + errors + ")"));
  else
    out.failure = failure(Outcome::connect, "cannot connect to " + url.host + ": " + errors);
  co_return out;
}

asio::awaitable<Exchange> DeliveryClient::State::exchange(Connection& c,
                                                          const RequestMessage& message,
                                                          SteadyTime deadline) {
  if (c.tls) co_return co_await exchange_on(*c.tls, c, message, deadline, options);
  co_return co_await exchange_on(*c.plain, c, message, deadline, options);
}

Result<std::unique_ptr<DeliveryClient>> DeliveryClient::create(asio::any_io_executor executor,
                                                               ClientOptions options) {
  auto ctx = make_client_tls_context(options.extra_ca_file);
  if (!ctx) return fail(std::move(ctx).error());
  auto state = std::make_unique<State>(std::move(executor), std::move(options), std::move(*ctx));
  return std::unique_ptr<DeliveryClient>(new DeliveryClient(std::move(state)));
}

DeliveryClient::DeliveryClient(std::unique_ptr<State> state) : state_(std::move(state)) {}
DeliveryClient::~DeliveryClient() = default;

asio::awaitable<DeliveryResult> DeliveryClient::post(const DeliveryRequest& request) {
  const auto start = Clock::now();
  auto result = co_await state_->deliver(request, start + request.timeout);
  result.duration = std::chrono::duration_cast<Millis>(Clock::now() - start);
  co_return result;
}

std::size_t DeliveryClient::idle_connections() const {
  return state_->pool.idle_connections();
}

}  // namespace hookstream::http
