#include "sink/config.hpp"

#include <CLI/CLI.hpp>

#include <charconv>
#include <ostream>

#include "common/http/server.hpp"
#include "common/signing.hpp"

namespace hookstream::sink {

Result<SinkConfig, int> parse_sink_args(int argc, const char* const* argv, std::ostream& out,
                                        std::ostream& err) {
  CLI::App app{
      "hookstream-sink: a webhook receiver for trying hookstream out and for benchmarks.\n"
      "Every POST (any path) is a delivery: its Standard Webhooks signature is checked against\n"
      "--secret, it is printed, counted and answered. GET /stats shows counts and\n"
      "publish-to-receipt latency, POST /stats/reset zeroes them, GET /healthz answers 200.",
      "hookstream-sink"};
  std::string listen = "127.0.0.1:9000";
  std::vector<std::string> secrets;
  std::string status = "200";
  std::string fail_percent = "0";
  std::string delay = "0ms";
  SinkConfig config;
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--secret", secrets,
                 "whsec_… signing secret; repeat for several (any one verifies)");
  app.add_option("--status", status, "status for every delivery (100-599)")->capture_default_str();
  app.add_option("--fail-percent", fail_percent,
                 "answer 500 to this share of deliveries, at random (0-100)")
      ->capture_default_str();
  app.add_option("--delay", delay, "wait this long before answering (e.g. 250ms, 2s)")
      ->capture_default_str();
  app.add_flag("--hang", config.hang,
               "read each delivery but never answer it (until the client gives up)");
  app.add_flag("--quiet", config.quiet, "print nothing per delivery (for benchmarks)");
  app.add_flag("--json", config.json, "print one JSON object per delivery");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    out << app.help();
    return fail(0);
  } catch (const CLI::ParseError& e) {
    err << "hookstream-sink: " << e.what() << "\nRun with --help for usage.\n";
    return fail(2);
  }

  auto usage = [&](std::string_view flag, std::string_view message) {
    err << "hookstream-sink: " << flag << ": " << message << '\n';
    return fail(2);
  };
  auto endpoint = http::parse_listen_address(listen);
  if (!endpoint) return usage("--listen", endpoint.error().message);
  config.listen = *endpoint;
  for (const auto& secret : secrets)
    if (auto key = signing::decode_secret(secret); !key)
      return usage("--secret", key.error().message);
  config.secrets = std::move(secrets);

  int code = 0;
  const auto [sp, sec] = std::from_chars(status.data(), status.data() + status.size(), code);
  if (sec != std::errc{} || sp != status.data() + status.size() || code < 100 || code > 599)
    return usage("--status", "'" + status + "' is not an HTTP status (100-599)");
  config.response.status = code;

  double percent = -1;
  std::size_t used = 0;
  try {
    percent = std::stod(fail_percent, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != fail_percent.size() || !(percent >= 0 && percent <= 100))
    return usage("--fail-percent", "'" + fail_percent + "' is not a number from 0 to 100");
  config.response.fail_percent = percent;

  auto wait = parse_duration(delay);
  if (!wait) return usage("--delay", wait.error().message);
  config.delay = *wait;
  return config;
}

}  // namespace hookstream::sink
