#pragma once
// Names the calling thread, so that `top -H`, `perf` and gdb tell a dispatcher's shards, its
// consumer and librdkafka's threads apart. Linux keeps 15 characters; longer names are cut.
#include <string>

namespace hookstream {

void name_this_thread(std::string name);

}  // namespace hookstream
