// Prints hookstream-api's route table, one JSON object a line, so tests/openapi/validate.mjs can
// compare it with api/openapi.json without starting the server:
//   {"method":"GET","path":"/v1/webhooks/{id}","access":"scoped","scope":"webhooks:read"}
// "access" is open, any_key or scoped; "scope" is null unless access is scoped.
#include <nlohmann/json.hpp>

#include <iostream>
#include <string>

#include "api/app.hpp"

namespace {

using hookstream::api::Access;
using Json = nlohmann::ordered_json;  // keeps the fields in the order above

std::string access_name(Access a) {
  switch (a) {
    case Access::open:
      return "open";
    case Access::any_key:
      return "any_key";
    case Access::scoped:
      return "scoped";
  }
  return "unknown";
}

}  // namespace

int main() {
  const auto router = hookstream::api::make_router();
  for (const auto& r : router.routes()) {
    Json line;
    line["method"] = std::string(hookstream::api::http::to_string(r.method));
    line["path"] = r.pattern;
    line["access"] = access_name(r.access);
    line["scope"] =
        r.scope ? Json(std::string(hookstream::store::to_string(*r.scope))) : Json(nullptr);
    std::cout << line.dump() << '\n';
  }
  std::cout.flush();
  return std::cout.good() ? 0 : 1;
}
