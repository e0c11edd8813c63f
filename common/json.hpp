#pragma once
// JSON from untrusted parties (API bodies, structured-mode CloudEvents). nlohmann's parser itself
// is iterative, but dump(), copies and comparisons recurse: a 200 KB body nested 100,000 deep
// parses fine and then overflows the stack. So nesting is limited while parsing, and so are the
// inputs whose meaning would be ambiguous: a key given twice (which one wins differs between
// parsers). nlohmann itself refuses invalid UTF-8, lone surrogates and numbers no double holds
// (1e400), as syntax errors.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace hookstream {

inline constexpr std::size_t kMaxJsonDepth = 128;

enum class JsonErrc { syntax, too_deep, duplicate_key };

struct JsonError {
  JsonErrc code;
  std::string message;  // for humans; names the key or the limit
};

// Parses `text` (any JSON value) or says why not.
Result<nlohmann::json, JsonError> parse_untrusted_json(std::string_view text,
                                                       std::size_t max_depth = kMaxJsonDepth);

}  // namespace hookstream
