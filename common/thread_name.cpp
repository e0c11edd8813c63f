#include "common/thread_name.hpp"

#include <pthread.h>

namespace hookstream {

void name_this_thread(std::string name) {
  if (name.size() > 15) name.resize(15);
  (void)pthread_setname_np(pthread_self(), name.c_str());
}

}  // namespace hookstream
