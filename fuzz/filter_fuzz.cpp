// Webhook filters (common/filter): what a tenant sends as `filter` is compiled, and what any
// producer publishes is matched against it. Input: the filter's JSON text, a newline, then a
// delivered body. Compiling must refuse bad filters with a path and never crash; matching must
// never crash, and must agree with the rules it is built from: $not negates, a one-filter $and is
// the filter itself, and a body always equals itself.
#include <simdjson.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/filter/filter.hpp"
#include "common/json.hpp"

using namespace hookstream;

namespace {

// `inner` wrapped as {"<op>": inner} (or, for $and, {"$and": [inner]}), if that still compiles.
std::optional<filter::Filter> wrapped(const std::string& op, const std::string& inner) {
  const auto text =
      op == "$and" ? R"({"$and":[)" + inner + "]}" : R"({")" + op + R"(":)" + inner + "}";
  auto f = filter::Filter::parse(text);
  if (!f) return std::nullopt;
  return std::move(*f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const auto filter_text = input.substr(0, newline);
  const auto body_text =
      newline == std::string_view::npos ? std::string_view("{}") : input.substr(newline + 1);

  auto f = filter::Filter::parse(filter_text);
  if (!f) {
    if (!f.error().path.starts_with("filter") || f.error().message.empty()) std::abort();
    // A body that is itself a filter-sized object equals itself ({"$eq": body}).
    auto doc = read_json_view(body_text);
    if (!doc) return 0;
    const std::string body_copy = simdjson::minify(*doc);
    auto self = wrapped("$eq", body_copy);
    if (self) {
      auto again = read_json_view(body_copy);
      if (again && !self->matches(*again)) std::abort();
    }
    return 0;
  }
  // What is stored compiles again to the same thing.
  if (f->text().size() > filter::kMaxBytes) std::abort();
  auto round_trip = filter::Filter::parse(f->text());
  if (!round_trip || round_trip->text() != f->text()) std::abort();

  const auto negated = wrapped("$not", f->text());
  const auto conjunction = wrapped("$and", f->text());
  auto body = read_json_view(body_text);
  if (!body) return 0;
  const bool matched = f->matches(*body);
  if (round_trip->matches(*body) != matched) std::abort();
  if (negated && negated->matches(*body) == matched) std::abort();
  if (conjunction && conjunction->matches(*body) != matched) std::abort();
  return 0;
}
