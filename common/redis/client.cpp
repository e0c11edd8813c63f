#include "common/redis/client.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <deque>
#include <iterator>
#include <optional>
#include <type_traits>

#include "common/ascii.hpp"
#include "common/log.hpp"
#include "common/redis/asio_adapter.hpp"

namespace hookstream::redis {
namespace {

using Clock = std::chrono::steady_clock;
using Replies = Result<std::vector<Reply>, RedisError>;
using Commands = std::vector<std::vector<std::string>>;

std::string millis_text(Millis d) {
  return std::to_string(d.count()) + " ms";
}

// Commands that break "one reply per command, in order", on which the whole client rests: pub/sub
// and MONITOR switch hiredis into push mode, CLIENT REPLY OFF|SKIP suppresses replies.
std::optional<std::string> unsupported(const std::vector<std::string>& command) {
  if (command.empty()) return "empty command";  // Redis ignores it: no reply would ever come
  const std::string_view name = command.front();
  for (std::string_view push : {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE",
                                "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR"}) {
    if (iequals_ascii(name, push)) return std::string(name) + " is not supported by this client";
  }
  if (iequals_ascii(name, "CLIENT") && command.size() > 1 && iequals_ascii(command[1], "REPLY")) {
    return "CLIENT REPLY is not supported by this client";
  }
  return std::nullopt;
}

// hiredis 0.14 writes with write(2): a server that went away would raise SIGPIPE and kill the
// process instead of failing the write with EPIPE. A handler someone else installed is kept.
void ignore_sigpipe() {
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, nullptr);
  }
}

}  // namespace

// One caller's command() or pipeline() call: its commands are written together and it completes
// once, when the last of its replies is in or the connection failed.
struct Request {
  explicit Request(Commands cmds) : owned(std::move(cmds)), commands(&owned) {}
  // The caller's commands, read until they are written: the caller outlives the request (it
  // awaits its completion), and large ones (the delivery log's batches) are not copied.
  explicit Request(const Commands* borrowed) : commands(borrowed) {}
  virtual ~Request() = default;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  // Once hiredis has its own copy.
  void release() {
    owned = {};
    commands = &owned;
  }

  Commands owned;
  const Commands* commands;  // `owned` or borrowed
  std::size_t expected = 0;  // replies hiredis will report (one per command it accepted)
  std::size_t answered = 0;
  std::vector<Reply> replies;
  std::optional<RedisError> error;
  Clock::time_point deadline{};

  // Hands the outcome to the caller, through the caller's executor. Called exactly once.
  virtual void complete() = 0;
};

namespace {

template <typename Handler>
class RequestFor final : public Request {
 public:
  template <typename Cmds>  // Commands, or const Commands* (borrowed)
  RequestFor(Cmds cmds, Handler handler, const asio::any_io_executor& fallback)
      : Request(std::move(cmds)),
        work_(asio::prefer(asio::get_associated_executor(handler, fallback),
                           asio::execution::outstanding_work.tracked)),
        handler_(std::move(handler)) {}

  void complete() override {
    Replies result = error ? Replies(fail(std::move(*error))) : Replies(std::move(replies));
    // Posted, never run inline: completions often come from inside a hiredis callback, and the
    // caller's coroutine must not resume in the middle of hiredis' reply loop.
    asio::post(work_, [handler = std::move(handler_), result = std::move(result)]() mutable {
      std::move(handler)(std::move(result));
    });
  }

 private:
  using WorkExecutor = std::decay_t<decltype(asio::prefer(
      std::declval<asio::associated_executor_t<Handler, asio::any_io_executor>>(),
      asio::execution::outstanding_work.tracked))>;
  WorkExecutor work_;  // keeps the caller's io_context running while the command is out
  Handler handler_;
};

}  // namespace

// The state behind a Client: at most one hiredis context at a time, the requests waiting for it
// to connect, and the requests written to it, in write order (which is reply order).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::any_io_executor executor, RedisConfig config)
      : executor_(std::move(executor)),
        config_(std::move(config)),
        connect_timer_(executor_),
        command_timer_(executor_) {}

  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const asio::any_io_executor& executor() const { return executor_; }
  bool ready() const { return state_ == State::ready; }
  std::size_t pending() const { return waiting_.size() + in_flight_.size(); }

  void start(std::unique_ptr<Request> request) {
    for (const auto& command : *request->commands) {
      if (auto why = unsupported(command)) {
        request->error = RedisError{RedisErrc::protocol_error, std::move(*why)};
        request->complete();
        return;
      }
    }
    if (request->commands->empty()) {
      request->complete();
      return;
    }
    if (closed_) {
      request->error = RedisError{RedisErrc::disconnected, "Redis client closed"};
      request->complete();
      return;
    }
    if (state_ == State::ready) {
      write(std::move(request));
      return;
    }
    waiting_.push_back(std::move(request));
    if (state_ == State::idle) connect();
  }

  void disconnect(RedisError reason) {
    if (context_ != nullptr) drop(std::move(reason));
  }

  // For good: the Client is gone. Later requests (from eval_script still running) fail at once.
  void close() {
    closed_ = true;
    disconnect(RedisError{RedisErrc::disconnected, "Redis client closed"});
    fail_waiting(RedisError{RedisErrc::disconnected, "Redis client closed"});
  }

 private:
  enum class State { idle, connecting, ready };

  void connect() {
    ++generation_;
    tcp_connected_ = false;
    handshake_pending_ = 0;
    drop_reason_.reset();
    // hiredis resolves a host name synchronously, here (see client.hpp).
    redisAsyncContext* context = redisAsyncConnect(config_.host.c_str(), config_.port);
    if (context == nullptr) {
      connect_failed("out of memory");
      return;
    }
    if (context->err != 0) {
      std::string message = context->errstr;
      redisAsyncFree(context);
      connect_failed(message);
      return;
    }
    context->data = this;
    auto adapter = AsioAdapter::attach(executor_, context, [this] { on_context_gone(); });
    if (!adapter) {
      redisAsyncFree(context);
      connect_failed(adapter.error());
      return;
    }
    context_ = context;
    adapter_ = std::move(*adapter);
    state_ = State::connecting;
    redisAsyncSetConnectCallback(context_, &Connection::on_connect);
    send_handshake();
    adapter_->watch_connect();

    connect_timer_.expires_after(config_.connect_timeout);
    connect_timer_.async_wait(
        [weak = weak_from_this(), generation = generation_](const boost::system::error_code& ec) {
          const auto self = weak.lock();
          if (!self || ec || generation != self->generation_ || self->state_ != State::connecting) {
            return;
          }
          self->drop(RedisError{RedisErrc::connect_failed,
                                "no connection to " + self->config_.redacted_url() + " within " +
                                    millis_text(self->config_.connect_timeout)});
        });
  }

  void connect_failed(const std::string& why) {
    log::warn("redis connect failed", {{"redis", config_.redacted_url()}, {"error", why}});
    fail_waiting(RedisError{RedisErrc::connect_failed,
                            "cannot connect to " + config_.redacted_url() + ": " + why});
  }

  // AUTH and SELECT go first on every new connection; hiredis holds them until the socket
  // connects. Caller requests wait in waiting_ until both have succeeded.
  void send_handshake() {
    if (!config_.password.empty()) {
      if (config_.username.empty()) {
        submit(&Connection::on_handshake_reply, nullptr, {"AUTH", config_.password});
      } else {
        submit(&Connection::on_handshake_reply, nullptr,
               {"AUTH", config_.username, config_.password});
      }
      ++handshake_pending_;
    }
    if (config_.db != 0) {
      submit(&Connection::on_handshake_reply, nullptr, {"SELECT", std::to_string(config_.db)});
      ++handshake_pending_;
    }
  }

  void maybe_ready() {
    if (state_ != State::connecting || !tcp_connected_ || handshake_pending_ != 0 || drop_reason_) {
      return;
    }
    state_ = State::ready;
    connect_timer_.cancel();
    log::debug("redis connected", {{"redis", config_.redacted_url()}});
    while (!waiting_.empty() && state_ == State::ready) {
      auto request = std::move(waiting_.front());
      waiting_.pop_front();
      write(std::move(request));
    }
  }

  // The command in RESP, formatted here: hiredis's own formatting (sdscatfmt per argument) cost
  // more than the rest of a delivery log batch's encoding.
  bool submit(redisCallbackFn* callback, void* privdata, const std::vector<std::string>& args) {
    std::size_t size = 24;  // "*<count>\r\n", then "$<length>\r\n<arg>\r\n" each
    for (const auto& arg : args) size += arg.size() + 25;
    if (resp_.size() < size) resp_.resize(size);
    char* out = resp_.data();
    const auto count = [&out](char kind, std::size_t n) {
      *out++ = kind;
      out = std::to_chars(out, out + 20, n).ptr;
      *out++ = '\r';
      *out++ = '\n';
    };
    count('*', args.size());
    for (const auto& arg : args) {
      count('$', arg.size());
      out = std::copy(arg.begin(), arg.end(), out);
      *out++ = '\r';
      *out++ = '\n';
    }
    return redisAsyncFormattedCommand(context_, callback, privdata, resp_.data(),
                                      static_cast<std::size_t>(out - resp_.data())) == REDIS_OK;
  }

  void write(std::unique_ptr<Request> request) {
    request->deadline = Clock::now() + config_.command_timeout;
    std::size_t accepted = 0;
    for (const auto& command : *request->commands) {
      if (!submit(&Connection::on_reply, request.get(), command)) break;
      ++accepted;
    }
    request->expected = accepted;
    request->replies.reserve(accepted);
    if (accepted < request->commands->size()) {
      // Only while hiredis is tearing the context down; the accepted ones still get callbacks.
      request->error = RedisError{RedisErrc::disconnected, "Redis connection is closing"};
    }
    request->release();
    if (accepted == 0) {
      request->complete();
      return;
    }
    in_flight_.push_back(std::move(request));
    arm_command_timer();
  }

  // One timer for the whole connection: replies come in order, so the oldest request in flight
  // is the first that can time out.
  void arm_command_timer() {
    if (command_timer_armed_ || in_flight_.empty()) return;
    command_timer_armed_ = true;
    command_timer_.expires_at(in_flight_.front()->deadline);
    command_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      const auto self = weak.lock();
      if (!self) return;
      self->command_timer_armed_ = false;
      if (!ec && !self->in_flight_.empty() && self->in_flight_.front()->deadline <= Clock::now()) {
        self->drop(RedisError{RedisErrc::timeout, "no reply from Redis within " +
                                                      millis_text(self->config_.command_timeout)});
        return;
      }
      self->arm_command_timer();
    });
  }

  // Tears the context down. hiredis then reports every outstanding command with a null reply
  // and calls the adapter's cleanup hook (on_context_gone) — right away, or, when called from
  // inside a hiredis callback, as soon as that callback returns.
  void drop(RedisError reason) {
    if (context_ == nullptr || drop_reason_) return;
    const auto level =
        reason.code == RedisErrc::disconnected ? log::Level::debug : log::Level::warn;
    if (log::enabled(level)) {
      log::write(level, "redis connection dropped",
                 {{"redis", config_.redacted_url()},
                  {"reason", to_string(reason.code)},
                  {"error", reason.message},
                  {"pending", pending()}});
    }
    drop_reason_ = std::move(reason);
    redisAsyncFree(context_);
  }

  // Why a command sent on the context being torn down got no reply.
  RedisError failure_for(const Request& request) const {
    if (drop_reason_) {
      if (drop_reason_->code == RedisErrc::timeout && request.deadline > Clock::now()) {
        return RedisError{RedisErrc::disconnected,
                          "connection dropped because an earlier command timed out"};
      }
      return *drop_reason_;
    }
    const redisContext& c = context_->c;
    const std::string message = c.errstr[0] != '\0' ? c.errstr : "connection lost";
    if (c.err == REDIS_ERR_PROTOCOL) return RedisError{RedisErrc::protocol_error, message};
    if (state_ == State::connecting) return RedisError{RedisErrc::connect_failed, message};
    return RedisError{RedisErrc::disconnected, message};
  }

  void on_command_reply(Request* request, const redisReply* reply) {
    if (reply == nullptr) {
      if (!request->error) request->error = failure_for(*request);
    } else if (!request->error) {
      request->replies.push_back(Reply::from_hiredis(*reply));
    }
    if (++request->answered < request->expected) return;
    // Redis answers in write order, so the request completing is always the oldest.
    assert(!in_flight_.empty() && in_flight_.front().get() == request);
    auto done = std::move(in_flight_.front());
    in_flight_.pop_front();
    // An idle connection keeps no timer pending (io_context::run() callers notice the difference).
    if (in_flight_.empty() && command_timer_armed_) command_timer_.cancel();
    done->complete();
  }

  void on_handshake_failed(const redisReply& reply) {
    drop(RedisError{RedisErrc::server_error,
                    "Redis refused the connection set-up (AUTH/SELECT): " +
                        std::string(reply.str ? reply.str : "", reply.len)});
  }

  // hiredis' cleanup hook: the context is about to be freed, every callback has been called.
  void on_context_gone() {
    const bool was_ready = state_ == State::ready;
    RedisError reason = drop_reason_ ? *drop_reason_ : failure_for_waiting();
    if (!drop_reason_ && was_ready) {
      log::warn("redis connection lost",
                {{"redis", config_.redacted_url()}, {"error", reason.message}});
    } else if (!drop_reason_) {
      log::warn("redis connect failed",
                {{"redis", config_.redacted_url()}, {"error", reason.message}});
    }
    context_ = nullptr;
    adapter_.reset();
    state_ = State::idle;
    tcp_connected_ = false;
    handshake_pending_ = 0;
    drop_reason_.reset();
    connect_timer_.cancel();
    command_timer_.cancel();
    // hiredis has reported every command it accepted, so this is empty unless a callback was lost.
    while (!in_flight_.empty()) {
      auto request = std::move(in_flight_.front());
      in_flight_.pop_front();
      if (!request->error) request->error = reason;
      request->complete();
    }
    fail_waiting(reason);
  }

  RedisError failure_for_waiting() const {
    const redisContext& c = context_->c;
    std::string message = c.errstr[0] != '\0' ? c.errstr : "connection lost";
    if (state_ == State::connecting) {
      return RedisError{RedisErrc::connect_failed,
                        "cannot connect to " + config_.redacted_url() + ": " + message};
    }
    return RedisError{
        c.err == REDIS_ERR_PROTOCOL ? RedisErrc::protocol_error : RedisErrc::disconnected,
        std::move(message)};
  }

  void fail_waiting(const RedisError& error) {
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (auto& request : waiting) {
      request->error = error;
      request->complete();
    }
  }

  static Connection* owner(const redisAsyncContext* context) {
    return static_cast<Connection*>(context->data);
  }

  static void on_connect(const redisAsyncContext* context, int status) {
    Connection* self = owner(context);
    // A failed connect is followed at once by the context's teardown, reported there.
    if (self == nullptr || status != REDIS_OK) return;
    self->tcp_connected_ = true;
    self->maybe_ready();
  }

  static void on_handshake_reply(redisAsyncContext* context, void* reply, void*) {
    Connection* self = owner(context);
    // A null reply means the context is being torn down; on_context_gone reports that.
    if (self == nullptr || reply == nullptr) return;
    const auto* r = static_cast<const redisReply*>(reply);
    if (r->type == REDIS_REPLY_ERROR) {
      self->on_handshake_failed(*r);
      return;
    }
    --self->handshake_pending_;
    self->maybe_ready();
  }

  static void on_reply(redisAsyncContext* context, void* reply, void* privdata) {
    Connection* self = owner(context);
    if (self == nullptr) return;
    self->on_command_reply(static_cast<Request*>(privdata), static_cast<const redisReply*>(reply));
  }

  asio::any_io_executor executor_;
  RedisConfig config_;
  redisAsyncContext* context_ = nullptr;  // owned: freed only through drop() or by hiredis itself
  std::shared_ptr<AsioAdapter> adapter_;
  State state_ = State::idle;
  bool closed_ = false;
  bool tcp_connected_ = false;
  std::size_t handshake_pending_ = 0;
  std::optional<RedisError> drop_reason_;  // set while this side is tearing the context down
  std::uint64_t generation_ = 0;           // connection attempts; a stale connect timer is ignored
  std::deque<std::unique_ptr<Request>> waiting_;    // issued before the connection was ready
  std::deque<std::unique_ptr<Request>> in_flight_;  // written, in write (= reply) order
  asio::steady_timer connect_timer_;
  asio::steady_timer command_timer_;
  bool command_timer_armed_ = false;
  std::string resp_;  // scratch for submit()
};

namespace {

// `commands`: Commands, or const Commands* that outlives the operation.
template <typename Token, typename Cmds>
auto async_run(std::shared_ptr<Connection> connection, Cmds commands, Token&& token) {
  return asio::async_initiate<Token, void(Replies)>(
      [](auto handler, std::shared_ptr<Connection> conn, Cmds cmds) {
        using Handler = std::decay_t<decltype(handler)>;
        const auto& executor = conn->executor();
        conn->start(
            std::make_unique<RequestFor<Handler>>(std::move(cmds), std::move(handler), executor));
      },
      token, std::move(connection), std::move(commands));
}

}  // namespace

Client::Client(asio::any_io_executor executor, RedisConfig config)
    : executor_(std::move(executor)),
      connection_(std::make_shared<Connection>(executor_, std::move(config))) {
  ignore_sigpipe();
}

Client::~Client() {
  connection_->close();
}

asio::awaitable<Result<Reply, RedisError>> Client::command(std::vector<std::string> args) {
  Commands commands;
  commands.push_back(std::move(args));
  // Nothing below the co_await touches `this`: the Client may be gone by the time it resumes.
  auto result = co_await async_run(connection_, std::move(commands), asio::use_awaitable);
  if (!result) co_return fail(std::move(result).error());
  co_return std::move(result->front());
}

asio::awaitable<Result<std::vector<Reply>, RedisError>> Client::pipeline(
    std::vector<std::vector<std::string>> commands) {
  co_return co_await async_run(connection_, std::move(commands), asio::use_awaitable);
}

asio::awaitable<Result<Reply, RedisError>> Client::eval_script(const Script& script,
                                                               std::vector<std::string> keys,
                                                               std::vector<std::string> args,
                                                               Commands before) {
  auto connection = connection_;  // the Client may be destroyed while this is suspended
  // Built once, the arguments moved in, and lent to the requests (not copied): a delivery log
  // batch is kilobytes per entry. NOSCRIPT: the same command again as EVAL.
  std::vector<std::string> eval;
  eval.reserve(3 + keys.size() + args.size());
  eval.push_back("EVALSHA");
  eval.push_back(script.sha1());
  eval.push_back(std::to_string(keys.size()));
  std::move(keys.begin(), keys.end(), std::back_inserter(eval));
  std::move(args.begin(), args.end(), std::back_inserter(eval));
  const std::size_t first_count = before.size();
  before.push_back(std::move(eval));
  const Commands* const commands = &before;
  auto first = co_await async_run(connection, commands, asio::use_awaitable);
  if (!first) co_return fail(std::move(first).error());
  for (std::size_t i = 0; i < first_count; ++i)
    if ((*first)[i].is_error()) co_return std::move((*first)[i]);
  Reply reply = std::move(first->back());
  if (!reply.is_error() || !reply.as_string().starts_with("NOSCRIPT")) co_return reply;
  Commands again;
  again.push_back(std::move(before.back()));
  again.front()[0] = "EVAL";
  again.front()[1] = script.source();
  const Commands* const retry = &again;
  auto second = co_await async_run(connection, retry, asio::use_awaitable);
  if (!second) co_return fail(std::move(second).error());
  co_return std::move(second->front());
}

void Client::disconnect() {
  connection_->disconnect(RedisError{RedisErrc::disconnected, "disconnected by the caller"});
}

bool Client::connected() const {
  return connection_->ready();
}

std::size_t Client::pending_commands() const {
  return connection_->pending();
}

}  // namespace hookstream::redis
