#include "common/kafka/error.hpp"

#include <gtest/gtest.h>

namespace hookstream::kafka {
namespace {

TEST(KafkaError, RetriabilityTable) {
  struct Case {
    KafkaErrc errc;
    bool retriable;
  };
  const Case cases[] = {
      {KafkaErrc::invalid_config, false},
      {KafkaErrc::queue_full, true},
      {KafkaErrc::timed_out, true},
      {KafkaErrc::transport, true},
      {KafkaErrc::unavailable, true},
      {KafkaErrc::unknown_topic, false},
      {KafkaErrc::offset_out_of_range, false},
      {KafkaErrc::record_too_large, false},
      {KafkaErrc::authorization, false},
      {KafkaErrc::rebalance, false},
      {KafkaErrc::fenced, true},
      {KafkaErrc::purged, false},
      {KafkaErrc::closed, false},
      {KafkaErrc::other, false},
  };
  for (const auto& c : cases) EXPECT_EQ(is_retriable(c.errc), c.retriable) << to_string(c.errc);
}

TEST(KafkaError, ClassifiesLibrdkafkaCodes) {
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__QUEUE_FULL), KafkaErrc::queue_full);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT), KafkaErrc::timed_out);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__TRANSPORT), KafkaErrc::transport);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN), KafkaErrc::transport);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION), KafkaErrc::unavailable);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART), KafkaErrc::unknown_topic);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE), KafkaErrc::offset_out_of_range);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE), KafkaErrc::record_too_large);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED), KafkaErrc::authorization);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS), KafkaErrc::rebalance);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__FATAL), KafkaErrc::fenced);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__PURGE_QUEUE), KafkaErrc::purged);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__DESTROY), KafkaErrc::closed);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_INVALID_RECORD), KafkaErrc::other);
}

TEST(KafkaError, CrossesModuleBoundariesAsHookstreamError) {
  const Error e = make_error(RD_KAFKA_RESP_ERR__QUEUE_FULL, "produce to t.events");
  EXPECT_EQ(e.code, "kafka_queue_full");
  EXPECT_NE(e.message.find("produce to t.events"), std::string::npos);
  EXPECT_NE(e.message.find("_QUEUE_FULL"), std::string::npos);
  EXPECT_TRUE(is_retriable(e));
  EXPECT_TRUE(is_queue_full(e));

  const Error timeout = make_error(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "");
  EXPECT_TRUE(is_retriable(timeout));
  EXPECT_FALSE(is_queue_full(timeout));
  EXPECT_FALSE(is_retriable(Error{"queue_full", "not from kafka"}));
  EXPECT_FALSE(is_retriable(Error{"kafka_no_such_category", ""}));
}

TEST(KafkaError, NamesRoundTrip) {
  for (auto errc : {KafkaErrc::invalid_config, KafkaErrc::queue_full, KafkaErrc::timed_out,
                    KafkaErrc::transport, KafkaErrc::unavailable, KafkaErrc::unknown_topic,
                    KafkaErrc::offset_out_of_range, KafkaErrc::record_too_large,
                    KafkaErrc::authorization, KafkaErrc::rebalance, KafkaErrc::fenced,
                    KafkaErrc::purged, KafkaErrc::closed, KafkaErrc::other})
    EXPECT_EQ(errc_from_error_code("kafka_" + std::string(to_string(errc))), errc);
}

}  // namespace
}  // namespace hookstream::kafka
