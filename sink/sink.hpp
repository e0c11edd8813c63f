#pragma once
// The sink's request handling: every POST is a delivery (verified, counted, printed, answered
// per the configured policy); GET /stats, POST /stats/reset and GET /healthz are its own.
#include <boost/intrusive/list.hpp>

#include <functional>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/http/server.hpp"
#include "sink/config.hpp"
#include "sink/stats.hpp"

namespace hookstream::sink {

class Sink {
 public:
  // Receives each delivery's line, newline included; it should write and flush it.
  using LineWriter = std::function<void(std::string_view)>;

  // `config`, `clock` and `random` must outlive the sink.
  Sink(const SinkConfig& config, const Clock& clock, Random& random, LineWriter write_line);
  ~Sink();
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  // The HttpServer handler. Must run on one thread (the io_context's).
  asio::awaitable<http::Response> handle(http::Request& req);

  // Ends every wait (--delay, --hang) so the server can drain: waiting deliveries are answered
  // at once, and ones arriving later are not held.
  void stop();

  const SinkStats& stats() const { return stats_; }

 private:
  // A delivery waiting before its answer; linked so stop() can wake it.
  struct Waiting : boost::intrusive::list_base_hook<
                       boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
    explicit Waiting(const asio::any_io_executor& executor) : timer(executor) {}
    asio::steady_timer timer;
  };

  asio::awaitable<http::Response> deliver(http::Request& req);

  const SinkConfig& config_;
  const Clock& clock_;
  Random& random_;
  LineWriter write_line_;
  SinkStats stats_;
  std::string line_;  // reused, so printing does not allocate once it has grown
  boost::intrusive::list<Waiting, boost::intrusive::constant_time_size<false>> waiting_;
  bool stopping_ = false;
};

}  // namespace hookstream::sink
