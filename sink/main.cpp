#include "sink/app.hpp"

int main(int argc, char** argv) {
  return hookstream::sink::sink_main(argc, argv);
}
