#include "common/store/delivery_record.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/ids.hpp"
#include "common/json.hpp"
#include "common/store/redis_hash.hpp"

namespace hookstream::store {
namespace {

using nlohmann::json;

constexpr std::size_t kCreatedDigits = 16;

void append_int(std::string& out, std::int64_t v) {
  std::array<char, 24> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), static_cast<std::size_t>(end - buf.data()));
}

// Room a member needs besides a text value's json_string_bound: its key (names are short: see
// key()), quotes, colon, comma, and an integer or null.
constexpr std::size_t kMemberRoom = 48;

// Writes one JSON object's members in order, `"name":value` comma-separated, at a cursor into a
// buffer sized for all of them first (kMemberRoom a member, plus json_string_bound of each text):
// no size check or change per member (a resize and a copy per key cost ~145 instructions).
class ObjectWriter {
 public:
  explicit ObjectWriter(char*& p) : p_(p) { *p_++ = '{'; }
  template <std::size_t N>
  ObjectWriter& text(const char (&name)[N], std::string_view value) {
    key(name);
    p_ = write_json_string(p_, value);
    return *this;
  }
  template <std::size_t N>
  ObjectWriter& integer(const char (&name)[N], std::int64_t value) {
    key(name);
    p_ = std::to_chars(p_, p_ + 20, value).ptr;
    return *this;
  }
  template <std::size_t N>
  ObjectWriter& time(const char (&name)[N], const std::optional<TimePoint>& t) {
    if (t) return integer(name, to_unix_millis(*t));
    key(name);
    p_ = std::copy_n("null", 4, p_);
    return *this;
  }
  // `value` is JSON text already (its room counted by the caller).
  template <std::size_t N>
  ObjectWriter& raw(const char (&name)[N], std::string_view value) {
    key(name);
    p_ = std::copy(value.begin(), value.end(), p_);
    return *this;
  }
  void close() { *p_++ = '}'; }

 private:
  template <std::size_t N>
  void key(const char (&name)[N]) {
    static_assert(N <= 20, "kMemberRoom holds keys of up to 19 characters");
    if (!first_) *p_++ = ',';
    first_ = false;
    *p_++ = '"';
    std::memcpy(p_, name, N - 1);
    p_ += N - 1;
    *p_++ = '"';
    *p_++ = ':';
  }
  char*& p_;
  bool first_ = true;
};

// A string written by `write` (a char* -> char* end) into `room` bytes: on the stack when they
// fit, so the result is allocated once at its size.
template <typename Write>
std::string write_bounded(std::size_t room, Write&& write) {
  constexpr std::size_t kStack = 4096;
  if (room <= kStack) {
    std::array<char, kStack> buf;  // NOLINT: written before it is read
    char* const end = write(buf.data());
    return std::string(buf.data(), end);
  }
  std::string out(room, '\0');
  char* const end = write(out.data());
  out.resize(static_cast<std::size_t>(end - out.data()));
  return out;
}

std::optional<TimePoint> optional_time(const json& j, const char* name) {
  const auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return from_unix_millis(it->get<std::int64_t>());
}

std::string string_or(const json& j, const char* name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

template <typename T>
T number_or(const json& j, const char* name, T fallback) {
  const auto it = j.find(name);
  return it != j.end() && it->is_number() ? it->get<T>() : fallback;
}

AttemptRecord attempt_from(const json& j) {
  AttemptRecord a;
  a.number = number_or(j, "number", 0);
  a.at = from_unix_millis(number_or<std::int64_t>(j, "at", 0)).value_or(TimePoint{});
  a.outcome = string_or(j, "outcome");
  a.response_status = number_or(j, "response_status", 0);
  a.response_body = string_or(j, "response_body");
  a.error = string_or(j, "error");
  a.duration_ms = number_or<std::int64_t>(j, "duration_ms", 0);
  return a;
}

StoreError incomplete(std::string_view id) {
  return StoreError{StoreErrc::corrupt, "delivery " + std::string(id) + " is incomplete in Redis"};
}

Result<Delivery, StoreError> from_json(std::string_view id, std::string_view text) {
  const auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return fail(incomplete(id));
  Delivery d;
  d.id = std::string(id);
  d.webhook_id = string_or(j, "webhook_id");
  d.tenant = string_or(j, "tenant");
  d.event_id = string_or(j, "event_id");
  d.event_type = string_or(j, "event_type");
  const auto status = parse_delivery_status(string_or(j, "status"));
  const auto created = optional_time(j, "created_at");
  if (!status || !created || d.webhook_id.empty()) return fail(incomplete(id));
  d.status = *status;
  d.created_at = *created;
  d.attempt_count = number_or(j, "attempt_count", 0);
  d.response_status = number_or(j, "response_status", 0);
  d.last_error = string_or(j, "last_error");
  d.delivered_at = optional_time(j, "delivered_at");
  d.next_retry_at = optional_time(j, "next_retry_at");
  d.event_key = string_or(j, "event_key");
  // Lua's cjson writes an empty array as {}: no attempts either way.
  if (const auto it = j.find("attempts"); it != j.end() && it->is_array())
    for (const auto& a : *it)
      if (a.is_object()) d.attempts.push_back(attempt_from(a));
  return d;
}

Result<Delivery, StoreError> from_hash(std::string_view id, const redis::Reply& reply,
                                       const std::vector<std::string_view>& legacy_attempts) {
  const auto f = to_fields(reply);
  if (f.empty()) return fail(StoreError{StoreErrc::not_found, "no delivery " + std::string(id)});
  Delivery d;
  d.id = std::string(id);
  d.webhook_id = field_or(f, "webhook_id");
  d.tenant = field_or(f, "tenant");
  d.event_id = field_or(f, "event_id");
  d.event_type = field_or(f, "event_type");
  const auto status = parse_delivery_status(field_or(f, "status"));
  const auto created = time_field(f, "created_at");
  if (!status || !created || d.webhook_id.empty()) return fail(incomplete(id));
  d.status = *status;
  d.created_at = *created;
  d.attempt_count = static_cast<int>(int_field(f, "attempt_count").value_or(0));
  d.response_status = static_cast<int>(int_field(f, "response_status").value_or(0));
  d.last_error = field_or(f, "last_error");
  d.delivered_at = time_field(f, "delivered_at");
  d.next_retry_at = time_field(f, "next_retry_at");
  std::vector<std::string_view> items = legacy_attempts;
  for (const auto& [name, value] : f)
    if (name.size() > 1 && name[0] == 'a' &&
        name.find_first_not_of("0123456789", 1) == std::string::npos)
      items.push_back(value);
  for (const auto item : items)
    if (const auto j = json::parse(item, nullptr, false); j.is_object())
      d.attempts.push_back(attempt_from(j));
  return d;
}

}  // namespace

std::string_view to_string(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::pending:
      return "pending";
    case DeliveryStatus::succeeded:
      return "succeeded";
    case DeliveryStatus::failed:
      return "failed";
  }
  return "unknown";
}

std::optional<DeliveryStatus> parse_delivery_status(std::string_view text) {
  for (auto s : {DeliveryStatus::pending, DeliveryStatus::succeeded, DeliveryStatus::failed})
    if (to_string(s) == text) return s;
  return std::nullopt;
}

std::string delivery_id_for(std::string_view tenant, std::string_view event_id,
                            std::string_view webhook_id) {
  std::string material;
  material.reserve(tenant.size() + event_id.size() + webhook_id.size() + 2);
  material.append(tenant).append(1, '\n').append(event_id).append(1, '\n').append(webhook_id);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up (under a lock) per call.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_Digest(material.data(), material.size(), digest.data(), &len, sha256, nullptr);
  static constexpr std::string_view kAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";
  std::string out = std::string(id_prefix::delivery) + "_";
  for (std::size_t i = 0; i < 26; ++i) out.push_back(kAlphabet[digest[i] & 31]);
  return out;
}

std::string index_member(TimePoint created_at, std::string_view delivery_id) {
  std::array<char, 24> digits{};
  const auto written =
      std::to_chars(digits.data(), digits.data() + digits.size(), to_unix_millis(created_at));
  const auto n = static_cast<std::size_t>(written.ptr - digits.data());
  std::string out;
  out.reserve(kCreatedDigits + 1 + delivery_id.size());
  if (n < kCreatedDigits) out.append(kCreatedDigits - n, '0');  // "%016lld", without printf
  out.append(digits.data(), n);
  out += ':';
  out += delivery_id;
  return out;
}

std::optional<std::string_view> delivery_of_index_member(std::string_view member) {
  const auto prefix = std::string(id_prefix::delivery) + "_";
  if (member.size() != kCreatedDigits + 1 + prefix.size() + 26 || member[kCreatedDigits] != ':' ||
      member.find_first_not_of("0123456789") != kCreatedDigits)
    return std::nullopt;
  const auto id = member.substr(kCreatedDigits + 1);
  if (!id.starts_with(prefix)) return std::nullopt;
  return id;
}

namespace {

constexpr std::size_t kAttemptMembers = 7;

std::size_t attempt_room(const AttemptRecord& a) {
  return 2 + kAttemptMembers * kMemberRoom + json_string_bound(a.outcome.size()) +
         json_string_bound(a.response_body.size()) + json_string_bound(a.error.size());
}

void write_attempt(char*& p, const AttemptRecord& a) {
  ObjectWriter(p)
      .integer("number", a.number)
      .integer("at", to_unix_millis(a.at))
      .text("outcome", a.outcome)
      .integer("response_status", a.response_status)
      .text("response_body", a.response_body)
      .text("error", a.error)
      .integer("duration_ms", a.duration_ms)
      .close();
}

}  // namespace

std::string encode_record(const RecordFields& r) {
  constexpr std::size_t kRecordMembers = 14;
  const auto* a = r.attempt;
  std::size_t room = 4 + kRecordMembers * kMemberRoom + (a ? attempt_room(*a) : 0);
  for (const auto text : {r.webhook_id, r.tenant, r.event_id, r.event_type, r.last_error,
                          r.event_key, to_string(r.status)})
    room += json_string_bound(text.size());
  return write_bounded(room, [&](char* p) {
    ObjectWriter record(p);
    record.text("webhook_id", r.webhook_id)
        .text("tenant", r.tenant)
        .text("event_id", r.event_id)
        .text("event_type", r.event_type)
        .text("status", to_string(r.status))
        .integer("attempt_count", r.attempt_count)
        .integer("response_status", r.response_status)
        .text("last_error", r.last_error)
        .time("delivered_at", r.delivered_at)
        .time("next_retry_at", r.next_retry_at)
        .integer("created_at", to_unix_millis(r.created_at))
        .integer("updated_at", to_unix_millis(r.updated_at))
        .text("event_key", r.event_key)
        .raw("attempts", "[");
    if (a) write_attempt(p, *a);
    *p++ = ']';
    record.close();
    return p;
  });
}

std::string kept_event_field(std::string_view tenant, std::string_view event_id) {
  std::string out;
  out.reserve(tenant.size() + event_id.size() + 1);
  out.append(tenant).append(1, ':').append(event_id);
  return out;
}

std::string encode_kept_event(const Event& e) {
  std::string out;
  out.reserve(64 + e.type.size() + e.source.size() + e.data.size());
  out += '[';
  append_json_string(out, e.type);
  out += ',';
  append_json_string(out, e.source);
  out += ',';
  append_int(out, to_unix_millis(e.time));
  out += "]\n";
  out += e.data;
  return out;
}

Result<Event, StoreError> decode_kept_event(std::string_view tenant, std::string_view event_id,
                                            std::string_view value) {
  const auto gone = [&] {
    return StoreError{StoreErrc::not_found,
                      "the event " + std::string(event_id) + " is no longer kept"};
  };
  const auto newline = value.find('\n');
  if (newline == std::string_view::npos) return fail(gone());
  const auto head = json::parse(value.substr(0, newline), nullptr, false);
  if (!head.is_array() || head.size() != 3 || !head[0].is_string() || !head[1].is_string() ||
      !head[2].is_number_integer())
    return fail(gone());
  Event e;
  e.id = std::string(event_id);
  e.tenant = std::string(tenant);
  e.type = head[0].get<std::string>();
  e.source = head[1].get<std::string>();
  e.time = from_unix_millis(head[2].get<std::int64_t>()).value_or(TimePoint{});
  e.data = std::string(value.substr(newline + 1));
  return e;
}

Result<Delivery, StoreError> decode_delivery(std::string_view id, const redis::Reply& record,
                                             const std::vector<std::string_view>& legacy_attempts) {
  Result<Delivery, StoreError> d = record.is_array() ? from_hash(id, record, legacy_attempts)
                                                     : from_json(id, record.as_string());
  if (d)
    std::stable_sort(
        d->attempts.begin(), d->attempts.end(),
        [](const AttemptRecord& x, const AttemptRecord& y) { return x.number < y.number; });
  return d;
}

}  // namespace hookstream::store
