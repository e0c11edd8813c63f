#pragma once
// What the sink prints for each delivery: a line for a person watching a terminal, or one JSON
// object for a script.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/signing.hpp"
#include "common/time.hpp"

namespace hookstream::sink {

enum class SignatureState { verified, invalid, unchecked };

struct SignatureCheck {
  SignatureState state = SignatureState::unchecked;
  signing::VerifyErrc error{};  // when invalid
};

std::string_view to_string(SignatureState s);
// For people: "no matching signature", "timestamp too old", …
std::string_view describe(signing::VerifyErrc e);

inline constexpr std::size_t kMaxPrintedBody = 2048;

struct DeliveryRecord {
  TimePoint received_at;
  std::string_view target;
  std::string_view event_type;  // x-hookstream-event-type
  std::string_view webhook_id;
  std::string_view attempt;  // x-hookstream-attempt
  SignatureCheck signature;
  int status = 0;  // 0: never answered (--hang)
  std::optional<std::chrono::microseconds> latency;
  std::string_view body;
};

// Appends one line, newline included:
// 14:03:22.517 POST /hooks contact.created id=evt_… attempt=1 signature=verified status=200
//   latency=3.2ms body={…}
// Local time; absent headers print as "-"; the body is cut at kMaxPrintedBody bytes and control
// characters are escaped so one delivery is always one line.
void append_human_line(std::string& out, const DeliveryRecord& d);
// Appends one JSON object and a newline.
void append_json_line(std::string& out, const DeliveryRecord& d);

}  // namespace hookstream::sink
