#include "common/json.hpp"

#include <optional>
#include <set>
#include <vector>

namespace hookstream {

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
          error = JsonError{JsonErrc::too_deep,
                            "nested deeper than " + std::to_string(max_depth) + " levels"};
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
          error = JsonError{JsonErrc::duplicate_key,
                            "the key \"" + name.substr(0, 64) + "\" appears twice in one object"};
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
  if (doc.is_discarded())
    return fail(JsonError{JsonErrc::syntax,
                          "not valid JSON (a syntax error, invalid UTF-8 or a number beyond what a "
                          "double holds)"});
  return doc;
}

}  // namespace hookstream
