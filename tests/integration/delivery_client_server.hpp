#pragma once
// An in-test HTTP(S) server on loopback and a delivery client driving it, for the delivery
// client's integration tests (delivery_client_test.cpp, delivery_client_tls_test.cpp).
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

namespace hookstream::http::test_server {

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

inline Reply respond(int status, std::string body = {}) {
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

inline std::string http_url(const TestServer& s, const std::string& host = "127.0.0.1") {
  return "http://" + host + ":" + std::to_string(s.port()) + "/hook";
}
inline std::string https_url(const TestServer& s, const std::string& host) {
  return "https://" + host + ":" + std::to_string(s.port()) + "/hook";
}

inline Behaviour always(Reply reply) {
  return [reply](const ReceivedRequest&, std::size_t) { return reply; };
}

}  // namespace hookstream::http::test_server
