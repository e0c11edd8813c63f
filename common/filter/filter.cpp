#include "common/filter/filter.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "common/filter/node.hpp"
#include "common/json.hpp"

namespace hookstream::filter {
namespace {

using detail::Literal;
using detail::Node;
using detail::Op;
using nlohmann::json;

// A key as it appears in a path: long keys are cut, so an error stays readable.
std::string path_key(const std::string& path, const std::string& key) {
  constexpr std::size_t kShown = 64;
  return path + "." + (key.size() > kShown ? key.substr(0, kShown) + "…" : key);
}

std::string path_index(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

Unexpected<FilterError> refuse(std::string path, std::string message) {
  return fail(FilterError{std::move(path), std::move(message)});
}

// The first value nested deeper than kMaxDepth (`level` is the level of `v`).
std::optional<FilterError> too_deep(const json& v, const std::string& path, std::size_t level) {
  if (!v.is_object() && !v.is_array()) return std::nullopt;
  if (level > kMaxDepth)
    return FilterError{path, "nested deeper than " + std::to_string(kMaxDepth) + " levels"};
  if (v.is_object()) {
    for (const auto& [key, child] : v.items())
      if (auto e = too_deep(child, path_key(path, key), level + 1)) return e;
  } else {
    for (std::size_t i = 0; i < v.size(); ++i)
      if (auto e = too_deep(v[i], path_index(path, i), level + 1)) return e;
  }
  return std::nullopt;
}

Literal literal(const json& v) {
  Literal l;
  switch (v.type()) {
    case json::value_t::boolean:
      l.kind = Literal::Kind::boolean;
      l.boolean = v.get<bool>();
      break;
    case json::value_t::number_integer:
      l.kind = Literal::Kind::number;
      l.number.kind = detail::Number::Kind::int64;
      l.number.i = v.get<std::int64_t>();
      break;
    case json::value_t::number_unsigned:
      l.kind = Literal::Kind::number;
      l.number.kind = detail::Number::Kind::uint64;
      l.number.u = v.get<std::uint64_t>();
      break;
    case json::value_t::number_float:
      l.kind = Literal::Kind::number;
      l.number.kind = detail::Number::Kind::float64;
      l.number.d = v.get<double>();
      break;
    case json::value_t::string:
      l.kind = Literal::Kind::string;
      l.string = v.get<std::string>();
      break;
    case json::value_t::array:
    case json::value_t::object:
      l.kind = Literal::Kind::composite;
      l.composite = v;
      break;
    default:  // null (discarded and binary values never come out of a parse)
      l.kind = Literal::Kind::null;
  }
  return l;
}

struct OperatorName {
  std::string_view name;
  Op op;
};
constexpr std::array kOperators{
    OperatorName{"$eq", Op::eq},         OperatorName{"$ne", Op::ne},
    OperatorName{"$gt", Op::gt},         OperatorName{"$gte", Op::gte},
    OperatorName{"$lt", Op::lt},         OperatorName{"$lte", Op::lte},
    OperatorName{"$in", Op::in},         OperatorName{"$nin", Op::nin},
    OperatorName{"$exists", Op::exists}, OperatorName{"$and", Op::all},
    OperatorName{"$or", Op::any},        OperatorName{"$not", Op::negate},
};

Result<Node, FilterError> compile_object(const json& object, const std::string& path);

// An operator and its operand, which `path` names.
Result<Node, FilterError> compile_operator(Op op, const json& operand, const std::string& path) {
  Node n;
  n.op = op;
  switch (op) {
    case Op::eq:
    case Op::ne:
      n.operands.push_back(literal(operand));
      return n;
    case Op::gt:
    case Op::gte:
    case Op::lt:
    case Op::lte:
      if (!operand.is_number() && !operand.is_string())
        return refuse(path, "expected a number or a string");
      n.operands.push_back(literal(operand));
      return n;
    case Op::in:
    case Op::nin:
      if (!operand.is_array()) return refuse(path, "expected an array of values");
      for (const auto& v : operand) n.operands.push_back(literal(v));
      return n;
    case Op::exists:
      if (!operand.is_boolean()) return refuse(path, "expected true or false");
      n.exists = operand.get<bool>();
      return n;
    case Op::all:
    case Op::any:
      if (!operand.is_array() || operand.empty())
        return refuse(path, "expected a non-empty array of filters (objects)");
      for (std::size_t i = 0; i < operand.size(); ++i) {
        const auto at = path_index(path, i);
        if (!operand[i].is_object()) return refuse(at, "expected a filter (an object)");
        auto child = compile_object(operand[i], at);
        if (!child) return fail(std::move(child).error());
        n.children.push_back(std::move(*child));
      }
      return n;
    case Op::negate: {
      if (!operand.is_object()) return refuse(path, "expected a filter or operator object");
      auto child = compile_object(operand, path);
      if (!child) return fail(std::move(child).error());
      n.children.push_back(std::move(*child));
      return n;
    }
    case Op::field:
      break;
  }
  return refuse(path, "not an operator");  // unreachable: fields are compiled by compile_object
}

// A filter object: each key a condition on the same value.
Result<Node, FilterError> compile_object(const json& object, const std::string& path) {
  Node all;
  all.op = Op::all;
  for (const auto& item : object.items()) {
    const std::string& key = item.key();
    const json& value = item.value();
    const auto at = path_key(path, key);
    if (key.starts_with('$')) {
      const auto found = std::find_if(kOperators.begin(), kOperators.end(),
                                      [&](const OperatorName& o) { return o.name == key; });
      if (found == kOperators.end())
        return refuse(at,
                      "unknown operator (one of $eq $ne $gt $gte $lt $lte $in $nin $exists $and "
                      "$or $not)");
      auto node = compile_operator(found->op, value, at);
      if (!node) return fail(std::move(node).error());
      all.children.push_back(std::move(*node));
      continue;
    }
    Node field;
    field.op = Op::field;
    field.key = key;
    if (value.is_object()) {
      auto nested = compile_object(value, at);
      if (!nested) return fail(std::move(nested).error());
      field.children.push_back(std::move(*nested));
    } else {
      Node eq;
      eq.op = Op::eq;
      eq.operands.push_back(literal(value));
      field.children.push_back(std::move(eq));
    }
    all.children.push_back(std::move(field));
  }
  return all;
}

}  // namespace

Result<Filter, FilterError> Filter::compile(const json& filter) {
  const std::string root = "filter";
  if (!filter.is_object()) return refuse(root, "expected a filter (an object)");
  if (auto e = too_deep(filter, root, 1)) return fail(std::move(*e));
  auto text = filter.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxBytes)
    return refuse(root, "is " + std::to_string(text.size()) +
                            " bytes as compact JSON; the limit is " + std::to_string(kMaxBytes));
  auto node = compile_object(filter, root);
  if (!node) return fail(std::move(node).error());
  return Filter(std::make_shared<const Node>(std::move(*node)), std::move(text));
}

Result<Filter, FilterError> Filter::parse(std::string_view text) {
  // The size bounds the work before the compact size is known; whitespace may make up the rest.
  if (text.size() > 4 * kMaxBytes)
    return refuse("filter", "is " + std::to_string(text.size()) + " bytes; the limit is " +
                                std::to_string(kMaxBytes));
  // One level more than allowed, so that compile's depth check names the path.
  auto parsed = parse_untrusted_json(text, kMaxDepth + 1);
  if (!parsed)
    return refuse("filter", parsed.error().code == JsonErrc::too_deep
                                ? "nested deeper than " + std::to_string(kMaxDepth) + " levels"
                                : parsed.error().message);
  return compile(*parsed);
}

}  // namespace hookstream::filter
