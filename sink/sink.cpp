#include "sink/sink.hpp"

#include "common/signing.hpp"
#include "sink/event_time.hpp"
#include "sink/response_policy.hpp"

namespace hookstream::sink {
namespace {

namespace bhttp = http::bhttp;

http::Response json_response(bhttp::status status, std::string body) {
  http::Response res{status, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

http::Response method_not_allowed(std::string_view allow) {
  auto res = json_response(bhttp::status::method_not_allowed, R"({"error":"method not allowed"})");
  res.set(bhttp::field::allow, allow);
  return res;
}

SignatureCheck check_signature(const std::vector<std::string>& secrets, const http::Request& req,
                               TimePoint now) {
  if (secrets.empty()) return {SignatureState::unchecked, {}};
  const signing::VerifyInput input{req["webhook-id"], req["webhook-timestamp"],
                                   req["webhook-signature"], req.body()};
  auto verified = signing::verify(secrets, input, now);
  if (verified) return {SignatureState::verified, {}};
  return {SignatureState::invalid, verified.error()};
}

}  // namespace

Sink::Sink(const SinkConfig& config, const Clock& clock, Random& random, LineWriter write_line)
    : config_(config), clock_(clock), random_(random), write_line_(std::move(write_line)) {}

Sink::~Sink() = default;

void Sink::stop() {
  stopping_ = true;
  for (auto& w : waiting_) w.timer.cancel();
}

asio::awaitable<http::Response> Sink::handle(http::Request& req) {
  const auto target = req.target();
  const auto path = target.substr(0, target.find('?'));
  const auto method = req.method();
  if (path == "/healthz") {
    if (method != bhttp::verb::get) co_return method_not_allowed("GET");
    co_return json_response(bhttp::status::ok, R"({"status":"ok"})");
  }
  if (path == "/stats") {
    if (method != bhttp::verb::get) co_return method_not_allowed("GET");
    co_return json_response(bhttp::status::ok, stats_.to_json().dump());
  }
  if (path == "/stats/reset") {
    if (method != bhttp::verb::post) co_return method_not_allowed("POST");
    stats_.reset();
    co_return json_response(bhttp::status::ok, stats_.to_json().dump());
  }
  stats_.record_request();
  if (method != bhttp::verb::post) co_return method_not_allowed("POST");
  co_return co_await deliver(req);
}

asio::awaitable<http::Response> Sink::deliver(http::Request& req) {
  const TimePoint received_at = clock_.now();
  const std::string_view webhook_id = req["webhook-id"];
  const SignatureCheck signature = check_signature(config_.secrets, req, received_at);
  std::optional<std::chrono::microseconds> latency;
  if (const auto published = event_time(req.body()))
    latency = std::chrono::duration_cast<std::chrono::microseconds>(received_at - *published);
  const int status = config_.hang ? 0 : choose_status(config_.response, random_);
  const auto path = req.target().substr(0, req.target().find('?'));
  stats_.record_delivery(path, webhook_id, signature.state, status, latency,
                         to_unix_millis(received_at));

  if (!config_.quiet) {
    const DeliveryRecord record{received_at,
                                req.target(),
                                req["x-hookstream-event-type"],
                                webhook_id,
                                req["x-hookstream-attempt"],
                                signature,
                                status,
                                latency,
                                req.body()};
    line_.clear();
    if (config_.json)
      append_json_line(line_, record);
    else
      append_human_line(line_, record);
    write_line_(line_);
  }

  if ((config_.hang || config_.delay.count() > 0) && !stopping_) {
    Waiting waiting(co_await asio::this_coro::executor);
    waiting_.push_back(waiting);
    if (config_.hang)
      waiting.timer.expires_at(asio::steady_timer::time_point::max());
    else
      waiting.timer.expires_after(config_.delay);
    boost::system::error_code ec;
    co_await waiting.timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  // A held (--hang) delivery is only answered when the sink stops.
  http::Response res{
      status == 0 ? bhttp::status::service_unavailable : static_cast<bhttp::status>(status), 11};
  co_return res;
}

}  // namespace hookstream::sink
