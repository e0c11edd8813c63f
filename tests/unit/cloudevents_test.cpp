// cloudevents::decode reads records with simdjson (common/json.cpp); these pin what that must not
// change: which data is accepted, how it is kept, and the reasons given for refusals.
#include "common/cloudevents.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "common/json.hpp"

namespace hookstream {
namespace {

using cloudevents::DecodeErrc;
using namespace std::string_literals;

constexpr std::string_view kNotAnObject = "the record value (event data) is not a JSON object";
constexpr std::string_view kSyntax =
    "structured-mode value is refused: not valid JSON (a syntax error, invalid UTF-8 or a number "
    "beyond what a double holds)";

kafka::Record binary(std::string value) {
  kafka::Record r;
  r.topic = "hookstream.events";
  r.timestamp_ms = 1'772'712'000'000;
  r.value = std::move(value);
  r.headers = {{"ce_specversion", "1.0"},
               {"ce_id", "evt_1"},
               {"ce_type", "contact.created"},
               {"ce_tenant", "acme"},
               {"content-type", "application/json"}};
  return r;
}

kafka::Record structured(std::string value) {
  kafka::Record r;
  r.topic = "hookstream.events";
  r.timestamp_ms = 1'772'712'000'000;
  r.value = std::move(value);
  r.headers = {{"content-type", "application/cloudevents+json"}};
  return r;
}

// A structured-mode event with the given members after id, type and tenant.
std::string event_with(std::string_view members) {
  return R"({"specversion":"1.0","id":"evt_1","type":"contact.created","tenant":"acme")" +
         std::string(members) + "}";
}

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

// What is refused: nlohmann::json::accept's verdict, and also a NUL byte (nlohmann stops reading
// there) and a leading BOM (nlohmann skips it), neither of which a JSON text may contain.
bool nlohmann_verdict(std::string_view text) {
  return text.find('\0') == std::string_view::npos && !text.starts_with("\xEF\xBB\xBF") &&
         nlohmann::json::accept(text);
}

// Texts where two JSON parsers are most likely to disagree.
const std::vector<std::string>& tricky_texts() {
  static const std::vector<std::string> texts = {
      // structure and whitespace
      "", " ", "{}", " \t\r\n{} \t\r\n", "{} x", "{}{}", "{} {}", "{", "}", "[1,]", R"({"a":1,})",
      R"({"a" 1})", R"({"a":1 "b":2})", "{}\f", "{}\v", "\f{}", "{}\xc2\xa0", "[]", "null", "1",
      R"("s")", "tru", "true", "nul", "{}//c", "/*c*/{}", R"({'a':1})", R"({a:1})",
      // numbers
      R"({"n":-0})", R"({"n":0e0})", R"({"n":1E+2})", R"({"n":1e-400})", R"({"n":1e400})",
      R"({"n":-1e400})", R"({"n":1.7976931348623157e308})", R"({"n":1.7976931348623159e308})",
      R"({"n":4.9e-324})", R"({"n":2.4e-324})", R"({"n":18446744073709551615})",
      R"({"n":18446744073709551616})", R"({"n":-9223372036854775808})",
      R"({"n":-9223372036854775809})", R"({"n":123456789012345678901234567890.5e3})", R"({"n":01})",
      R"({"n":-})", R"({"n":1.})", R"({"n":.1})", R"({"n":+1})", R"({"n":1e})", R"({"n":1e+})",
      R"({"n":NaN})", R"({"n":Infinity})", R"({"n":0x10})",
      // strings, escapes and UTF-8
      R"({"s":"\u0000\"\\\/\b\f\n\r\t\u00e9"})", R"({"s":"\a"})", R"({"s":"\u00"})",
      R"({"s":"\uD834\uDD1E"})", R"({"s":"\uDD1E\uD834"})", R"({"s":"\ud800"})",
      R"({"s":"\udc00"})", R"({"s":"\ud800\u0041"})", "{\"s\":\"\x01\"}", "{\"s\":\"\x7f\"}",
      "{\"s\":\"\xc3\x28\"}", "{\"s\":\"\xc0\xaf\"}", "{\"s\":\"\xed\xa0\x80\"}",
      "{\"s\":\"\xf4\x90\x80\x80\"}", "{\"s\":\"\xef\xbf\xbf\"}", "{\"s\":\"\xf0\x9d\x84\x9e\"}",
      "{\"\xff\":1}", "{\"s\":\"unterminated}",
      // NUL bytes and a BOM
      "{\"s\":\"a\0b\"}"s, "{}\0"s, "{}\0junk"s, "\0{}"s, "\xEF\xBB\xBF{}",
      // keys
      R"({"a":1,"a":2})", R"({"a":{"b":1,"b":2}})", R"({"a":1,"A":1})",
      // depth
      nested(128), nested(129), nested(1024), nested(1025), "{\"a\":" + nested(5000) + "}",
      nested(5000).insert(2500, "1,"), std::string(3000, '[')};
  return texts;
}

TEST(CloudEventsBinary, DataIsKeptVerbatim) {
  const std::string value =
      "  { \"b\" : 1,\n \"a\" : [1e-400, 18446744073709551616, -123456789012345678901234567890],"
      " \"s\" : \"\\u00e9\\/\\u0000\", \"a\" : 2 }  ";
  const auto e = cloudevents::decode(binary(value));
  ASSERT_TRUE(e.ok()) << e.error().reason;
  EXPECT_EQ(e->data, value);
  EXPECT_NE(webhook_payload(*e).find(R"("data":)" + value + "}"), std::string::npos);
}

TEST(CloudEventsBinary, DataMustBeOneValidJsonObject) {
  const std::vector<std::string> refused = {"",
                                            "   ",
                                            "[1]",
                                            R"("s")",
                                            "null",
                                            "1",
                                            "{",
                                            "{} x",
                                            "{}{}",
                                            R"({"a":1,})",
                                            R"({"a":1e400})",
                                            R"({"a":-1e400})",
                                            "{\"s\":\"\xc3\x28\"}",
                                            "{\"s\":\"\xc0\xaf\"}",
                                            "{\"s\":\"\xed\xa0\x80\"}",
                                            R"({"s":"\ud800"})",
                                            R"({"s":"\udc00"})",
                                            "{\"s\":\"\x01\"}",
                                            "{\"s\":\"a\0b\"}"s,
                                            "{}\0"s,
                                            "{}\0junk"s,
                                            "\xEF\xBB\xBF{}",
                                            "{}//",
                                            R"({"a":NaN})",
                                            R"({'a':1})",
                                            "{\"a\":" + nested(5000)};
  for (const auto& value : refused) {
    const auto e = cloudevents::decode(binary(value));
    ASSERT_FALSE(e.ok()) << value;
    EXPECT_EQ(e.error().code, DecodeErrc::invalid_data) << value;
    EXPECT_EQ(e.error().reason, kNotAnObject) << value;
  }
}

// nlohmann::json::accept has no depth limit, and binary-mode data is never parsed into a tree.
TEST(CloudEventsBinary, DeepNestingIsAccepted) {
  for (const std::size_t depth : {1023u, 1024u, 1025u, 100'000u}) {
    const auto value = "{\"a\":" + nested(depth) + "}";
    const auto e = cloudevents::decode(binary(value));
    ASSERT_TRUE(e.ok()) << depth << ": " << e.error().reason;
    EXPECT_EQ(e->data, value);
  }
}

TEST(CloudEventsBinary, ValidationMatchesNlohmann) {
  for (const auto& text : tricky_texts()) {
    EXPECT_EQ(is_valid_json(text), nlohmann_verdict(text)) << text;
    // The same text again, now that the parser is warm.
    EXPECT_EQ(is_valid_json(text), nlohmann_verdict(text)) << text;
  }
}

TEST(CloudEventsStructured, DataIsCompactWithKeysInTheirOrder) {
  const auto e = cloudevents::decode(structured(event_with(
      R"(, "data" : { "b" : 1, "a" : [ 1.0 , 1E2, -0, 0.1, 1e-400, "\u00e9\/\u0001" ], "c":{} })")));
  ASSERT_TRUE(e.ok()) << e.error().reason;
  EXPECT_EQ(e->data, R"({"b":1,"a":[1.0,100.0,0,0.1,0.0,"é/\u0001"],"c":{}})");
}

// simdjson refuses them; nlohmann, which read structured mode before, reads them as doubles.
TEST(CloudEventsStructured, IntegersBeyond64BitsAreReadAsDoubles) {
  const auto e = cloudevents::decode(
      structured(event_with(R"(,"data":{"n":18446744073709551616,"m":-123456789012345678901})")));
  ASSERT_TRUE(e.ok()) << e.error().reason;
  EXPECT_EQ(nlohmann::json::parse(e->data),
            nlohmann::json::parse(R"({"n":1.8446744073709552e+19,"m":-1.2345678901234568e+20})"));
}

TEST(CloudEventsStructured, DataMustBeAnObject) {
  for (const char* members : {R"(,"data":"text")", R"(,"data":[1])", R"(,"data":null)",
                              R"(,"data":1)", R"(,"data":true)", ""}) {
    const auto e = cloudevents::decode(structured(event_with(members)));
    ASSERT_FALSE(e.ok()) << members;
    EXPECT_EQ(e.error().code, DecodeErrc::invalid_data) << members;
    EXPECT_EQ(e.error().reason, "data must be a JSON object") << members;
  }
}

TEST(CloudEventsStructured, DataBase64IsRefused) {
  for (const char* members : {R"(,"data_base64":"e30=")", R"(,"data":{},"data_base64":null)"}) {
    const auto e = cloudevents::decode(structured(event_with(members)));
    ASSERT_FALSE(e.ok()) << members;
    EXPECT_EQ(e.error().code, DecodeErrc::unsupported_content_type);
    EXPECT_EQ(e.error().reason, "data_base64 is not supported; send JSON data");
  }
}

TEST(CloudEventsStructured, RefusalsKeepTheirCodesAndReasons) {
  struct Case {
    std::string value;
    DecodeErrc code;
    std::string reason;
  };
  const std::string refused = "structured-mode value is refused: ";
  const std::vector<Case> cases = {
      {"", DecodeErrc::invalid_data, std::string(kSyntax)},
      {"not json", DecodeErrc::invalid_data, std::string(kSyntax)},
      {event_with(R"(,"data":{"n":1e400})"), DecodeErrc::invalid_data, std::string(kSyntax)},
      {event_with(",\"data\":{\"s\":\"\xc3\x28\"}"), DecodeErrc::invalid_data,
       std::string(kSyntax)},
      {event_with(R"(,"data":{"s":"\udc00"})"), DecodeErrc::invalid_data, std::string(kSyntax)},
      {event_with(R"(,"data":{}} x)"), DecodeErrc::invalid_data, std::string(kSyntax)},
      {"[]", DecodeErrc::invalid_data, "structured-mode value is not a JSON object"},
      {R"("text")", DecodeErrc::invalid_data, "structured-mode value is not a JSON object"},
      {event_with(R"(,"id":"evt_2","data":{})"), DecodeErrc::invalid_data,
       refused + R"(the key "id" appears twice in one object)"},
      {event_with(R"(,"data":{"x":{"a":1,"b":{"a":2},"a":3}})"), DecodeErrc::invalid_data,
       refused + R"(the key "a" appears twice in one object)"},
      // The first problem in document order is the one named.
      {event_with(R"(,"data":{"a":)" + nested(200) + R"(,"a":1})"), DecodeErrc::invalid_data,
       refused + "nested deeper than 128 levels"},
      {event_with(R"(,"data":{"a":1,"a":)" + nested(200) + "}"), DecodeErrc::invalid_data,
       refused + R"(the key "a" appears twice in one object)"},
      {event_with(R"(,"data":{"a":)" + nested(127) + "}"), DecodeErrc::invalid_data,
       refused + "nested deeper than 128 levels"},
      {event_with(R"(,"data":{"a":)" + nested(100'000) + "}"), DecodeErrc::invalid_data,
       refused + "nested deeper than 128 levels"},
      {R"({"specversion":"0.3","id":"e","type":"a","tenant":"t","data":{}})",
       DecodeErrc::unsupported_specversion, R"(specversion must be "1.0")"},
      {R"({"specversion":1.0,"id":"e","type":"a","tenant":"t","data":{}})",
       DecodeErrc::unsupported_specversion, R"(specversion must be "1.0")"},
      {R"({"specversion":"1.0","id":7,"type":"a","tenant":"t","data":{}})",
       DecodeErrc::missing_attribute, "missing string attribute id"},
      {R"({"specversion":"1.0","id":"e","type":"a","tenant":"","data":{}})",
       DecodeErrc::missing_attribute, "missing string attribute tenant"},
      {event_with(R"(,"datacontenttype":"text/plain","data":{})"),
       DecodeErrc::unsupported_content_type, "datacontenttype 'text/plain' is not JSON"},
  };
  for (const auto& c : cases) {
    const auto e = cloudevents::decode(structured(c.value));
    ASSERT_FALSE(e.ok()) << c.value.substr(0, 200);
    EXPECT_EQ(e.error().code, c.code) << c.value.substr(0, 200);
    EXPECT_EQ(e.error().reason, c.reason) << c.value.substr(0, 200);
  }
  const auto bad_time = cloudevents::decode(structured(event_with(R"(,"time":"soon","data":{})")));
  ASSERT_FALSE(bad_time.ok());
  EXPECT_EQ(bad_time.error().code, DecodeErrc::invalid_attribute);
  EXPECT_TRUE(bad_time.error().reason.starts_with("time: ")) << bad_time.error().reason;
}

TEST(CloudEventsStructured, NestingUpTo128LevelsIsAccepted) {
  // The event object and data are two of the levels.
  const auto e =
      cloudevents::decode(structured(event_with(R"(,"data":{"a":)" + nested(126) + "}")));
  ASSERT_TRUE(e.ok()) << e.error().reason;
  EXPECT_EQ(e->data, R"({"a":)" + nested(126) + "}");
}

TEST(CloudEventsStructured, AttributesAreReadAsUnescapedStrings) {
  const auto e = cloudevents::decode(structured(
      R"({"specversion":"1.0","id":"evt\u005f1","type":"contact.created","tenant":"acme",)"
      R"("source":5,"partitionkey":"c\u00e9","time":"2026-03-05T12:00:00Z","data":{}})"));
  ASSERT_TRUE(e.ok()) << e.error().reason;
  EXPECT_EQ(e->id, "evt_1");
  EXPECT_EQ(e->source, "hookstream");  // not a string: absent
  EXPECT_EQ(e->partition_key, "cé");
  EXPECT_EQ(format_rfc3339(e->time), "2026-03-05T12:00:00.000Z");
  EXPECT_EQ(webhook_payload(*e),
            R"({"id":"evt_1","type":"contact.created","timestamp":"2026-03-05T12:00:00.000Z",)"
            R"("data":{}})");
}

// parse_untrusted_json_view stands in for parse_untrusted_json: the same verdicts and reasons,
// and what it accepts means the same.
TEST(UntrustedJsonView, AgreesWithParseUntrustedJson) {
  auto texts = tricky_texts();
  texts.push_back(R"({"x":{"a":1,"b":{"a":2},"a":3}})");
  texts.push_back(R"({"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]})");
  std::string many_keys = "{";
  for (int i = 0; i < 100; ++i) many_keys += "\"k" + std::to_string(i) + "\":" + "1,";
  texts.push_back(many_keys + R"("k0":2})");
  texts.push_back(many_keys + R"("k100":2})");
  for (const auto& text : texts) {
    const auto expected = parse_untrusted_json(text);
    const auto view = parse_untrusted_json_view(text);
    ASSERT_EQ(view.ok(), expected.ok()) << text.substr(0, 200);
    if (!view.ok()) {
      EXPECT_EQ(view.error().code, expected.error().code) << text.substr(0, 200);
      EXPECT_EQ(view.error().message, expected.error().message) << text.substr(0, 200);
      continue;
    }
    EXPECT_EQ(nlohmann::json::parse(simdjson::minify(*view)), *expected) << text.substr(0, 200);
  }
}

TEST(CloudEvents, EachThreadReadsWithItsOwnParser) {
  const auto run = [](int n, bool* ok) {
    for (int i = 0; i < 2000 && *ok; ++i) {
      const auto data = R"({"n":)" + std::to_string(n * 10'000 + i) + "}";
      const auto b = cloudevents::decode(binary(data));
      const auto s = cloudevents::decode(structured(event_with(",\"data\":" + data)));
      *ok = b.ok() && s.ok() && b->data == data && s->data == data;
    }
  };
  bool ok[4] = {true, true, true, true};
  std::vector<std::thread> threads;
  for (int n = 0; n < 4; ++n) threads.emplace_back(run, n, &ok[n]);
  for (auto& t : threads) t.join();
  for (bool each : ok) EXPECT_TRUE(each);
}

// A parser grown by a large record is replaced before the next small one.
TEST(CloudEvents, SmallRecordsDecodeAfterAHugeOne) {
  const std::string big = R"({"s":")" + std::string(300'000, 'x') + R"("})";
  for (int round = 0; round < 2; ++round) {
    const auto huge = cloudevents::decode(structured(event_with(",\"data\":" + big)));
    ASSERT_TRUE(huge.ok()) << huge.error().reason;
    EXPECT_EQ(huge->data, big);
    const auto small = cloudevents::decode(structured(event_with(R"(,"data":{"a":1})")));
    ASSERT_TRUE(small.ok()) << small.error().reason;
    EXPECT_EQ(small->data, R"({"a":1})");
    EXPECT_TRUE(cloudevents::decode(binary(big)).ok());
    EXPECT_FALSE(cloudevents::decode(binary(big + "x")).ok());
  }
}

}  // namespace
}  // namespace hookstream
