#pragma once
#include <string_view>

namespace hookstream::api {

// api/openapi.json, compiled in (served at /v1/openapi.json).
std::string_view openapi_document();

}  // namespace hookstream::api
