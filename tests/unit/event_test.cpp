#include "common/event.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/cloudevents.hpp"
#include "tests/unit/fakes.hpp"

namespace hookstream {
namespace {

class EventTest : public ::testing::Test {
 protected:
  testing_support::FakeClock clock_;  // 2026-03-05T12:00:00.000Z
  testing_support::CountingRandom random_;
  IdGenerator ids_{clock_, random_};
  EventsConfig config_{{"submission.completed", "contact.created", "intake-bot.status-changed"},
                       1024};
  EventCatalog catalog_{config_.catalog};

  Result<Event, EventProblem> make(EventInput in) {
    return make_event(std::move(in), config_, catalog_, ids_, clock_);
  }
};

TEST_F(EventTest, FillsIdSourceAndTime) {
  auto e = make({.tenant = "acme", .type = "submission.completed", .data = R"({"a":1})"});
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_TRUE(has_id_shape(e->id, "evt")) << e->id;
  EXPECT_EQ(e->source, "hookstream");
  EXPECT_EQ(format_rfc3339(e->time), "2026-03-05T12:00:00.000Z");
  EXPECT_EQ(
      webhook_payload(*e),
      R"({"id":")" + e->id +
          R"(","type":"submission.completed","timestamp":"2026-03-05T12:00:00.000Z","data":{"a":1}})");
}

TEST_F(EventTest, KeepsCallerId) {
  auto e = make({.tenant = "acme", .type = "contact.created", .data = "{}", .id = "evt_custom-1"});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->id, "evt_custom-1");
}

TEST_F(EventTest, RefusesBadInputNamingTheField) {
  struct Case {
    EventInput in;
    std::string field;
    bool too_large;
  };
  const std::vector<Case> cases = {
      {{.tenant = "", .type = "contact.created", .data = "{}"}, "tenant", false},
      {{.tenant = "ac me", .type = "contact.created", .data = "{}"}, "tenant", false},
      {{.tenant = "acme", .type = "Contact.Created", .data = "{}"}, "type", false},
      {{.tenant = "acme", .type = "contact..created", .data = "{}"}, "type", false},
      {{.tenant = "acme", .type = "contact.deleted", .data = "{}"}, "type", false},
      {{.tenant = "acme", .type = "test.ping", .data = "{}"}, "type", false},
      {{.tenant = "acme", .type = "contact.created", .data = "{"}, "data", false},
      {{.tenant = "acme", .type = "contact.created", .data = "[1]"}, "data", false},
      {{.tenant = "acme", .type = "contact.created", .data = "{} {}"}, "data", false},
      // What the dispatcher would refuse (cloudevents::decode) is refused here too.
      {{.tenant = "acme", .type = "contact.created", .data = std::string("{}\0junk", 6)},
       "data",
       false},
      {{.tenant = "acme", .type = "contact.created", .data = "{\"s\":\"\xc3\x28\"}"},
       "data",
       false},
      {{.tenant = "acme", .type = "contact.created", .data = R"({"n":1e400})"}, "data", false},
      {{.tenant = "acme",
        .type = "contact.created",
        .data = "{\"x\":\"" + std::string(1100, 'a') + "\"}"},
       "data",
       true},
      {{.tenant = "acme", .type = "contact.created", .data = "{}", .id = "evt with space"},
       "id",
       false},
  };
  for (const auto& c : cases) {
    auto e = make(c.in);
    ASSERT_FALSE(e.ok()) << c.in.tenant << " " << c.in.type << " " << c.in.data;
    EXPECT_EQ(e.error().field, c.field) << e.error().message;
    EXPECT_EQ(e.error().too_large, c.too_large) << e.error().message;
    EXPECT_FALSE(e.error().message.empty());
  }
}

TEST(EventIds, EveryByteIsAcceptedExactlyWhenItIsOneOfTheAllowedCharacters) {
  const auto allowed = [](int b, std::string_view extra) {
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
           extra.find(static_cast<char>(b)) != std::string_view::npos;
  };
  for (int b = 0; b < 256; ++b) {
    const std::string with = "evt_01" + std::string(1, static_cast<char>(b)) + "x";
    EXPECT_EQ(validate_event_id(with).ok(), allowed(b, "_-.:")) << "byte " << b;
    EXPECT_EQ(validate_tenant_id(with).ok(), allowed(b, "_-.")) << "byte " << b;
  }
  EXPECT_FALSE(validate_event_id("").ok());
  EXPECT_FALSE(validate_event_id(std::string(129, 'a')).ok());
  EXPECT_TRUE(validate_event_id(std::string(128, 'a')).ok());
}

TEST_F(EventTest, DataIsValidatedLikeTheDispatcherDoes) {
  // nlohmann::json::accept's verdict, as before: integers beyond 64 bits, a key given twice, and
  // no depth limit.
  const std::string data = R"({"n":18446744073709551616,"n":-1e-400})";
  auto made = make({.tenant = "acme", .type = "contact.created", .data = data});
  ASSERT_TRUE(made.ok()) << made.error().message;
  auto decoded = cloudevents::decode(cloudevents::encode_binary(*made, "t"));
  ASSERT_TRUE(decoded.ok()) << decoded.error().reason;
  EXPECT_EQ(decoded->data, data);
  const auto deep = R"({"a":)" + std::string(2000, '[') + std::string(2000, ']') + "}";
  EXPECT_TRUE(validate_event_data(deep, 1 << 20).ok());
  EXPECT_FALSE(validate_event_data(deep + "]", 1 << 20).ok());

  auto e = make({.tenant = "acme", .type = "contact.created", .data = "{\"s\":\"\xc3\x28\"}"});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "event data is not valid JSON");
  e = make({.tenant = "acme", .type = "contact.created", .data = "[]"});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "event data must be a JSON object");
}

// Ids and types of decoded events are validated and need no escaping; anything else is escaped
// as nlohmann escapes it.
TEST_F(EventTest, WebhookPayloadEscapesWhatNeedsIt) {
  Event e;
  e.id = "evt_1";
  e.type = "contact.created";
  e.time = clock_.now();
  e.data = R"({"a":1})";
  EXPECT_EQ(webhook_payload(e),
            R"({"id":"evt_1","type":"contact.created","timestamp":"2026-03-05T12:00:00.000Z",)"
            R"("data":{"a":1}})");
  const auto escaped = [](const std::string& s) {
    return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  for (const std::string& odd :
       {std::string("a\"b\\c"), std::string("tab\there\x01"), std::string("caf\xc3\xa9"),
        std::string("bad\xff"), std::string("nul\0x", 5), std::string("del\x7f")}) {
    e.id = odd;
    e.type = odd;
    EXPECT_EQ(webhook_payload(e), R"({"id":)" + escaped(odd) + R"(,"type":)" + escaped(odd) +
                                      R"(,"timestamp":"2026-03-05T12:00:00.000Z","data":{"a":1}})")
        << odd;
  }
}

TEST_F(EventTest, TypeSyntax) {
  EXPECT_TRUE(validate_event_type_syntax("intake-bot.status-changed").ok());
  EXPECT_TRUE(validate_event_type_syntax("a").ok());
  EXPECT_FALSE(validate_event_type_syntax(std::string(129, 'a')).ok());
  EXPECT_TRUE(validate_event_type_syntax(std::string(128, 'a')).ok());
  for (const char* bad : {"", ".a", "a.", "a-", "a_b", "a b", "A", "a.-b"})
    EXPECT_FALSE(validate_event_type_syntax(bad).ok()) << bad;
}

TEST_F(EventTest, IdsAreTimeSortable) {
  const std::string first = ids_.next("wh");
  clock_.advance(std::chrono::milliseconds{1});
  const std::string second = ids_.next("wh");
  EXPECT_LT(first, second);
  EXPECT_TRUE(has_id_shape(first, "wh"));
  EXPECT_NE(ids_.next("dlv"), ids_.next("dlv"));
  EXPECT_FALSE(has_id_shape("wh_short", "wh"));
  EXPECT_FALSE(has_id_shape(first, "evt"));
}

TEST_F(EventTest, BinaryModeRoundTrip) {
  auto e = make({.tenant = "acme", .type = "submission.completed", .data = R"({"form":"f1"})"});
  ASSERT_TRUE(e.ok());
  const auto record = cloudevents::encode_binary(*e, "hookstream.events");
  EXPECT_EQ(record.key, e->id);
  EXPECT_EQ(record.value, R"({"form":"f1"})");
  EXPECT_EQ(*record.header("ce_specversion"), "1.0");
  EXPECT_EQ(*record.header("ce_id"), e->id);
  EXPECT_EQ(*record.header("ce_type"), "submission.completed");
  EXPECT_EQ(*record.header("ce_tenant"), "acme");
  EXPECT_EQ(*record.header("ce_time"), "2026-03-05T12:00:00.000Z");
  EXPECT_EQ(*record.header("content-type"), "application/json");

  auto decoded = cloudevents::decode(record);
  ASSERT_TRUE(decoded.ok()) << decoded.error().reason;
  EXPECT_EQ(decoded->id, e->id);
  EXPECT_EQ(decoded->tenant, "acme");
  EXPECT_EQ(decoded->time, e->time);
  EXPECT_EQ(webhook_payload(*decoded), webhook_payload(*e));
}

TEST_F(EventTest, PartitionKeyReplacesTheRecordKey) {
  auto e = make({.tenant = "acme", .type = "submission.completed", .data = "{}"});
  e->partition_key = "customer-7";
  const auto record = cloudevents::encode_binary(*e, "t");
  EXPECT_EQ(record.key, "customer-7");
  EXPECT_EQ(cloudevents::decode(record)->partition_key, "customer-7");
}

TEST_F(EventTest, StructuredModeDecodes) {
  kafka::Record r;
  r.headers = {{"content-type", "application/cloudevents+json; charset=utf-8"}};
  r.value = R"({"specversion":"1.0","id":"evt_1","type":"contact.created","source":"crm",
               "time":"2026-03-05T12:00:00Z","tenant":"acme","data":{"name":"Ada"}})";
  auto e = cloudevents::decode(r);
  ASSERT_TRUE(e.ok()) << e.error().reason;
  EXPECT_EQ(e->id, "evt_1");
  EXPECT_EQ(e->source, "crm");
  EXPECT_EQ(e->data, R"({"name":"Ada"})");
}

TEST_F(EventTest, DecodeRefusesWithReasons) {
  using cloudevents::DecodeErrc;
  auto binary = cloudevents::encode_binary(
      *make({.tenant = "acme", .type = "contact.created", .data = "{}"}), "t");
  auto without = [&](std::string_view name) {
    auto r = binary;
    std::erase_if(r.headers, [&](const auto& h) { return h.name == name; });
    return r;
  };
  EXPECT_EQ(cloudevents::decode(without("ce_tenant")).error().code, DecodeErrc::missing_attribute);
  EXPECT_NE(cloudevents::decode(without("ce_tenant")).error().reason.find("ce_tenant"),
            std::string::npos);
  EXPECT_EQ(cloudevents::decode(without("ce_id")).error().code, DecodeErrc::missing_attribute);
  EXPECT_EQ(cloudevents::decode(without("ce_specversion")).error().code,
            DecodeErrc::not_a_cloudevent);
  auto bad_value = binary;
  bad_value.value = "not json";
  EXPECT_EQ(cloudevents::decode(bad_value).error().code, DecodeErrc::invalid_data);
  auto bad_time = binary;
  bad_time.headers.push_back({"ce_time", "yesterday"});
  EXPECT_EQ(cloudevents::decode(bad_time).error().code, DecodeErrc::invalid_attribute);

  kafka::Record structured;
  structured.headers = {{"content-type", "application/cloudevents+json"}};
  structured.value = R"({"specversion":"1.0","id":"evt_1","type":"contact.created","data":{}})";
  EXPECT_EQ(cloudevents::decode(structured).error().code, DecodeErrc::missing_attribute);
  structured.value = R"({"specversion":"0.3","id":"e","type":"a","tenant":"t","data":{}})";
  EXPECT_EQ(cloudevents::decode(structured).error().code, DecodeErrc::unsupported_specversion);
  structured.value = "[]";
  EXPECT_EQ(cloudevents::decode(structured).error().code, DecodeErrc::invalid_data);
}

}  // namespace
}  // namespace hookstream
