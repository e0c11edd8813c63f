#pragma once
// The one "try again until it answers" loop. Redis and Kafka failures are mostly transient (a
// restart, a leader moving): the work waits and tries again, 100 ms doubling to 2 s between tries.
// Whether trying again can help is asked of the failure's own is_retriable (redis, kafka, store):
// a permanent failure comes back at once, so a record that no broker will ever take does not stall
// its partition until shutdown.
#include <algorithm>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/asio.hpp"
#include "common/log.hpp"

namespace hookstream {

// The pause before try `round` + 1.
inline Millis retry_pause(int round) {
  return Millis{std::min(100 << std::min(round, 5), 2000)};
}

// Runs `call` (returning awaitable<Result<…>>) until it succeeds, fails with an error that
// `retriable` says is permanent, or `stopping()` is true after a failure. The answer is the last
// call's: an error only when it is permanent or when stopping. The first failure of a series is
// logged as a warning naming `what`.
template <typename Call, typename Retriable, typename Stopping>
std::invoke_result_t<Call> until_answered(std::string_view what, Call call, Retriable retriable,
                                          Stopping stopping) {
  for (int round = 0;; ++round) {
    auto answer = co_await call();
    if (answer || !retriable(answer.error()) || stopping()) co_return answer;
    if (round == 0)
      log::warn("failed; trying again", {{"what", what}, {"error", answer.error().message}});
    asio::steady_timer timer(co_await asio::this_coro::executor, retry_pause(round));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping()) co_return answer;
  }
}

}  // namespace hookstream
