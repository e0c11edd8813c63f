#pragma once
// The API speaks HTTP through the shared server in common/http/server.hpp; within the API,
// `http::` means Beast's HTTP types.
#include "common/http/server.hpp"

namespace hookstream::api {

namespace beast = boost::beast;
namespace http = beast::http;
using hookstream::http::HttpServer;
using hookstream::http::HttpServerLimits;
using hookstream::http::parse_listen_address;
using hookstream::http::Request;
using hookstream::http::Response;

}  // namespace hookstream::api
