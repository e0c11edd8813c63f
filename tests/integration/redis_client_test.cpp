#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/redis/client.hpp"
#include "tests/fixtures/process.hpp"
#include "tests/fixtures/redis_server.hpp"

namespace hookstream::redis {
namespace {

using namespace std::chrono_literals;
using hookstream::testing::RedisServer;
using hookstream::testing::RedisServerOptions;
using Clock = std::chrono::steady_clock;
using CommandResult = Result<Reply, RedisError>;

// ASSERT_* returns from the enclosing function, which a coroutine cannot do. CO_ASSERT_TRUE
// records the failure the same way, then throws; run() ends the test there.
struct CoroutineAssertion {};
struct FailAndThrow {
  const char* file;
  int line;
  const char* condition;
  [[noreturn]] void operator=(const ::testing::Message& message) const {
    ADD_FAILURE_AT(file, line) << "Failed: " << condition << "\n" << message;
    throw CoroutineAssertion{};
  }
};
#define CO_ASSERT_TRUE(cond) \
  if (cond) {                \
  } else                     \
    FailAndThrow{__FILE__, __LINE__, #cond} = ::testing::Message()
#define CO_ASSERT_FALSE(cond) CO_ASSERT_TRUE(!(cond))

// Runs `body` on `io` until it finishes. Fails the test if it throws or outlives `limit`.
void run(asio::io_context& io, const std::function<asio::awaitable<void>()>& body,
         std::chrono::milliseconds limit = 30s) {
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    done = true;
    error = e;
    io.stop();  // the clients keep reads pending, so run() would not return by itself
  });
  io.restart();
  io.run_for(limit);
  ASSERT_TRUE(done) << "test coroutine did not finish within " << limit.count() << " ms";
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const CoroutineAssertion&) {
      // already recorded
    }
  }
}

// Polls `cond` every few milliseconds without blocking the io_context.
asio::awaitable<bool> wait_until(std::function<bool()> cond, std::chrono::milliseconds timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = Clock::now() + timeout;
  while (!cond()) {
    if (Clock::now() >= deadline) co_return false;
    timer.expires_after(5ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return true;
}

template <typename F>
void spawn(asio::io_context& io, F f) {
  asio::co_spawn(io, std::move(f), asio::detached);
}

std::string describe(const CommandResult& r) {
  if (!r) return "RedisError " + std::string(to_string(r.error().code)) + ": " + r.error().message;
  return r->debug_string();
}

// The reply's text, or a marker naming what came instead, so EXPECT_EQ shows something useful.
std::string text_of(const CommandResult& r) {
  if (!r || !(r->is_string() || r->is_status())) return "<" + describe(r) + ">";
  return std::string(r->as_string());
}

std::int64_t integer_of(const CommandResult& r) {
  if (!r || !r->as_integer()) {
    ADD_FAILURE() << "expected an integer, got " << describe(r);
    return -1;
  }
  return *r->as_integer();
}

// "blocked_clients:2" from INFO clients.
asio::awaitable<std::int64_t> blocked_clients(Client& client) {
  const auto info = co_await client.command("INFO", "clients");
  if (!info) co_return -1;
  const std::string text(info->as_string());
  const auto at = text.find("blocked_clients:");
  if (at == std::string::npos) co_return -1;
  co_return std::stoll(text.substr(at + 16));
}

asio::awaitable<bool> wait_for_blocked_clients(Client& observer, std::int64_t n) {
  const auto deadline = Clock::now() + 5s;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (co_await blocked_clients(observer) != n) {
    if (Clock::now() >= deadline) co_return false;
    timer.expires_after(5ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return true;
}

TEST(RedisClient, RoundTripsBinarySafeValues) {
  RedisServer server;
  asio::io_context io;
  Client client(io.get_executor(), server.config());
  run(io, [&]() -> asio::awaitable<void> {
    static constexpr char raw_key[] = "bin\0key\r\n";
    static constexpr char raw_value[] = "\0\r\n$3\r\n\xff\xfe end";
    const std::string key(raw_key, sizeof raw_key - 1);
    const std::string value(raw_value, sizeof raw_value - 1);
    EXPECT_EQ(text_of(co_await client.command("SET", key, value)), "OK");
    const auto got = co_await client.command("GET", key);
    CO_ASSERT_TRUE(got && got->is_string()) << describe(got);
    EXPECT_EQ(got->as_string(), value);
    EXPECT_EQ(got->as_string().size(), 13u);

    const auto missing = co_await client.command("GET", "no-such-key");
    CO_ASSERT_TRUE(missing) << describe(missing);
    EXPECT_TRUE(missing->is_nil());

    std::string big(1 << 20, 'x');
    for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>(i % 251);
    EXPECT_EQ(text_of(co_await client.command("SET", "big", big)), "OK");
    const auto big_back = co_await client.command("GET", "big");
    EXPECT_TRUE(big_back && big_back->as_string() == big);

    EXPECT_EQ(integer_of(co_await client.command("INCR", "counter")), 1);
    EXPECT_EQ(integer_of(co_await client.command("INCRBY", "counter", "41")), 42);

    EXPECT_EQ(integer_of(co_await client.command("HSET", "h", "f1", "v1", value, "binary")), 2);
    const auto all = co_await client.command("HGETALL", "h");
    CO_ASSERT_TRUE(all && all->is_array()) << describe(all);
    std::map<std::string, std::string> fields;
    for (std::size_t i = 0; i + 1 < all->elements().size(); i += 2) {
      fields[std::string(all->elements()[i].as_string())] =
          std::string(all->elements()[i + 1].as_string());
    }
    EXPECT_EQ(fields, (std::map<std::string, std::string>{{"f1", "v1"}, {value, "binary"}}));
    EXPECT_TRUE(client.connected());
  });
}

TEST(RedisClient, ThousandConcurrentCommandsArePipelinedAndAnsweredInOrder) {
  constexpr int n = 1000;
  RedisServer server;
  asio::io_context io;
  Client client(io.get_executor(), server.config(2s, 10s));
  run(io, [&]() -> asio::awaitable<void> {
    std::vector<std::vector<std::string>> sets;
    for (int i = 0; i < n; ++i) {
      sets.push_back({"SET", "k" + std::to_string(i), "value-" + std::to_string(i * 7)});
    }
    const auto set_all = co_await client.pipeline(std::move(sets));
    CO_ASSERT_TRUE(set_all) << set_all.error().message;

    // The server sleeps first, so every command below is issued before any of them is answered.
    std::optional<CommandResult> slept;
    spawn(io, [&]() -> asio::awaitable<void> {
      slept = co_await client.command("DEBUG", "SLEEP", "0.5");
    });
    std::vector<std::optional<CommandResult>> incrs(n), gets(n);
    for (int i = 0; i < n; ++i) {
      spawn(io, [&, i]() -> asio::awaitable<void> {
        incrs[static_cast<std::size_t>(i)] = co_await client.command("INCR", "seq");
      });
      spawn(io, [&, i]() -> asio::awaitable<void> {
        gets[static_cast<std::size_t>(i)] = co_await client.command("GET", "k" + std::to_string(i));
      });
    }
    std::size_t outstanding_together = 0;
    spawn(io, [&]() -> asio::awaitable<void> {
      outstanding_together = client.pending_commands();
      co_return;
    });
    const bool all_done = co_await wait_until(
        [&] {
          for (int i = 0; i < n; ++i) {
            if (!incrs[static_cast<std::size_t>(i)] || !gets[static_cast<std::size_t>(i)]) {
              return false;
            }
          }
          return slept.has_value();
        },
        20s);
    CO_ASSERT_TRUE(all_done);
    EXPECT_EQ(outstanding_together, static_cast<std::size_t>(2 * n + 1));
    EXPECT_EQ(text_of(*slept), "OK");
    for (int i = 0; i < n; ++i) {
      const auto u = static_cast<std::size_t>(i);
      CO_ASSERT_TRUE(integer_of(*incrs[u]) == i + 1)
          << "INCR #" << i << ": " << describe(*incrs[u]);
      CO_ASSERT_TRUE(text_of(*gets[u]) == "value-" + std::to_string(i * 7))
          << "GET #" << i << ": " << describe(*gets[u]);
    }
  });
}

TEST(RedisClient, PipelineReturnsEveryReplyInOrder) {
  RedisServer server;
  asio::io_context io;
  Client client(io.get_executor(), server.config());
  run(io, [&]() -> asio::awaitable<void> {
    // Built outside the co_await: GCC 12 rejects braced lists inside co_await expressions.
    std::vector<std::vector<std::string>> commands = {
        {"SET", "a", "1"}, {"INCR", "a"},   {"LPUSH", "a", "x"},  // WRONGTYPE
        {"GET", "a"},      {"GET", "none"}, {"MGET", "a", "none"}};
    const auto replies = co_await client.pipeline(std::move(commands));
    CO_ASSERT_TRUE(replies) << replies.error().message;
    CO_ASSERT_TRUE(replies->size() == 6u) << replies->size();
    const auto& r = *replies;
    EXPECT_EQ(r[0], Reply::status("OK"));
    EXPECT_EQ(r[1], Reply::integer(2));
    EXPECT_TRUE(r[2].is_error());
    EXPECT_TRUE(r[2].as_string().starts_with("WRONGTYPE")) << r[2].debug_string();
    EXPECT_EQ(r[3], Reply::string("2"));
    EXPECT_TRUE(r[4].is_nil());
    EXPECT_EQ(r[5], Reply::array({Reply::string("2"), Reply::nil()}));

    const auto empty = co_await client.pipeline(std::vector<std::vector<std::string>>());
    CO_ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());

    std::vector<std::vector<std::string>> with_empty = {{"PING"}, {}};
    const auto bad = co_await client.pipeline(std::move(with_empty));
    CO_ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, RedisErrc::protocol_error);
  });
}

TEST(RedisClient, ErrorReplyIsAValueAndTheConnectionKeepsWorking) {
  RedisServer server;
  asio::io_context io;
  Client client(io.get_executor(), server.config());
  run(io, [&]() -> asio::awaitable<void> {
    EXPECT_EQ(text_of(co_await client.command("SET", "s", "text")), "OK");
    const auto wrong = co_await client.command("HGET", "s", "f");
    CO_ASSERT_TRUE(wrong) << describe(wrong);
    EXPECT_TRUE(wrong->is_error());
    EXPECT_TRUE(wrong->as_string().starts_with("WRONGTYPE")) << describe(wrong);

    const auto unknown = co_await client.command("NO-SUCH-COMMAND", "x");
    CO_ASSERT_TRUE(unknown && unknown->is_error()) << describe(unknown);

    const auto rejected = reject_error_reply(co_await client.command("INCR", "s"));
    CO_ASSERT_FALSE(rejected);
    EXPECT_EQ(rejected.error().code, RedisErrc::server_error);

    // Would break reply matching, so refused before anything is sent.
    const auto subscribe = co_await client.command("subscribe", "channel");
    CO_ASSERT_FALSE(subscribe) << describe(subscribe);
    EXPECT_EQ(subscribe.error().code, RedisErrc::protocol_error);

    EXPECT_EQ(text_of(co_await client.command("GET", "s")), "text");
    EXPECT_TRUE(client.connected());
  });
}

TEST(RedisClient, ServerKilledFailsCommandsQuicklyAndTheSameClientRecoversAfterRestart) {
  RedisServer server(RedisServerOptions{.appendonly = true});
  asio::io_context io;
  Client client(io.get_executor(), server.config(1s, 10s));
  Client observer(io.get_executor(), server.config(1s, 2s));
  run(io, [&]() -> asio::awaitable<void> {
    EXPECT_EQ(text_of(co_await client.command("SET", "durable", "yes")), "OK");

    // Two commands the server leaves unanswered, so they are pending when it dies.
    std::vector<std::optional<CommandResult>> blocked(2);
    for (auto& slot : blocked) {
      spawn(io, [&]() -> asio::awaitable<void> {
        slot = co_await client.command("BLPOP", "never-filled", "0");
      });
    }
    // Redis blocks the connection on the first BLPOP; the second waits behind it, unanswered.
    CO_ASSERT_TRUE(co_await wait_for_blocked_clients(observer, 1));
    CO_ASSERT_TRUE(co_await wait_until([&] { return client.pending_commands() == 2; }, 2s));

    server.kill9();
    const auto killed_at = Clock::now();
    CO_ASSERT_TRUE(co_await wait_until([&] { return blocked[0] && blocked[1]; }, 5s))
        << "pending commands never completed after the server died";
    EXPECT_LT(Clock::now() - killed_at, 1s);
    for (const auto& r : blocked) {
      CO_ASSERT_FALSE(*r) << describe(*r);
      EXPECT_EQ(r->error().code, RedisErrc::disconnected) << r->error().message;
      EXPECT_TRUE(is_retriable(r->error().code));
    }
    EXPECT_FALSE(client.connected());

    const auto started = Clock::now();
    const auto down = co_await client.command("GET", "durable");
    CO_ASSERT_FALSE(down) << describe(down);
    EXPECT_EQ(down.error().code, RedisErrc::connect_failed) << down.error().message;
    EXPECT_LT(Clock::now() - started, 1500ms);  // connect_timeout is 1 s

    server.restart();
    const auto back = co_await client.command("GET", "durable");
    EXPECT_EQ(text_of(back), "yes");  // same Client, new connection, AOF data intact
    EXPECT_EQ(integer_of(co_await client.command("INCR", "after-restart")), 1);
    EXPECT_TRUE(client.connected());
    EXPECT_EQ(client.pending_commands(), 0u);
  });
}

TEST(RedisClient, CommandTimeoutDropsTheConnectionAndTheClientRecovers) {
  RedisServer server;
  asio::io_context io;
  Client client(io.get_executor(), server.config(1s, 200ms));
  run(io, [&]() -> asio::awaitable<void> {
    EXPECT_EQ(text_of(co_await client.command("SET", "k", "v")), "OK");

    std::optional<CommandResult> behind;
    const auto started = Clock::now();
    spawn(io, [&]() -> asio::awaitable<void> {
      // Queued behind the sleep; issued after it, so its own deadline has not passed yet.
      asio::steady_timer t(io, 50ms);
      co_await t.async_wait(asio::use_awaitable);
      behind = co_await client.command("GET", "k");
    });
    const auto slow = co_await client.command("DEBUG", "SLEEP", "1");
    const auto elapsed = Clock::now() - started;
    CO_ASSERT_FALSE(slow) << describe(slow);
    EXPECT_EQ(slow.error().code, RedisErrc::timeout) << slow.error().message;
    EXPECT_GE(elapsed, 190ms);
    EXPECT_LT(elapsed, 900ms);  // did not wait for the 1 s reply
    CO_ASSERT_TRUE(co_await wait_until([&] { return behind.has_value(); }, 2s));
    CO_ASSERT_FALSE(*behind) << describe(*behind);
    EXPECT_EQ(behind->error().code, RedisErrc::disconnected);

    // The server is still asleep for a while; every try until it wakes times out.
    std::optional<CommandResult> pong;
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline) {
      pong = co_await client.command("PING");
      if (*pong) break;
      EXPECT_EQ(pong->error().code, RedisErrc::timeout) << pong->error().message;
    }
    CO_ASSERT_TRUE(pong && *pong) << "client never recovered";
    EXPECT_EQ(text_of(*pong), "PONG");
    // A late "+OK" from DEBUG SLEEP must not be taken as this reply.
    EXPECT_EQ(text_of(co_await client.command("GET", "k")), "v");
  });
}

TEST(RedisClient, EvalScriptFallsBackToEvalAfterScriptFlush) {
  RedisServer server;
  asio::io_context io;
  Client client(io.get_executor(), server.config());
  const Script incr_by("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  const std::vector<std::string> counter_key = {"counter"};
  const std::vector<std::string> five = {"5"};
  run(io, [&]() -> asio::awaitable<void> {
    EXPECT_EQ(integer_of(co_await client.eval_script(incr_by, counter_key, five)), 5);
    EXPECT_EQ(integer_of(co_await client.eval_script(incr_by, counter_key, five)), 10);
    const auto loaded = co_await client.command("SCRIPT", "EXISTS", incr_by.sha1());
    EXPECT_EQ(loaded.ok() ? *loaded : Reply(), Reply::array({Reply::integer(1)}));

    EXPECT_EQ(text_of(co_await client.command("SCRIPT", "FLUSH")), "OK");
    EXPECT_EQ(integer_of(co_await client.eval_script(incr_by, counter_key, five)), 15);
    EXPECT_EQ(integer_of(co_await client.eval_script(incr_by, counter_key, five)), 20);

    // 4 EVALSHA, of which 2 answered NOSCRIPT and were followed by EVAL.
    const auto stats = co_await client.command("INFO", "commandstats");
    CO_ASSERT_TRUE(stats) << describe(stats);
    const std::string text(stats->as_string());
    EXPECT_NE(text.find("cmdstat_evalsha:calls=4,"), std::string::npos) << text;
    EXPECT_NE(text.find("cmdstat_eval:calls=2,"), std::string::npos) << text;

    const std::vector<std::string> no_args;
    const Script broken("return redis.call('NO-SUCH-COMMAND')");
    const auto failed = co_await client.eval_script(broken, no_args, no_args);
    CO_ASSERT_TRUE(failed) << describe(failed);
    EXPECT_TRUE(failed->is_error()) << describe(failed);
  });
}

// Commands given to eval_script to go first are written ahead of the script in the same round
// trip, once (not again when the script has to be sent as EVAL); an error among their replies is
// the answer.
TEST(RedisClient, EvalScriptWritesTheCommandsGivenToGoFirstAheadOfItOnce) {
  RedisServer server;
  asio::io_context io;
  Client client(io.get_executor(), server.config());
  const Script read_both("return {redis.call('GET', KEYS[1]), redis.call('INCR', KEYS[2])}");
  const std::vector<std::string> keys = {"value", "writes"};
  const std::vector<std::string> no_args;
  const auto before = [](const std::string& value) {
    return std::vector<std::vector<std::string>>{{"SET", "value", value}, {"INCR", "writes"}};
  };
  run(io, [&]() -> asio::awaitable<void> {
    // Named, not temporaries in the co_await expressions: GCC 12 destroys those twice.
    const auto one = before("one"), two = before("two");
    const auto first = co_await client.eval_script(read_both, keys, no_args, one);
    CO_ASSERT_TRUE(first) << describe(first);
    EXPECT_EQ(*first, Reply::array({Reply::string("one"), Reply::integer(2)}));

    EXPECT_EQ(text_of(co_await client.command("SCRIPT", "FLUSH")), "OK");
    const auto again = co_await client.eval_script(read_both, keys, no_args, two);
    CO_ASSERT_TRUE(again) << describe(again);
    // One INCR before it, once, although the script went twice (NOSCRIPT, then EVAL).
    EXPECT_EQ(*again, Reply::array({Reply::string("two"), Reply::integer(4)}));

    const std::vector<std::vector<std::string>> failing = {{"INCR", "value"}};  // not a number
    const auto failed = co_await client.eval_script(read_both, keys, no_args, failing);
    CO_ASSERT_TRUE(failed) << describe(failed);
    EXPECT_TRUE(failed->is_error()) << describe(failed);
    EXPECT_NE(std::string(failed->as_string()).find("not an integer"), std::string::npos)
        << describe(failed);
  });
}

TEST(RedisClient, AuthenticatesWithPasswordAndUsername) {
  RedisServer server(RedisServerOptions{.requirepass = "s3cret pass"});
  asio::io_context io;
  Client good(io.get_executor(), server.config());
  auto with_user = server.config();
  with_user.username = "default";
  Client named(io.get_executor(), with_user);
  auto wrong_config = server.config();
  wrong_config.password = "wrong";
  Client wrong(io.get_executor(), wrong_config);
  auto anonymous_config = server.config();
  anonymous_config.password.clear();
  Client anonymous(io.get_executor(), anonymous_config);
  run(io, [&]() -> asio::awaitable<void> {
    EXPECT_EQ(text_of(co_await good.command("SET", "k", "v")), "OK");
    EXPECT_EQ(text_of(co_await named.command("GET", "k")), "v");

    const auto refused = co_await wrong.command("GET", "k");
    CO_ASSERT_FALSE(refused) << describe(refused);
    EXPECT_EQ(refused.error().code, RedisErrc::server_error);
    EXPECT_NE(refused.error().message.find("WRONGPASS"), std::string::npos)
        << refused.error().message;
    EXPECT_FALSE(is_retriable(refused.error().code));
    EXPECT_FALSE(wrong.connected());

    const auto noauth = co_await anonymous.command("GET", "k");
    CO_ASSERT_TRUE(noauth) << describe(noauth);
    EXPECT_TRUE(noauth->is_error());
    EXPECT_TRUE(noauth->as_string().starts_with("NOAUTH")) << describe(noauth);
  });
}

TEST(RedisClient, SelectsTheConfiguredDatabase) {
  RedisServer server;
  asio::io_context io;
  auto db5 = server.config();
  db5.db = 5;
  Client in_db5(io.get_executor(), db5);
  Client in_db0(io.get_executor(), server.config());
  auto db_bad = server.config();
  db_bad.db = 99;
  Client in_bad(io.get_executor(), db_bad);
  run(io, [&]() -> asio::awaitable<void> {
    EXPECT_EQ(text_of(co_await in_db5.command("SET", "where", "five")), "OK");
    const auto from_db0 = co_await in_db0.command("GET", "where");
    EXPECT_TRUE(from_db0 && from_db0->is_nil()) << describe(from_db0);
    EXPECT_EQ(text_of(co_await in_db0.command("SELECT", "5")), "OK");
    EXPECT_EQ(text_of(co_await in_db0.command("GET", "where")), "five");

    const auto bad = co_await in_bad.command("PING");
    CO_ASSERT_FALSE(bad) << describe(bad);
    EXPECT_EQ(bad.error().code, RedisErrc::server_error) << bad.error().message;
  });
}

TEST(RedisClient, ConnectFailsFastWhenNothingListens) {
  RedisConfig config;
  config.host = "127.0.0.1";
  config.port = hookstream::testing::free_port();
  config.connect_timeout = 1s;
  asio::io_context io;
  Client client(io.get_executor(), config);
  run(io, [&]() -> asio::awaitable<void> {
    const auto started = Clock::now();
    std::optional<CommandResult> concurrent;
    spawn(io, [&]() -> asio::awaitable<void> { concurrent = co_await client.command("PING"); });
    const auto r = co_await client.command("PING");
    CO_ASSERT_FALSE(r) << describe(r);
    EXPECT_EQ(r.error().code, RedisErrc::connect_failed) << r.error().message;
    EXPECT_LT(Clock::now() - started, 900ms);
    CO_ASSERT_TRUE(co_await wait_until([&] { return concurrent.has_value(); }, 1s));
    CO_ASSERT_FALSE(*concurrent);
    EXPECT_EQ(concurrent->error().code, RedisErrc::connect_failed);
  });
}

TEST(RedisClient, ConnectTimesOutWhenTheServerNeverAnswersTheHandshake) {
  // Accepts TCP connections (the kernel does) but never reads: AUTH goes unanswered.
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  RedisConfig config;
  config.host = "127.0.0.1";
  config.port = silent.local_endpoint().port();
  config.password = "pw";
  config.connect_timeout = 300ms;
  Client client(io.get_executor(), config);
  run(io, [&]() -> asio::awaitable<void> {
    const auto started = Clock::now();
    const auto r = co_await client.command("PING");
    const auto elapsed = Clock::now() - started;
    CO_ASSERT_FALSE(r) << describe(r);
    EXPECT_EQ(r.error().code, RedisErrc::connect_failed) << r.error().message;
    EXPECT_GE(elapsed, 290ms);
    EXPECT_LT(elapsed, 2s);
  });
}

TEST(RedisClient, DisconnectAndDestructionCompletePendingCommands) {
  RedisServer server;
  asio::io_context io;
  std::optional<Client> client(std::in_place, io.get_executor(), server.config(1s, 10s));
  Client observer(io.get_executor(), server.config());
  run(io, [&]() -> asio::awaitable<void> {
    std::optional<CommandResult> first;
    spawn(io, [&]() -> asio::awaitable<void> {
      first = co_await client->command("BLPOP", "never-filled", "0");
    });
    CO_ASSERT_TRUE(co_await wait_for_blocked_clients(observer, 1));
    client->disconnect();
    CO_ASSERT_TRUE(co_await wait_until([&] { return first.has_value(); }, 2s));
    CO_ASSERT_FALSE(*first);
    EXPECT_EQ(first->error().code, RedisErrc::disconnected);
    EXPECT_EQ(text_of(co_await client->command("PING")), "PONG");  // connects again

    std::optional<CommandResult> second;
    std::optional<CommandResult> scripted;
    const Script script("return 1");
    const std::vector<std::string> keys = {"k"};
    spawn(io, [&]() -> asio::awaitable<void> {
      second = co_await client->command("BLPOP", "never-filled", "0");
    });
    CO_ASSERT_TRUE(co_await wait_for_blocked_clients(observer, 1));
    spawn(io, [&]() -> asio::awaitable<void> {
      // Queued behind the BLPOP when the Client dies: completes without touching the Client.
      scripted = co_await client->eval_script(script, keys, keys);
    });
    CO_ASSERT_TRUE(co_await wait_until([&] { return client->pending_commands() == 2; }, 2s));
    client.reset();
    CO_ASSERT_TRUE(co_await wait_until([&] { return second && scripted; }, 2s));
    CO_ASSERT_FALSE(*second);
    EXPECT_EQ(second->error().code, RedisErrc::disconnected);
    CO_ASSERT_FALSE(*scripted);
    EXPECT_EQ(scripted->error().code, RedisErrc::disconnected);
  });
}

}  // namespace
}  // namespace hookstream::redis
