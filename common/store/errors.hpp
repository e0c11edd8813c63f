#pragma once
#include <string>
#include <string_view>

#include "common/redis/errors.hpp"

namespace hookstream::store {

enum class StoreErrc {
  unavailable,  // Redis did not answer (down, timeout): retry later, HTTP 503
  refused,      // Redis answered a write with an error (out of memory under maxmemory, a
                // read-only replica after a failover, a script error): nothing of it was kept
  not_found,    // no such record for this tenant
  corrupt,      // a record that cannot be read back (a bug or a hand edit)
};

struct StoreError {
  StoreErrc code;
  std::string message;
};

// Whether the same call may succeed later: when Redis did not answer, and when it refused a write
// (memory is freed as entries expire, a replica is promoted; what is refused is held, not lost,
// and the refusal is logged as an error for an operator).
inline bool is_retriable(const StoreError& e) {
  return e.code == StoreErrc::unavailable || e.code == StoreErrc::refused;
}

inline StoreError unavailable(const redis::RedisError& e) {
  return {StoreErrc::unavailable, "redis: " + e.message};
}

// Redis answered, with an error or with a reply the call cannot use (our scripts return no error
// replies of their own, so it is Redis saying no: OOM, READONLY, an aborted transaction, a script
// error). `what` names the call.
inline StoreError refused(std::string_view what, std::string_view reply) {
  return {StoreErrc::refused, std::string(what) + ": " + std::string(reply)};
}

}  // namespace hookstream::store
