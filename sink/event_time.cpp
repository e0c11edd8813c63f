#include "sink/event_time.hpp"

#include <cstddef>

namespace hookstream::sink {
namespace {

// Just enough JSON to walk an object's top-level members; malformed input ends the walk.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : s_(text) {}

  bool at(char c) {
    skip_space();
    return i_ < s_.size() && s_[i_] == c;
  }
  bool eat(char c) {
    if (!at(c)) return false;
    ++i_;
    return true;
  }
  // A string's raw contents (escapes left as they are); the cursor must be on its opening quote.
  std::optional<std::string_view> string() {
    if (!eat('"')) return std::nullopt;
    const std::size_t start = i_;
    for (; i_ < s_.size(); ++i_) {
      if (s_[i_] == '\\') {
        ++i_;
      } else if (s_[i_] == '"') {
        return s_.substr(start, i_++ - start);
      }
    }
    return std::nullopt;
  }
  // Skips one value of any kind, nested objects and arrays included.
  bool skip_value() {
    if (at('"')) return string().has_value();
    int depth = 0;
    for (; i_ < s_.size(); ++i_) {
      const char c = s_[i_];
      if (c == '"') {
        if (!string()) return false;
        --i_;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) return true;
        if (--depth == 0) {
          ++i_;
          return true;
        }
      } else if (c == ',' && depth == 0) {
        return true;
      }
    }
    return depth == 0;
  }

 private:
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }
  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

std::optional<TimePoint> event_time(std::string_view body) {
  Scanner scan(body);
  if (!scan.eat('{')) return std::nullopt;
  while (!scan.at('}')) {
    const auto key = scan.string();
    if (!key || !scan.eat(':')) return std::nullopt;
    if ((*key == "timestamp" || *key == "time") && scan.at('"')) {
      const auto value = scan.string();
      if (!value) return std::nullopt;
      if (auto t = parse_rfc3339(*value)) return *t;
    } else if (!scan.skip_value()) {
      return std::nullopt;
    }
    if (!scan.eat(',')) return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace hookstream::sink
