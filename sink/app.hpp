#pragma once
#include "sink/config.hpp"

namespace hookstream::sink {

// Serves until SIGINT/SIGTERM; returns the exit code (0 after a signal, 1 if it cannot listen).
int run(const SinkConfig& config);
int sink_main(int argc, char** argv);

}  // namespace hookstream::sink
