#include "common/log.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hookstream::log {
namespace {

// Counts its conversions to JSON, to show when a log call builds its fields.
struct Counted {
  int* conversions;
};
void to_json(nlohmann::json& j, const Counted& c) {
  ++*c.conversions;
  j = "counted";
}

class LogTest : public ::testing::Test {
 protected:
  // The logger is process-wide: leave it as main() would find it.
  ~LogTest() override { init("hookstream", Level::info); }
};

TEST_F(LogTest, EnabledFollowsTheInitLevel) {
  init("test", Level::warn);
  EXPECT_FALSE(enabled(Level::debug));
  EXPECT_FALSE(enabled(Level::info));
  EXPECT_TRUE(enabled(Level::warn));
  EXPECT_TRUE(enabled(Level::critical));
  init("test", Level::trace);
  EXPECT_TRUE(enabled(Level::trace));
  EXPECT_TRUE(enabled(Level::debug));
  init("test", Level::off);
  EXPECT_FALSE(enabled(Level::critical));
  EXPECT_FALSE(enabled(Level::off));
}

TEST_F(LogTest, DisabledDebugDoesNotBuildItsFields) {
  init("test", Level::info);
  int conversions = 0;
  ::testing::internal::CaptureStderr();
  debug("skipped", {{"value", Counted{&conversions}}, {"n", 1}});
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(conversions, 0);
}

TEST_F(LogTest, EnabledDebugWritesEveryField) {
  init("test", Level::debug);
  int conversions = 0;
  const std::string text = "a string";
  ::testing::internal::CaptureStderr();
  debug("written", {{"value", Counted{&conversions}}, {"n", 7}, {"text", text}});
  // A braced value cannot be a Field; the line still goes out through the JSON overload.
  debug("nested", {{"object", {{"a", 1}}}});
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(conversions, 1);

  const auto newline = out.find('\n');
  ASSERT_NE(newline, std::string::npos) << out;
  const auto first = nlohmann::json::parse(out.substr(0, newline));
  EXPECT_EQ(first["level"], "debug");
  EXPECT_EQ(first["logger"], "test");
  EXPECT_EQ(first["msg"], "written");
  EXPECT_EQ(first["value"], "counted");
  EXPECT_EQ(first["n"], 7);
  EXPECT_EQ(first["text"], text);
  const auto second = nlohmann::json::parse(out.substr(newline + 1));
  EXPECT_EQ(second["msg"], "nested");
  EXPECT_EQ(second["object"]["a"], 1);
}

}  // namespace
}  // namespace hookstream::log
