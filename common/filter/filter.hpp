#pragma once
// Content filters (SPEC §4): which events a webhook gets, by what the delivered body
// ({"id":…,"type":…,"timestamp":…,"data":{…}}) says. A filter is a JSON object; every one of its
// keys is a condition on the same value (the body, at the top), and all must hold:
//   - a field name descends into that field of the value: an object there is a filter on the
//     field, anything else must equal it ({"type":"contact.created"});
//   - an operator compares the value itself: $eq $ne $gt $gte $lt $lte $in $nin $exists, or
//     combines filters on it: $and and $or (non-empty arrays of filters), $not (one filter).
// Equality is JSON's: types must agree ("5" is not 5, 5 equals 5.0, null only null); arrays are
// equal element by element in order, objects when they have the same keys with equal values. A
// missing field fails $eq, $in and every ordering, and passes $ne and $nin. $gt $gte $lt $lte
// compare numbers with numbers and strings with strings (by code point); anything else does not
// match. docs/delivery-semantics.md ("Filters") is the user's version of this.
//
// Compiled once per webhook version; matching walks the compiled tree over a simdjson DOM of the
// body (parsed once per event, for every webhook) and allocates nothing.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace simdjson::dom {
class element;
}  // namespace simdjson::dom

namespace hookstream::filter {

// SPEC §4: deeper or longer filters are refused. Depth counts every object and array, the filter
// itself being level 1; length is that of the filter as compact JSON.
inline constexpr std::size_t kMaxDepth = 8;
inline constexpr std::size_t kMaxBytes = 4096;

struct FilterError {
  std::string path;  // where in the request: "filter", "filter.data.amount.$gte", "filter.$or[1]"
  std::string message;
};

namespace detail {
struct Node;
}  // namespace detail

class Filter {
 public:
  // Compiles `filter`, or names the first problem (in the order nlohmann iterates: keys sorted).
  static Result<Filter, FilterError> compile(const nlohmann::json& filter);
  // The same from JSON text (a stored filter); text that is not JSON is refused too.
  static Result<Filter, FilterError> parse(std::string_view text);

  // Whether the delivered body `body` passes.
  bool matches(const simdjson::dom::element& body) const;
  // The filter as compact JSON: what is stored, and returned by the API.
  const std::string& text() const { return text_; }

 private:
  Filter(std::shared_ptr<const detail::Node> root, std::string text)
      : root_(std::move(root)), text_(std::move(text)) {}
  std::shared_ptr<const detail::Node> root_;
  std::string text_;
};

}  // namespace hookstream::filter
