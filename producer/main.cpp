#include <iostream>

#include "producer/cli.hpp"

int main(int argc, char** argv) {
  return hookstream::run_produce_cli(argc, argv, std::cin, std::cout, std::cerr);
}
