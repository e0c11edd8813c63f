#pragma once
#include "dispatcher/config.hpp"

namespace hookstream::dispatcher {

// Runs a dispatcher in the foreground until SIGTERM/SIGINT; returns the exit code.
int run(const DispatcherConfig& config);

int dispatcher_main(int argc, char** argv);

}  // namespace hookstream::dispatcher
