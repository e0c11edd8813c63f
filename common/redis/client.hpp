#pragma once
// A pipelining Redis client for Asio coroutines, over hiredis 0.14's async API.
//
//   redis::Client client(io.get_executor(), config.redis);
//   auto r = co_await client.command("HGET", key, field);
//   if (!r) … r.error().code …            // connect_failed, disconnected, timeout, …
//   else if (r->is_error()) …             // the server answered with an error (WRONGTYPE, …)
//
// Threading: not thread-safe. A Client lives on one executor (use one Client per io_context
// thread); it and the coroutines calling it must run on that executor's thread. Completions are
// always posted to the awaiting coroutine's executor, never run inline.
//
// Connection: one TCP connection, opened on the first command (AUTH and SELECT run before any
// caller command) and opened again on a later command after it dropped, e.g. when Redis
// restarted. Nothing reconnects in the background. Commands from any number of coroutines are
// written as soon as they are issued, without waiting for earlier replies; Redis answers in order.
//
// Not supported (rejected with protocol_error): SUBSCRIBE and friends, MONITOR, CLIENT REPLY.
// SELECT works but lasts only until the next reconnect; configure RedisConfig::db instead.
//
// Constructing a Client sets SIGPIPE to "ignore" if it is still at its default: hiredis 0.14
// writes with write(2), and a server that went away must fail the write, not kill the process.
//
// Failures: if the connection drops, every command sent on it and not yet answered completes once
// with `disconnected` (the server may or may not have executed it). A command not answered within
// command_timeout completes with `timeout`, and the connection is dropped so that a late reply
// can never be taken for the answer to a later command; commands queued behind it complete with
// `disconnected`. Commands issued while connecting wait for the connection (at most
// connect_timeout) and fail with `connect_failed` if it cannot be made.
//
// While connected, the Client keeps a read pending, so io_context::run() does not return on its
// own; destroy the Client or call disconnect() first. Spawn callers as awaitable<void> coroutines:
// Boost 1.74's co_spawn needs a default-constructible result type, which Result is not.
//
// Host names are resolved by hiredis, synchronously, when a connection is opened; use an IP
// address or a name the resolver answers from /etc/hosts or a local cache.
//
// Lifetime: destroy the Client before its io_context. Destroying it (or calling disconnect()) fails
// the outstanding commands with `disconnected`; their coroutines resume later on their executors.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/asio.hpp"
#include "common/config.hpp"
#include "common/redis/errors.hpp"
#include "common/redis/reply.hpp"
#include "common/redis/script.hpp"
#include "common/result.hpp"

namespace hookstream::redis {

class Connection;

// Anything a command argument can be read from: std::string, std::string_view, a literal.
template <typename T>
concept CommandArg = std::is_convertible_v<const T&, std::string_view>;

class Client {
 public:
  Client(asio::any_io_executor executor, RedisConfig config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One command, e.g. `co_await client.command("HSET", key, field, value)`. Arguments are
  // binary-safe (any bytes, NUL included) and copied before this returns, so views of temporaries
  // are fine. An error reply from the server is a Reply of kind error, not a RedisError.
  //
  // Variadic rather than std::initializer_list: GCC 12 rejects a braced list inside a co_await
  // expression ("array used as initializer"), so `co_await command({"GET", k})` cannot compile.
  template <CommandArg... Args>
  asio::awaitable<Result<Reply, RedisError>> command(const Args&... args) {
    static_assert(sizeof...(Args) > 0, "a command needs at least its name");
    return command(std::vector<std::string>{std::string(std::string_view(args))...});
  }
  asio::awaitable<Result<Reply, RedisError>> command(std::vector<std::string> args);

  // Several commands written back to back, one reply each, in order. Not a transaction (use
  // MULTI/EXEC inside for that). Fails as a whole if the connection fails before every reply is in.
  asio::awaitable<Result<std::vector<Reply>, RedisError>> pipeline(
      std::vector<std::vector<std::string>> commands);

  // EVALSHA, and EVAL when the server answers NOSCRIPT (which also caches the script again).
  // `script` must outlive the call (it is read again after the first reply). `before`: commands
  // written ahead of the script in the same round trip (large values go there rather than through
  // the script's arguments, which Redis' Lua hashes byte by byte); they are not sent again on
  // NOSCRIPT, so they must be idempotent, and the first of their replies that is an error is
  // answered in place of the script's (which then ran, or not, as Redis decided).
  asio::awaitable<Result<Reply, RedisError>> eval_script(
      const Script& script, std::vector<std::string> keys, std::vector<std::string> args,
      std::vector<std::vector<std::string>> before = {});

  // Drops the connection now: outstanding commands complete with `disconnected`. A later command
  // connects again.
  void disconnect();

  bool connected() const;  // the connection is up and set up (AUTH/SELECT done)
  // command()/pipeline() calls not completed yet: sent and unanswered, or waiting for the
  // connection.
  std::size_t pending_commands() const;
  const asio::any_io_executor& get_executor() const { return executor_; }

 private:
  asio::any_io_executor executor_;
  // Shared with in-flight eval_script coroutines, which issue a second command after resuming.
  std::shared_ptr<Connection> connection_;
};

}  // namespace hookstream::redis
