#pragma once
#include <string>

#include "common/redis/errors.hpp"

namespace hookstream::store {

enum class StoreErrc {
  unavailable,  // Redis did not answer (down, timeout): retry later, HTTP 503
  not_found,    // no such record for this tenant
  corrupt,      // a record that cannot be read back (a bug or a hand edit)
};

struct StoreError {
  StoreErrc code;
  std::string message;
};

// Whether the same call may succeed later: only when Redis did not answer.
inline bool is_retriable(const StoreError& e) {
  return e.code == StoreErrc::unavailable;
}

inline StoreError unavailable(const redis::RedisError& e) {
  return {StoreErrc::unavailable, "redis: " + e.message};
}

}  // namespace hookstream::store
