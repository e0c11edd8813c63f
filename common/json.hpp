#pragma once
// JSON from untrusted parties (API bodies, CloudEvents records). nlohmann's parser itself is
// iterative, but dump(), copies and comparisons recurse: a 200 KB body nested 100,000 deep parses
// fine and then overflows the stack. So nesting is limited while parsing, and so are the inputs
// whose meaning would be ambiguous: a key given twice (which one wins differs between parsers).
// nlohmann itself refuses invalid UTF-8, lone surrogates and numbers no double holds (1e400), as
// syntax errors.
//
// The dispatcher reads every Kafka record with simdjson instead (is_valid_json,
// parse_untrusted_json_view): validating 1 KiB of event data with nlohmann took ~10% of its CPU.
// Both give the verdicts of their nlohmann counterparts (json.cpp says where and why not).
#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.hpp"

// <simdjson.h> is 30,000 lines; only the files that read a parsed document include it.
namespace simdjson::dom {
class element;
}  // namespace simdjson::dom

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

// The same checks and the same errors as parse_untrusted_json (for a max_depth up to 1024,
// simdjson's own limit), read with simdjson. The element points into this thread's parser: it is
// valid until this thread's next call of this function or of is_valid_json, so use it before any
// co_await.
Result<simdjson::dom::element, JsonError> parse_untrusted_json_view(
    std::string_view text, std::size_t max_depth = kMaxJsonDepth);

// simdjson's view of JSON this process built or already checked (a webhook body built from event
// data that is_valid_json accepted): no limits checked, a key given twice stays twice (at_key
// finds the first). What simdjson alone refuses and is_valid_json accepts is read as nlohmann reads
// it (an integer beyond 64 bits as a double) when parse_untrusted_json(text, 1024) accepts it;
// otherwise (nesting deeper than 1024 levels, or such a number and a key given twice) it fails.
// The same lifetime as parse_untrusted_json_view's element.
Result<simdjson::dom::element, JsonError> read_json_view(std::string_view text);

// Whether `text` is one JSON value, with only whitespace around it: nlohmann::json::accept's
// verdict (no depth limit, duplicate keys allowed), except that a NUL byte or a leading UTF-8 BOM,
// which nlohmann lets through, is refused: neither can be part of a JSON text (RFC 8259).
bool is_valid_json(std::string_view text);

// Appends `text` as a JSON string: exactly what nlohmann's dump() writes (invalid UTF-8 replaced
// by U+FFFD), without building a json value. ASCII, the common case (ids, types, URLs, errors),
// is copied in runs between the characters that need escaping; other text goes through nlohmann.
void append_json_string(std::string& out, std::string_view text);
// The same, written at `out`, which has json_string_bound(text.size()) bytes of room; returns the
// end. For writers that size a buffer once for many values.
char* write_json_string(char* out, std::string_view text);
// Room for a string of `size` bytes: every byte escaped as \u00XX, and the quotes.
constexpr std::size_t json_string_bound(std::size_t size) {
  return 6 * size + 2;
}

}  // namespace hookstream
