#include "sink/app.hpp"

#include <sys/resource.h>

#include <cstdio>
#include <iostream>

#include "common/http/server.hpp"
#include "common/log.hpp"
#include "sink/sink.hpp"

namespace hookstream::sink {
namespace {

namespace bhttp = http::bhttp;

void write_stdout(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);  // read line by line by tests and by people watching a terminal
}

// A benchmark (and --hang, which holds every connection) can need more descriptors than the
// usual soft limit of 1024; the hard limit is ours to take.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

std::string url_of(const asio::ip::tcp::endpoint& ep) {
  const auto host = ep.address().to_string();
  return "http://" + (ep.address().is_v6() ? "[" + host + "]" : host) + ":" +
         std::to_string(ep.port());
}

}  // namespace

int run(const SinkConfig& config) {
  raise_open_file_limit();
  asio::io_context io(1);
  SystemClock clock;
  SecureRandom random;
  Sink sink(config, clock, random, write_stdout);

  http::HttpServer server(
      io, http::HttpServerLimits{}, [&sink](http::Request& req) { return sink.handle(req); },
      [](bhttp::status status, std::string_view message) {
        http::Response res{status, 11};
        res.set(bhttp::field::content_type, "text/plain");
        res.body() = std::string(message);
        return res;
      });
  if (auto listening = server.listen(config.listen); !listening) {
    std::cerr << "hookstream-sink: --listen: " << listening.error().message << '\n';
    return 1;
  }
  server.start();

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    server.shutdown();
    sink.stop();
  });
  const std::string banner =
      "hookstream-sink listening on " + url_of(server.local_endpoint()) + "\n";
  write_stdout(banner);
  io.run();
  return 0;
}

int sink_main(int argc, char** argv) {
  auto config = parse_sink_args(argc, argv, std::cout, std::cerr);
  if (!config) return config.error();
  // Only the server's own problems (a failed accept, a handler that threw) are logged, on stderr.
  log::init("sink", log::Level::warn);
  return run(*config);
}

}  // namespace hookstream::sink
