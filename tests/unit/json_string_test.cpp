// append_json_string (common/json.hpp) writes what nlohmann's dump() writes, for every byte.
#include <gtest/gtest.h>

#include <string>

#include "common/json.hpp"

namespace hookstream {
namespace {

std::string nlohmann_dump(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string appended(const std::string& s, const std::string& before = "") {
  std::string out = before;
  append_json_string(out, s);
  return out;
}

TEST(AppendJsonString, MatchesNlohmannForEverySingleByteAndForMixedText) {
  for (int b = 0; b < 256; ++b) {
    const std::string s(1, static_cast<char>(b));
    EXPECT_EQ(appended(s), nlohmann_dump(s)) << "byte " << b;
  }
  const std::string cases[] = {
      "",
      "evt_01HZX",
      "https://example.com/hook?a=1&b=\"2\"",
      "line\nbreak\ttab\\slash\b\f\r",
      std::string("nul\0inside", 10),
      "caf\xc3\xa9 \xe2\x82\xac",  // valid UTF-8
      "bad \xff\xfe utf-8",        // invalid: replaced as nlohmann does
      "\x7f del",
  };
  for (const auto& s : cases) EXPECT_EQ(appended(s), nlohmann_dump(s)) << s;
}

// Plain text is skipped 8 bytes at a time: every byte, at every place in and around those words,
// must still be found.
TEST(AppendJsonString, FindsEveryByteAtEveryPlaceOfALongerString) {
  const std::string plain = "abcdefghijklmnopqrstuvwxyz0123";
  for (int b = 0; b < 256; ++b) {
    for (std::size_t at = 0; at < plain.size(); ++at) {
      std::string s = plain;
      s[at] = static_cast<char>(b);
      EXPECT_EQ(appended(s), nlohmann_dump(s)) << "byte " << b << " at " << at;
    }
  }
  EXPECT_EQ(appended(plain.substr(0, 16)), "\"" + plain.substr(0, 16) + "\"");
}

TEST(AppendJsonString, AppendsAfterWhatIsThereEvenWhenFallingBackToNlohmann) {
  EXPECT_EQ(appended("a\"b", "x:"), "x:\"a\\\"b\"");
  EXPECT_EQ(appended("caf\xc3\xa9", "x:"), "x:" + nlohmann_dump("caf\xc3\xa9"));
}

}  // namespace
}  // namespace hookstream
