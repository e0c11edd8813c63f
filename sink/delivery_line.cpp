#include "sink/delivery_line.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>
#include <ctime>

namespace hookstream::sink {
namespace {

// The body as printed: at most kMaxPrintedBody bytes, never ending inside a UTF-8 sequence.
std::string_view printed_body(std::string_view body) {
  if (body.size() <= kMaxPrintedBody) return body;
  std::size_t cut = kMaxPrintedBody;
  while (cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80) --cut;
  return body.substr(0, cut);
}

void append_escaped(std::string& out, std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7F) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
}

void append_or_dash(std::string& out, std::string_view text) {
  if (text.empty())
    out += '-';
  else
    append_escaped(out, text);
}

void append_local_time(std::string& out, TimePoint t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm local{};
  localtime_r(&secs, &local);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", local.tm_hour, local.tm_min, local.tm_sec,
                static_cast<int>(ms % 1000));
  out += buf;
}

void append_millis(std::string& out, std::chrono::microseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fms", static_cast<double>(d.count()) / 1000.0);
  out += buf;
}

nlohmann::json text_or_null(std::string_view text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

}  // namespace

std::string_view to_string(SignatureState s) {
  switch (s) {
    case SignatureState::verified:
      return "verified";
    case SignatureState::invalid:
      return "invalid";
    case SignatureState::unchecked:
      return "unchecked";
  }
  return "unchecked";
}

std::string_view describe(signing::VerifyErrc e) {
  using signing::VerifyErrc;
  switch (e) {
    case VerifyErrc::missing_header:
      return "missing webhook-id, webhook-timestamp or webhook-signature";
    case VerifyErrc::invalid_timestamp:
      return "webhook-timestamp is not a number";
    case VerifyErrc::timestamp_too_old:
      return "timestamp too old";
    case VerifyErrc::timestamp_too_new:
      return "timestamp too new";
    case VerifyErrc::no_matching_signature:
      return "no matching signature";
  }
  return "unknown";
}

void append_human_line(std::string& out, const DeliveryRecord& d) {
  append_local_time(out, d.received_at);
  out += " POST ";
  append_escaped(out, d.target);
  out += ' ';
  append_or_dash(out, d.event_type);
  out += " id=";
  append_or_dash(out, d.webhook_id);
  out += " attempt=";
  append_or_dash(out, d.attempt);
  out += " signature=";
  switch (d.signature.state) {
    case SignatureState::verified:
      out += "verified";
      break;
    case SignatureState::invalid:
      out += "INVALID (";
      out += describe(d.signature.error);
      out += ')';
      break;
    case SignatureState::unchecked:
      out += "not checked (no --secret)";
      break;
  }
  if (d.status == 0) {
    out += " status=none (--hang)";
  } else {
    char buf[16];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d.status);
    out += " status=";
    out.append(buf, end);
  }
  if (d.latency) {
    out += " latency=";
    append_millis(out, *d.latency);
  }
  out += " body=";
  const auto body = printed_body(d.body);
  append_escaped(out, body);
  if (body.size() < d.body.size()) {
    out += "... (";
    out += std::to_string(d.body.size());
    out += " bytes)";
  }
  out += '\n';
}

void append_json_line(std::string& out, const DeliveryRecord& d) {
  const auto body = printed_body(d.body);
  nlohmann::json j = {
      {"received_at", format_rfc3339(d.received_at)},
      {"target", d.target},
      {"event_type", text_or_null(d.event_type)},
      {"webhook_id", text_or_null(d.webhook_id)},
      {"signature", to_string(d.signature.state)},
      {"status", d.status == 0 ? nlohmann::json(nullptr) : nlohmann::json(d.status)},
      {"body", body},
      {"body_bytes", d.body.size()},
      {"body_truncated", body.size() < d.body.size()},
  };
  int attempt = 0;
  const auto [p, ec] =
      std::from_chars(d.attempt.data(), d.attempt.data() + d.attempt.size(), attempt);
  if (ec == std::errc{} && p == d.attempt.data() + d.attempt.size())
    j["attempt"] = attempt;
  else
    j["attempt"] = text_or_null(d.attempt);
  if (d.signature.state == SignatureState::invalid)
    j["signature_error"] = signing::to_string(d.signature.error);
  if (d.latency) j["latency_ms"] = static_cast<double>(d.latency->count()) / 1000.0;
  // Bodies are whatever a client sent: replace invalid UTF-8 rather than throw.
  out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out += '\n';
}

}  // namespace hookstream::sink
