#include "common/json.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <set>
#include <unordered_set>
#include <vector>

namespace hookstream {
namespace {

// simdjson's DOM parser, not its On-Demand front end: DOM checks the whole document (UTF-8, every
// string and its escapes, every number and literal, the structure) before it returns, and that
// check is the whole point here. On-Demand checks UTF-8 and the structure up front but a string,
// number or literal only when it is read, so the data of a binary-mode record, which is never
// read, would go unchecked. (Not Boost.JSON either: it needs Boost 1.75; Debian 12 has 1.74.)
//
// One parser per thread, kept: it reuses its buffers (about 15 bytes per input byte, including a
// padded copy of the input, since simdjson reads up to 64 bytes past the end) from one record to
// the next, so a warm parse allocates nothing. A parser grown by a record larger than this is
// dropped before the next smaller one, so one huge record does not pin its memory to a thread.
constexpr std::size_t kKeptParserBytes = 64 * 1024;

simdjson::error_code simdjson_parse(std::string_view text, simdjson::dom::element& root) {
  thread_local simdjson::dom::parser parser;
  if (parser.capacity() > kKeptParserBytes && text.size() <= kKeptParserBytes)
    parser = simdjson::dom::parser{};
  const auto error = parser.parse(text.data(), text.size(), true).get(root);
  // Out of memory is not a verdict on the input.
  if (error == simdjson::MEMALLOC) throw std::bad_alloc();
  return error;
}

JsonError syntax_error() {
  return {JsonErrc::syntax,
          "not valid JSON (a syntax error, invalid UTF-8 or a number beyond what a double holds)"};
}

JsonError too_deep(std::size_t max_depth) {
  return {JsonErrc::too_deep, "nested deeper than " + std::to_string(max_depth) + " levels"};
}

JsonError duplicate_key(std::string_view name) {
  return {JsonErrc::duplicate_key,
          "the key \"" + std::string(name.substr(0, 64)) + "\" appears twice in one object"};
}

// The keys met so far in one object. Most objects are small: a scan beats hashing there, and a
// set takes over before an object of many keys makes the scans quadratic.
class KeySet {
 public:
  bool insert(std::string_view key) {
    if (!large_.empty()) return large_.insert(key).second;
    if (std::find(small_.begin(), small_.end(), key) != small_.end()) return false;
    small_.push_back(key);
    if (small_.size() > 16) large_.insert(small_.begin(), small_.end());
    return true;
  }

 private:
  std::vector<std::string_view> small_;
  std::unordered_set<std::string_view> large_;
};

// parse_untrusted_json's limits on a parsed document. The first problem in document order is
// reported, as parse_untrusted_json's callback does. The recursion is bounded: the walk stops at
// max_depth, and the parser refuses anything deeper than 1024 levels.
std::optional<JsonError> check_limits(simdjson::dom::element e, std::size_t depth,
                                      std::size_t max_depth) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      if (depth >= max_depth) return too_deep(max_depth);
      const auto array = e.get_array().value_unsafe();  // the type is known
      for (const auto item : array)
        if (auto problem = check_limits(item, depth + 1, max_depth)) return problem;
      return std::nullopt;
    }
    case simdjson::dom::element_type::OBJECT: {
      if (depth >= max_depth) return too_deep(max_depth);
      const auto object = e.get_object().value_unsafe();
      KeySet keys;
      for (const auto field : object) {
        if (!keys.insert(field.key)) return duplicate_key(field.key);
        if (auto problem = check_limits(field.value, depth + 1, max_depth)) return problem;
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

Result<nlohmann::json, JsonError> parse_untrusted_json(std::string_view text,
                                                       std::size_t max_depth) {
  using nlohmann::json;
  std::size_t depth = 0;
  std::vector<std::set<std::string, std::less<>>> keys;  // one set per open object
  std::optional<JsonError> error;
  // Returning false discards what the parser built; once the input is refused nothing is kept.
  // The parser still reads to the end (the input is already bounded by the caller's size limit).
  auto check = [&](int, json::parse_event_t event, json& parsed) -> bool {
    if (error) return false;
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (++depth > max_depth) {
          error = too_deep(max_depth);
          return false;
        }
        if (event == json::parse_event_t::object_start) keys.emplace_back();
        return true;
      case json::parse_event_t::object_end:
        keys.pop_back();
        --depth;
        return true;
      case json::parse_event_t::array_end:
        --depth;
        return true;
      case json::parse_event_t::key: {
        const auto& name = parsed.get_ref<const std::string&>();
        if (!keys.back().insert(name).second) {
          error = duplicate_key(name);
          return false;
        }
        return true;
      }
      case json::parse_event_t::value:
        return true;
    }
    return true;
  };
  auto doc = json::parse(text.begin(), text.end(), check, false);
  if (error) return fail(std::move(*error));
  if (doc.is_discarded()) return fail(syntax_error());
  return doc;
}

// simdjson accepts a subset of what nlohmann accepts (tests/unit/cloudevents_test.cpp and the
// cloudevents fuzz target hold it to that). Where simdjson refuses, nlohmann has the last word, so
// the verdict and the reason are parse_untrusted_json's by construction. That matters for what
// simdjson alone would refuse and nlohmann accepts: integers beyond 64 bits (nlohmann reads them
// as doubles), nesting deeper than 1024 levels (above max_depth anyway), a leading BOM, and
// anything after a NUL byte (where nlohmann stops reading). Refused records are rare (they are
// dead-lettered), so parsing them twice costs nothing that matters.
Result<simdjson::dom::element, JsonError> parse_untrusted_json_view(std::string_view text,
                                                                    std::size_t max_depth) {
  simdjson::dom::element root;
  if (simdjson_parse(text, root)) {
    const auto doc = parse_untrusted_json(text, max_depth);
    if (!doc) return fail(doc.error());
    // Accepted by nlohmann only: its own serialisation (big integers as doubles) reads as JSON.
    if (simdjson_parse(doc->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), root))
      return fail(syntax_error());
  }
  if (auto problem = check_limits(root, 0, max_depth)) return fail(std::move(*problem));
  return root;
}

Result<simdjson::dom::element, JsonError> read_json_view(std::string_view text) {
  simdjson::dom::element root;
  if (!simdjson_parse(text, root)) return root;
  return parse_untrusted_json_view(text, 1024);
}

bool is_valid_json(std::string_view text) {
  simdjson::dom::element root;
  if (!simdjson_parse(text, root)) return true;
  // The text is kept and sent as it is, so what nlohmann skips (a BOM) or never reads (anything
  // after a NUL) must not be in it; otherwise nlohmann decides, as above.
  return text.find('\0') == std::string_view::npos && !text.starts_with("\xEF\xBB\xBF") &&
         nlohmann::json::accept(text);
}

namespace {

// Whether none of the 8 bytes at `p` needs escaping or a look at UTF-8 (a control character,
// '"', '\\' or a byte >= 0x80), tested a word at a time: the delivery log's fields are mostly
// plain ASCII, and a byte at a time cost ~8 instructions each.
bool plain_word(const char* p) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  std::uint64_t w = 0;
  std::memcpy(&w, p, sizeof w);
  const auto has_zero = [&](std::uint64_t v) { return ((v - kOnes) & ~v & kHigh) != 0; };
  const bool below_space = ((w - kOnes * 0x20) & ~w & kHigh) != 0;
  return (w & kHigh) == 0 && !below_space && !has_zero(w ^ (kOnes * '"')) &&
         !has_zero(w ^ (kOnes * '\\'));
}

}  // namespace

char* write_json_string(char* out, std::string_view text) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  char* const start = out;
  *out++ = '"';
  std::size_t run = 0;  // where the characters copied as they are begin
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n; ++i) {
    while (i + 8 <= n && plain_word(text.data() + i)) i += 8;
    // A tail shorter than a word, tested as the text's last word (overlapping what was tested).
    if (i < n && i + 8 > n && n >= 8 && plain_word(text.data() + n - 8)) i = n;
    if (i == n) break;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') continue;
    if (c >= 0x80) {
      // At most 3 bytes (U+FFFD) for an invalid byte, 6 for a control character.
      const auto dumped =
          nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return std::copy(dumped.begin(), dumped.end(), start);
    }
    out = std::copy_n(text.data() + run, i - run, out);
    run = i + 1;
    *out++ = '\\';
    switch (c) {
      case '"':
        *out++ = '"';
        break;
      case '\\':
        *out++ = '\\';
        break;
      case '\b':
        *out++ = 'b';
        break;
      case '\f':
        *out++ = 'f';
        break;
      case '\n':
        *out++ = 'n';
        break;
      case '\r':
        *out++ = 'r';
        break;
      case '\t':
        *out++ = 't';
        break;
      default:
        out = std::copy_n("u00", 3, out);
        *out++ = kHex[c >> 4];
        *out++ = kHex[c & 15];
    }
  }
  out = std::copy_n(text.data() + run, text.size() - run, out);
  *out++ = '"';
  return out;
}

void append_json_string(std::string& out, std::string_view text) {
  const auto at = out.size();
  out.resize(at + json_string_bound(text.size()));
  char* const end = write_json_string(out.data() + at, text);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

}  // namespace hookstream
