#include "api/app.hpp"

int main(int argc, char** argv) {
  return hookstream::api::api_main(argc, argv);
}
