#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <string>

#include "common/redis/errors.hpp"
#include "common/redis/reply.hpp"
#include "common/redis/script.hpp"

namespace hookstream::redis {
namespace {

redisReply make(int type) {
  redisReply r{};
  r.type = type;
  return r;
}

redisReply text(int type, std::string& storage) {
  redisReply r = make(type);
  r.str = storage.data();
  r.len = storage.size();
  return r;
}

TEST(RedisReply, ConvertsScalarsFromHiredis) {
  std::string bulk("a\0b\xff", 4);  // binary: embedded NUL and a non-UTF-8 byte
  const Reply s = Reply::from_hiredis(text(REDIS_REPLY_STRING, bulk));
  EXPECT_TRUE(s.is_string());
  EXPECT_EQ(s.as_string(), std::string_view(bulk));
  EXPECT_EQ(s.as_string().size(), 4u);
  EXPECT_FALSE(s.as_integer());

  std::string ok = "OK";
  const Reply status = Reply::from_hiredis(text(REDIS_REPLY_STATUS, ok));
  EXPECT_EQ(status.kind(), ReplyKind::status);
  EXPECT_EQ(status.as_string(), "OK");

  std::string wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
  const Reply error = Reply::from_hiredis(text(REDIS_REPLY_ERROR, wrongtype));
  EXPECT_TRUE(error.is_error());
  EXPECT_EQ(error.as_string(), wrongtype);

  redisReply integer = make(REDIS_REPLY_INTEGER);
  integer.integer = -9'000'000'000'000LL;
  const Reply i = Reply::from_hiredis(integer);
  ASSERT_TRUE(i.as_integer());
  EXPECT_EQ(*i.as_integer(), -9'000'000'000'000LL);
  EXPECT_TRUE(i.as_string().empty());

  const Reply nil = Reply::from_hiredis(make(REDIS_REPLY_NIL));
  EXPECT_TRUE(nil.is_nil());
  EXPECT_TRUE(nil.elements().empty());
}

TEST(RedisReply, ConvertsNestedArraysFromHiredis) {
  std::string field = "field";
  redisReply inner_s = text(REDIS_REPLY_STRING, field);
  redisReply inner_i = make(REDIS_REPLY_INTEGER);
  inner_i.integer = 7;
  redisReply* inner_elements[] = {&inner_s, &inner_i};
  redisReply inner = make(REDIS_REPLY_ARRAY);
  inner.elements = 2;
  inner.element = inner_elements;

  redisReply nil = make(REDIS_REPLY_NIL);
  redisReply empty = make(REDIS_REPLY_ARRAY);
  redisReply* outer_elements[] = {&inner, &nil, &empty, nullptr};
  redisReply outer = make(REDIS_REPLY_ARRAY);
  outer.elements = 4;
  outer.element = outer_elements;

  const Reply r = Reply::from_hiredis(outer);
  ASSERT_TRUE(r.is_array());
  ASSERT_EQ(r.elements().size(), 4u);
  EXPECT_EQ(r.elements()[0], Reply::array({Reply::string("field"), Reply::integer(7)}));
  EXPECT_TRUE(r.elements()[1].is_nil());
  EXPECT_TRUE(r.elements()[2].is_array());
  EXPECT_TRUE(r.elements()[2].elements().empty());
  EXPECT_TRUE(r.elements()[3].is_nil());
  EXPECT_EQ(r.debug_string(), "[[\"field\", 7], nil, [], nil]");
}

TEST(RedisReply, OwnsItsBytesAfterTheHiredisReplyIsGone) {
  std::string storage = "transient";
  Reply r = Reply::from_hiredis(text(REDIS_REPLY_STRING, storage));
  storage.assign("XXXXXXXXX");
  EXPECT_EQ(r.as_string(), "transient");
}

TEST(RedisReply, UnknownTypeBecomesAnErrorNotACrash) {
  const Reply r = Reply::from_hiredis(make(42));
  EXPECT_TRUE(r.is_error());
  EXPECT_NE(r.as_string().find("42"), std::string_view::npos);
}

TEST(RedisReply, RejectErrorReplyTurnsErrorRepliesIntoServerErrors) {
  const auto rejected = reject_error_reply(Reply::error("WRONGTYPE nope"));
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code, RedisErrc::server_error);
  EXPECT_EQ(rejected.error().message, "WRONGTYPE nope");

  const auto passed = reject_error_reply(Reply::integer(3));
  ASSERT_TRUE(passed.ok());
  EXPECT_EQ(passed->as_integer(), 3);

  const auto transport = reject_error_reply(fail(RedisError{RedisErrc::timeout, "slow"}));
  ASSERT_FALSE(transport.ok());
  EXPECT_EQ(transport.error().code, RedisErrc::timeout);
}

TEST(RedisErrors, OnlyTransientFailuresAreRetriable) {
  EXPECT_TRUE(is_retriable(RedisErrc::connect_failed));
  EXPECT_TRUE(is_retriable(RedisErrc::disconnected));
  EXPECT_TRUE(is_retriable(RedisErrc::timeout));
  EXPECT_FALSE(is_retriable(RedisErrc::server_error));
  EXPECT_FALSE(is_retriable(RedisErrc::protocol_error));
  EXPECT_EQ(to_string(RedisErrc::connect_failed), "connect_failed");
  EXPECT_EQ(to_string(RedisErrc::timeout), "timeout");
}

TEST(RedisScript, Sha1IsWhatRedisComputes) {
  // SCRIPT LOAD "return 1" answers e0e1f9fabfc9d4800c877a703b823ac0578ff8db.
  EXPECT_EQ(Script("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  EXPECT_EQ(Script("return 1").source(), "return 1");
}

}  // namespace
}  // namespace hookstream::redis
