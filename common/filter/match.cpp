// Matching a compiled filter (node.hpp) against a simdjson DOM. No allocation: the walk recurses
// over the filter (at most kMaxDepth levels of it), never over the body.
#include <simdjson.h>

#include <cmath>

#include "common/filter/filter.hpp"
#include "common/filter/node.hpp"

namespace hookstream::filter {
namespace detail {
namespace {

// An integer as sign and magnitude: every int64 and uint64 fits.
struct Integer {
  bool negative = false;
  std::uint64_t magnitude = 0;
};

std::optional<Integer> as_integer(const Number& n) {
  switch (n.kind) {
    case Number::Kind::int64:
      if (n.i < 0)
        return Integer{true, static_cast<std::uint64_t>(-(n.i + 1)) + 1};  // no overflow at min
      return Integer{false, static_cast<std::uint64_t>(n.i)};
    case Number::Kind::uint64:
      return Integer{false, n.u};
    case Number::Kind::float64:
      break;
  }
  return std::nullopt;
}

template <typename T>
int three_way(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int compare_integers(const Integer& a, const Integer& b) {
  if (a.negative != b.negative) return a.negative ? -1 : 1;
  const int c = three_way(a.magnitude, b.magnitude);
  return a.negative ? -c : c;
}

double to_double(const Integer& a) {
  const auto d = static_cast<double>(a.magnitude);
  return a.negative ? -d : d;
}

// An integer against a double, exactly: 2^53 + 1 is not 2^53.
int compare_mixed(const Integer& a, double d) {
  constexpr double kExact = 9007199254740992.0;       // 2^53: integers below convert exactly
  constexpr double kBeyond = 18446744073709551616.0;  // 2^64: no integer here reaches it
  // Below 2^53 on either side, comparing as doubles keeps the order (a large integer rounds to a
  // double that is still at least 2^53).
  if (a.magnitude < static_cast<std::uint64_t>(kExact) || std::fabs(d) < kExact)
    return three_way(to_double(a), d);
  if (std::fabs(d) >= kBeyond) return d < 0 ? 1 : -1;
  // |d| is in [2^53, 2^64): an integer, exactly representable as a magnitude.
  return compare_integers(a, Integer{d < 0, static_cast<std::uint64_t>(std::fabs(d))});
}

}  // namespace

int compare(const Number& a, const Number& b) {
  const auto ia = as_integer(a);
  const auto ib = as_integer(b);
  if (ia && ib) return compare_integers(*ia, *ib);
  if (ia) return compare_mixed(*ia, b.d);
  if (ib) return -compare_mixed(*ib, a.d);
  return three_way(a.d, b.d);
}

}  // namespace detail

namespace {

using detail::Literal;
using detail::Node;
using detail::Number;
using detail::Op;
using simdjson::dom::element;
using simdjson::dom::element_type;

std::optional<Number> number_of(const element& e) {
  Number n;
  switch (e.type()) {
    case element_type::INT64:
      n.kind = Number::Kind::int64;
      n.i = e.get_int64().value_unsafe();
      return n;
    case element_type::UINT64:
      n.kind = Number::Kind::uint64;
      n.u = e.get_uint64().value_unsafe();
      return n;
    case element_type::DOUBLE:
      n.kind = Number::Kind::float64;
      n.d = e.get_double().value_unsafe();
      return n;
    default:
      return std::nullopt;
  }
}

std::optional<Number> number_of(const nlohmann::json& j) {
  Number n;
  switch (j.type()) {
    case nlohmann::json::value_t::number_integer:
      n.kind = Number::Kind::int64;
      n.i = j.get<std::int64_t>();
      return n;
    case nlohmann::json::value_t::number_unsigned:
      n.kind = Number::Kind::uint64;
      n.u = j.get<std::uint64_t>();
      return n;
    case nlohmann::json::value_t::number_float:
      n.kind = Number::Kind::float64;
      n.d = j.get<double>();
      return n;
    default:
      return std::nullopt;
  }
}

// Deep equality of a filter's array or object (or anything inside one) with a body value.
bool equal_json(const nlohmann::json& j, const element& e) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return e.is_null();
    case nlohmann::json::value_t::boolean:
      return e.type() == element_type::BOOL && e.get_bool().value_unsafe() == j.get<bool>();
    case nlohmann::json::value_t::string:
      return e.type() == element_type::STRING &&
             e.get_string().value_unsafe() == j.get_ref<const std::string&>();
    case nlohmann::json::value_t::array: {
      if (e.type() != element_type::ARRAY) return false;
      const auto array = e.get_array().value_unsafe();
      if (array.size() != j.size()) return false;
      std::size_t i = 0;
      for (const auto item : array)
        if (!equal_json(j[i++], item)) return false;
      return true;
    }
    case nlohmann::json::value_t::object: {
      if (e.type() != element_type::OBJECT) return false;
      const auto object = e.get_object().value_unsafe();
      if (object.size() != j.size()) return false;
      for (const auto& [key, value] : j.items()) {
        element found;
        if (object.at_key(key).get(found) || !equal_json(value, found)) return false;
      }
      return true;
    }
    default: {
      const auto a = number_of(j);
      const auto b = number_of(e);
      return a && b && detail::compare(*a, *b) == 0;
    }
  }
}

bool equal(const Literal& l, const element& e) {
  switch (l.kind) {
    case Literal::Kind::null:
      return e.is_null();
    case Literal::Kind::boolean:
      return e.type() == element_type::BOOL && e.get_bool().value_unsafe() == l.boolean;
    case Literal::Kind::number: {
      const auto n = number_of(e);
      return n && detail::compare(*n, l.number) == 0;
    }
    case Literal::Kind::string:
      return e.type() == element_type::STRING && e.get_string().value_unsafe() == l.string;
    case Literal::Kind::composite:
      return equal_json(l.composite, e);
  }
  return false;
}

// The order of `e` against `l`, if both are numbers or both strings.
std::optional<int> order(const element& e, const Literal& l) {
  if (l.kind == Literal::Kind::number) {
    const auto n = number_of(e);
    if (!n) return std::nullopt;
    return detail::compare(*n, l.number);
  }
  if (l.kind == Literal::Kind::string && e.type() == element_type::STRING) {
    // char_traits<char> compares as unsigned char: UTF-8 byte order is code point order.
    const int c = e.get_string().value_unsafe().compare(l.string);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return std::nullopt;
}

bool in_set(const Node& n, const element& e) {
  for (const auto& l : n.operands)
    if (equal(l, e)) return true;
  return false;
}

// `value` is null when the field is missing.
bool eval(const Node& n, const element* value) {
  switch (n.op) {
    case Op::all:
      for (const auto& c : n.children)
        if (!eval(c, value)) return false;
      return true;
    case Op::any:
      for (const auto& c : n.children)
        if (eval(c, value)) return true;
      return false;
    case Op::negate:
      return !eval(n.children.front(), value);
    case Op::field: {
      element child;
      const bool present = value && value->type() == element_type::OBJECT &&
                           !value->get_object().value_unsafe().at_key(n.key).get(child);
      return eval(n.children.front(), present ? &child : nullptr);
    }
    case Op::eq:
      return value && equal(n.operands.front(), *value);
    case Op::ne:
      return !(value && equal(n.operands.front(), *value));
    case Op::gt:
    case Op::gte:
    case Op::lt:
    case Op::lte: {
      if (!value) return false;
      const auto c = order(*value, n.operands.front());
      if (!c) return false;
      return n.op == Op::gt    ? *c > 0
             : n.op == Op::gte ? *c >= 0
             : n.op == Op::lt  ? *c < 0
                               : *c <= 0;
    }
    case Op::in:
      return value && in_set(n, *value);
    case Op::nin:
      return !(value && in_set(n, *value));
    case Op::exists:
      return (value != nullptr) == n.exists;
  }
  return false;
}

}  // namespace

bool Filter::matches(const simdjson::dom::element& body) const {
  return eval(*root_, &body);
}

}  // namespace hookstream::filter
