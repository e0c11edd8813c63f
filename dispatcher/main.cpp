#include "dispatcher/app.hpp"

int main(int argc, char** argv) {
  return hookstream::dispatcher::dispatcher_main(argc, argv);
}
