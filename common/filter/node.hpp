#pragma once
// A compiled filter (filter.cpp builds it, match.cpp walks it). Private to common/filter.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace hookstream::filter::detail {

// A JSON number as it was written: integers stay exact (no rounding through double).
struct Number {
  enum class Kind : std::uint8_t { int64, uint64, float64 };
  Kind kind = Kind::int64;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
};

// -1, 0 or 1 as a is less than, equal to or greater than b, exactly (JSON has no NaN).
int compare(const Number& a, const Number& b);

// An operand of the filter. Scalars are unpacked for the common comparisons; arrays and objects
// are kept whole for deep equality.
struct Literal {
  enum class Kind : std::uint8_t { null, boolean, number, string, composite };
  Kind kind = Kind::null;
  bool boolean = false;
  Number number{};
  std::string string{};
  nlohmann::json composite{};
};

enum class Op : std::uint8_t {
  all,     // every child holds (a filter object, $and)
  any,     // some child holds ($or)
  negate,  // the one child does not hold ($not)
  field,   // the one child holds for the value's field `key` (missing when absent)
  eq,
  ne,
  gt,
  gte,
  lt,
  lte,
  in,
  nin,
  exists,
};

struct Node {
  Op op = Op::all;
  std::string key{};                // field
  std::vector<Node> children{};     // all, any, negate, field
  std::vector<Literal> operands{};  // eq … lte: one; in, nin: the set
  bool exists = true;               // exists
};

}  // namespace hookstream::filter::detail
