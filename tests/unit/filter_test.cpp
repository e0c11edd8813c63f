// Content filters (common/filter, SPEC §4): every operator, JSON type rules, missing fields,
// nesting, the depth and size limits, and errors that name their path.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <limits>
#include <string>

#include "common/filter/filter.hpp"
#include "common/filter/node.hpp"
#include "common/json.hpp"

namespace hookstream::filter {
namespace {

constexpr std::string_view kBody =
    R"({"id":"evt_1","type":"submission.completed","timestamp":"2026-03-05T12:00:00.000Z",)"
    R"("data":{"amount":150,"price":9.5,"code":"5","region":"eu","vip":true,"note":null,)"
    R"("tags":["a","b"],"customer":{"name":"Ada","tier":2},"big":18446744073709551615,)"
    R"("neg":-9223372036854775808}})";

// Whether `filter` (JSON text) matches `body`; the filter must compile.
bool matches(std::string_view filter, std::string_view body = kBody) {
  auto f = Filter::parse(filter);
  EXPECT_TRUE(f.ok()) << filter << ": " << (f ? "" : f.error().path + ": " + f.error().message);
  if (!f) return false;
  auto doc = read_json_view(body);
  EXPECT_TRUE(doc.ok()) << body;
  return doc && f->matches(*doc);
}

// The path and message of the error compiling `filter` gives.
std::string error_of(std::string_view filter) {
  auto f = Filter::parse(filter);
  if (f) return "(compiled)";
  return f.error().path + ": " + f.error().message;
}

TEST(Filter, PlainValuesMustBeEqualAtTheirPath) {
  EXPECT_TRUE(matches(R"({"type":"submission.completed"})"));
  EXPECT_FALSE(matches(R"({"type":"contact.created"})"));
  EXPECT_TRUE(matches(R"({"data":{"region":"eu","amount":150}})"));
  EXPECT_FALSE(matches(R"({"data":{"region":"eu","amount":151}})"));
  EXPECT_TRUE(matches(R"({"data":{"customer":{"tier":2}}})"));
  EXPECT_FALSE(matches(R"({"data":{"customer":{"tier":3}}})"));
  EXPECT_TRUE(matches(R"({"id":"evt_1","timestamp":"2026-03-05T12:00:00.000Z"})"));
  EXPECT_TRUE(matches(R"({"data":{"vip":true,"note":null}})"));
  EXPECT_FALSE(matches(R"({"data":{"vip":false}})"));
  // The empty filter asks nothing.
  EXPECT_TRUE(matches("{}"));
  EXPECT_TRUE(matches(R"({"data":{}})"));
}

TEST(Filter, TypesAreComparedAsJsonTypes) {
  EXPECT_FALSE(matches(R"({"data":{"code":5}})"));  // "5" is not 5
  EXPECT_TRUE(matches(R"({"data":{"code":"5"}})"));
  EXPECT_FALSE(matches(R"({"data":{"amount":"150"}})"));
  EXPECT_TRUE(matches(R"({"data":{"amount":150.0}})"));  // 150 and 150.0 are one number
  EXPECT_TRUE(matches(R"({"data":{"amount":1.5e2}})"));
  EXPECT_TRUE(matches(R"({"data":{"price":{"$eq":9.5}}})"));
  EXPECT_FALSE(matches(R"({"data":{"vip":1}})"));
  EXPECT_FALSE(matches(R"({"data":{"note":false}})"));  // null is only null
  EXPECT_FALSE(matches(R"({"data":{"note":0}})"));
  EXPECT_FALSE(matches(R"({"data":{"amount":{"$gt":"100"}}})"));  // a string never orders a number
  EXPECT_FALSE(matches(R"({"data":{"code":{"$lt":9}}})"));
}

TEST(Filter, IntegersBeyondDoublePrecisionCompareExactly) {
  const std::string body = R"({"data":{"n":9007199254740993,"u":18446744073709551615}})";
  EXPECT_TRUE(matches(R"({"data":{"n":9007199254740993}})", body));
  EXPECT_FALSE(matches(R"({"data":{"n":9007199254740992}})", body));
  EXPECT_FALSE(matches(R"({"data":{"n":9007199254740992.0}})", body));
  EXPECT_TRUE(matches(R"({"data":{"n":{"$gt":9007199254740992.0}}})", body));
  EXPECT_TRUE(matches(R"({"data":{"u":18446744073709551615}})", body));
  EXPECT_TRUE(matches(R"({"data":{"u":{"$lt":1.8446744073709552e19}}})", body));  // 2^64
  EXPECT_TRUE(matches(R"({"data":{"u":{"$gt":-1}}})", body));
  EXPECT_TRUE(matches(R"({"data":{"neg":{"$lt":-9223372036854775807}}})"));
  EXPECT_TRUE(matches(R"({"data":{"neg":{"$gte":-9.223372036854775808e18}}})"));
  EXPECT_TRUE(matches(R"({"data":{"big":{"$gt":9223372036854775807}}})"));
}

TEST(Filter, NumberComparisonIsExactAcrossRepresentations) {
  using detail::Number;
  const auto i = [](std::int64_t v) { return Number{Number::Kind::int64, v, 0, 0}; };
  const auto u = [](std::uint64_t v) { return Number{Number::Kind::uint64, 0, v, 0}; };
  const auto d = [](double v) { return Number{Number::Kind::float64, 0, 0, v}; };
  EXPECT_EQ(detail::compare(i(5), d(5.0)), 0);
  EXPECT_EQ(detail::compare(i(-1), u(0)), -1);
  EXPECT_EQ(detail::compare(u(std::numeric_limits<std::uint64_t>::max()),
                            i(std::numeric_limits<std::int64_t>::max())),
            1);
  EXPECT_EQ(detail::compare(i(std::numeric_limits<std::int64_t>::min()), d(-9.3e18)), 1);
  EXPECT_EQ(detail::compare(d(1e300), u(std::numeric_limits<std::uint64_t>::max())), 1);
  EXPECT_EQ(detail::compare(d(-1e300), i(std::numeric_limits<std::int64_t>::min())), -1);
  EXPECT_EQ(detail::compare(d(0.5), i(0)), 1);
  EXPECT_EQ(detail::compare(d(-0.0), i(0)), 0);
  EXPECT_EQ(detail::compare(i(9007199254740993), d(9007199254740992.0)), 1);
}

TEST(Filter, EqAndNe) {
  EXPECT_TRUE(matches(R"({"data":{"region":{"$eq":"eu"}}})"));
  EXPECT_FALSE(matches(R"({"data":{"region":{"$eq":"us"}}})"));
  EXPECT_FALSE(matches(R"({"data":{"region":{"$ne":"eu"}}})"));
  EXPECT_TRUE(matches(R"({"data":{"region":{"$ne":"us"}}})"));
  // $eq takes any JSON, an object included: then the field must equal it exactly.
  EXPECT_TRUE(matches(R"({"data":{"customer":{"$eq":{"tier":2,"name":"Ada"}}}})"));
  EXPECT_FALSE(matches(R"({"data":{"customer":{"$eq":{"tier":2}}}})"));
  EXPECT_TRUE(matches(R"({"data":{"customer":{"$ne":{"tier":2}}}})"));
  EXPECT_TRUE(matches(R"({"data":{"note":{"$eq":null}}})"));
}

TEST(Filter, MissingFieldsFailEqualityAndPassNegations) {
  EXPECT_FALSE(matches(R"({"data":{"missing":1}})"));
  EXPECT_FALSE(matches(R"({"data":{"missing":{"$eq":1}}})"));
  EXPECT_FALSE(matches(R"({"data":{"missing":{"$eq":null}}})"));  // absent is not null
  EXPECT_TRUE(matches(R"({"data":{"missing":{"$ne":1}}})"));
  EXPECT_TRUE(matches(R"({"data":{"missing":{"$nin":[1,2]}}})"));
  EXPECT_FALSE(matches(R"({"data":{"missing":{"$in":[1,null]}}})"));
  for (const auto* op : {"$gt", "$gte", "$lt", "$lte"})
    EXPECT_FALSE(matches(std::string(R"({"data":{"missing":{")") + op + R"(":0}}})")) << op;
  // Below a missing or non-object field, every field is missing.
  EXPECT_TRUE(matches(R"({"nothing":{"deeper":{"$ne":1}}})"));
  EXPECT_FALSE(matches(R"({"nothing":{"deeper":1}})"));
  EXPECT_FALSE(matches(R"({"data":{"amount":{"cents":{"$exists":true}}}})"));
  EXPECT_FALSE(matches(R"({"data":{"tags":{"0":"a"}}})"));  // no indexing into arrays
}

TEST(Filter, Ordering) {
  EXPECT_TRUE(matches(R"({"data":{"amount":{"$gt":149}}})"));
  EXPECT_FALSE(matches(R"({"data":{"amount":{"$gt":150}}})"));
  EXPECT_TRUE(matches(R"({"data":{"amount":{"$gte":150}}})"));
  EXPECT_FALSE(matches(R"({"data":{"amount":{"$gte":150.5}}})"));
  EXPECT_TRUE(matches(R"({"data":{"amount":{"$lt":150.5}}})"));
  EXPECT_FALSE(matches(R"({"data":{"amount":{"$lt":150}}})"));
  EXPECT_TRUE(matches(R"({"data":{"amount":{"$lte":150}}})"));
  EXPECT_FALSE(matches(R"({"data":{"amount":{"$lte":149.99}}})"));
  EXPECT_TRUE(matches(R"({"data":{"amount":{"$gte":100,"$lt":200}}})"));  // a range
  EXPECT_FALSE(matches(R"({"data":{"amount":{"$gte":100,"$lt":150}}})"));
  EXPECT_TRUE(matches(R"({"data":{"region":{"$gt":"ea","$lt":"ev"}}})"));
  EXPECT_TRUE(matches(R"({"timestamp":{"$gte":"2026-03-05T00:00:00Z"}})"));
  EXPECT_FALSE(matches(R"({"data":{"region":{"$lt":"eu"}}})"));
  EXPECT_TRUE(matches(R"({"data":{"s":{"$gt":"z"}}})", R"({"data":{"s":"é"}})"));  // code points
  EXPECT_FALSE(matches(R"({"data":{"vip":{"$gt":0}}})"));  // booleans have no order
  EXPECT_FALSE(matches(R"({"data":{"tags":{"$gt":"a"}}})"));
}

TEST(Filter, InAndNin) {
  EXPECT_TRUE(matches(R"({"data":{"region":{"$in":["us","eu"]}}})"));
  EXPECT_FALSE(matches(R"({"data":{"region":{"$in":["us","ap"]}}})"));
  EXPECT_FALSE(matches(R"({"data":{"region":{"$in":[]}}})"));
  EXPECT_TRUE(matches(R"({"data":{"amount":{"$in":["150",150.0]}}})"));
  EXPECT_FALSE(matches(R"({"data":{"amount":{"$in":["150"]}}})"));
  EXPECT_TRUE(matches(R"({"data":{"tags":{"$in":[["a","b"],"x"]}}})"));
  EXPECT_FALSE(matches(R"({"data":{"region":{"$nin":["us","eu"]}}})"));
  EXPECT_TRUE(matches(R"({"data":{"region":{"$nin":["us","ap"]}}})"));
  EXPECT_TRUE(matches(R"({"data":{"region":{"$nin":[]}}})"));
}

TEST(Filter, Exists) {
  EXPECT_TRUE(matches(R"({"data":{"note":{"$exists":true}}})"));  // present, though null
  EXPECT_FALSE(matches(R"({"data":{"note":{"$exists":false}}})"));
  EXPECT_TRUE(matches(R"({"data":{"missing":{"$exists":false}}})"));
  EXPECT_FALSE(matches(R"({"data":{"missing":{"$exists":true}}})"));
  EXPECT_TRUE(matches(R"({"data":{"$exists":true}})"));
}

TEST(Filter, AndOrNot) {
  EXPECT_TRUE(matches(R"({"$or":[{"data":{"region":"us"}},{"data":{"region":"eu"}}]})"));
  EXPECT_FALSE(matches(R"({"$or":[{"data":{"region":"us"}},{"data":{"region":"ap"}}]})"));
  EXPECT_TRUE(matches(R"({"$and":[{"type":"submission.completed"},{"data":{"vip":true}}]})"));
  EXPECT_FALSE(matches(R"({"$and":[{"type":"submission.completed"},{"data":{"vip":false}}]})"));
  EXPECT_TRUE(matches(R"({"data":{"amount":{"$or":[{"$lt":10},{"$gt":100}]}}})"));
  EXPECT_FALSE(matches(R"({"data":{"amount":{"$and":[{"$gt":10},{"$lt":100}]}}})"));
  EXPECT_FALSE(matches(R"({"data":{"amount":{"$not":{"$gte":100}}}})"));
  EXPECT_TRUE(matches(R"({"data":{"amount":{"$not":{"$gte":1000}}}})"));
  EXPECT_TRUE(matches(R"({"$not":{"data":{"region":"us"}}})"));
  EXPECT_FALSE(matches(R"({"$not":{}})"));
  // $not of a missing field's comparison: the comparison fails, so $not passes.
  EXPECT_TRUE(matches(R"({"data":{"missing":{"$not":{"$gt":1}}}})"));
  // Fields and operators side by side: all must hold.
  EXPECT_TRUE(
      matches(R"({"type":"submission.completed","$or":[{"data":{"vip":true}},{"id":"x"}]})"));
  EXPECT_FALSE(matches(R"({"type":"contact.created","$or":[{"data":{"vip":true}},{"id":"x"}]})"));
}

TEST(Filter, ArraysAndObjectsAsPlainValuesMustEqualExactly) {
  EXPECT_TRUE(matches(R"({"data":{"tags":["a","b"]}})"));
  EXPECT_FALSE(matches(R"({"data":{"tags":["b","a"]}})"));  // order matters
  EXPECT_FALSE(matches(R"({"data":{"tags":["a"]}})"));      // no "contains"
  EXPECT_FALSE(matches(R"({"data":{"tags":"a"}})"));
  EXPECT_TRUE(matches(R"({"data":{"x":{"$eq":{"b":[1,2.0],"a":{}}}}})",
                      R"({"data":{"x":{"a":{},"b":[1.0,2]}}})"));  // key order does not matter
  EXPECT_FALSE(matches(R"({"data":{"x":{"$eq":{"a":{}}}}})", R"({"data":{"x":{"a":[]}}})"));
}

TEST(Filter, KeysAreLiteralFieldNames) {
  const std::string body = R"({"data":{"a.b":1,"a":{"b":2},"k\"q":3,"\u00e9":4}})";
  EXPECT_TRUE(matches(R"({"data":{"a.b":1}})", body));  // no dotted paths
  EXPECT_TRUE(matches(R"({"data":{"a":{"b":2}}})", body));
  EXPECT_TRUE(matches(R"({"data":{"k\"q":3,"é":4}})", body));
}

TEST(Filter, TextIsCompactAndCompilesAgain) {
  auto f = Filter::parse(R"( { "data" : { "amount" : { "$gte" : 100 } } } )");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->text(), R"({"data":{"amount":{"$gte":100}}})");
  auto again = Filter::parse(f->text());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->text(), f->text());
}

TEST(Filter, ErrorsNameThePathInsideTheFilter) {
  EXPECT_EQ(error_of(R"({"data":{"amount":{"$gte":true}}})"),
            "filter.data.amount.$gte: expected a number or a string");
  EXPECT_EQ(error_of(R"({"data":{"amount":{"$gt":null}}})"),
            "filter.data.amount.$gt: expected a number or a string");
  EXPECT_EQ(error_of(R"({"data":{"amount":{"$lt":[1]}}})"),
            "filter.data.amount.$lt: expected a number or a string");
  EXPECT_EQ(error_of(R"({"data":{"region":{"$in":"eu"}}})"),
            "filter.data.region.$in: expected an array of values");
  EXPECT_EQ(error_of(R"({"data":{"region":{"$nin":{}}}})"),
            "filter.data.region.$nin: expected an array of values");
  EXPECT_EQ(error_of(R"({"data":{"x":{"$exists":1}}})"),
            "filter.data.x.$exists: expected true or false");
  EXPECT_EQ(error_of(R"({"$or":[]})"),
            "filter.$or: expected a non-empty array of filters (objects)");
  EXPECT_EQ(error_of(R"({"$and":{"type":"x"}})"),
            "filter.$and: expected a non-empty array of filters (objects)");
  EXPECT_EQ(error_of(R"({"$or":[{"type":"x"},"y"]})"),
            "filter.$or[1]: expected a filter (an object)");
  EXPECT_EQ(error_of(R"({"$or":[{"type":"x"},{"data":{"n":{"$gte":"1","$lt":{}}}}]})"),
            "filter.$or[1].data.n.$lt: expected a number or a string");
  EXPECT_EQ(error_of(R"({"data":{"n":{"$not":5}}})"),
            "filter.data.n.$not: expected a filter or operator object");
  EXPECT_EQ(error_of(R"({"data":{"n":{"$regex":"a"}}})"),
            "filter.data.n.$regex: unknown operator (one of $eq $ne $gt $gte $lt $lte $in $nin "
            "$exists $and $or $not)");
  EXPECT_EQ(error_of(R"(["type"])"), "filter: expected a filter (an object)");
  EXPECT_EQ(error_of("5"), "filter: expected a filter (an object)");
  EXPECT_EQ(error_of(R"({"type":)"),
            "filter: " + parse_untrusted_json(R"({"type":)").error().message);
  EXPECT_EQ(error_of(R"({"a":1,"a":2})"), "filter: the key \"a\" appears twice in one object");
}

TEST(Filter, DepthIsLimitedToEightLevels) {
  // Levels: the filter is 1; every object and array inside it one more.
  std::string eight = "1";
  for (int i = 0; i < 8; ++i) eight = R"({"k":)" + eight + "}";
  EXPECT_EQ(error_of(eight), "(compiled)");
  EXPECT_EQ(error_of(R"({"k":)" + eight + "}"),
            "filter.k.k.k.k.k.k.k.k: nested deeper than 8 levels");
  // Arrays count: $or's array is a level, each filter in it another.
  EXPECT_EQ(error_of(R"({"a":{"b":{"$or":[{"d":{"e":{"$in":[[1]]}}}]}}})"),
            "filter.a.b.$or[0].d.e.$in[0]: nested deeper than 8 levels");
  EXPECT_EQ(error_of(R"({"a":{"b":{"$or":[{"d":{"e":{"$in":[1]}}}]}}})"), "(compiled)");
  // Far too deep for the parser: still refused with a clear message.
  std::string deep = "1";
  for (int i = 0; i < 200; ++i) deep = R"({"k":)" + deep + "}";
  EXPECT_EQ(error_of(deep), "filter: nested deeper than 8 levels");
}

TEST(Filter, SizeIsLimitedTo4KiBOfCompactJson) {
  const auto with_value = [](std::size_t n) {
    return R"({"data":{"s":")" + std::string(n, 'x') + R"("}})";
  };
  const std::size_t overhead = with_value(0).size();
  EXPECT_EQ(error_of(with_value(kMaxBytes - overhead)), "(compiled)");
  EXPECT_EQ(error_of(with_value(kMaxBytes - overhead + 1)),
            "filter: is 4097 bytes as compact JSON; the limit is 4096");
  // Whitespace does not count.
  const auto spaced = "  " + with_value(kMaxBytes - overhead) + std::string(2000, ' ');
  EXPECT_EQ(error_of(spaced), "(compiled)");
  EXPECT_EQ(error_of(std::string(20000, ' ') + "{}"), "filter: is 20002 bytes; the limit is 4096");
}

TEST(Filter, ReadsBodiesSimdjsonAloneRefuses) {
  // An integer beyond 64 bits: accepted by the API and the dispatcher (as a double).
  const std::string body = R"({"data":{"n":123456789012345678901234567890}})";
  EXPECT_TRUE(matches(R"({"data":{"n":{"$gt":1e29}}})", body));
  EXPECT_FALSE(matches(R"({"data":{"n":{"$lt":1e29}}})", body));
}

}  // namespace
}  // namespace hookstream::filter
