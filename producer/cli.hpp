#pragma once
#include <istream>
#include <ostream>

namespace hookstream {

// hookstream-produce: one event from flags, or NDJSON on stdin (one event a line).
// Exit status: 0 every event published; 1 some line or publish failed; 2 bad usage or config.
int run_produce_cli(int argc, char** argv, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace hookstream
