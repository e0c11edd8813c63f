#pragma once
// hookstream-sink's command line, validated into one struct.
#include <iosfwd>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "sink/response_policy.hpp"

namespace hookstream::sink {

struct SinkConfig {
  asio::ip::tcp::endpoint listen{asio::ip::make_address_v4("127.0.0.1"), 9000};
  std::vector<std::string> secrets;  // as given ("whsec_…"); empty: signatures are not checked
  ResponsePolicy response;
  Millis delay{0};
  bool hang = false;   // read each delivery, never answer it
  bool quiet = false;  // no line per delivery
  bool json = false;   // one JSON object per delivery instead of a human line
};

// Parses and validates argv. The error is the exit code once the message (naming the flag) or
// the help text has been written: 2 for bad usage, 0 for --help.
Result<SinkConfig, int> parse_sink_args(int argc, const char* const* argv, std::ostream& out,
                                        std::ostream& err);

}  // namespace hookstream::sink
