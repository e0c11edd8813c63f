#pragma once
// hookstream-api: wires config, Redis, Kafka, stores and routes, and serves until SIGTERM.
#include "api/config.hpp"
#include "api/http_server.hpp"
#include "api/router.hpp"
#include "api/services.hpp"

namespace hookstream::api {

// Answers one request: target parsing, routing, authentication, rate limiting, scopes, handler.
asio::awaitable<Response> handle_request(const Router& router, Services& services, Request& req);

// Builds the full route table.
Router make_router();

// Runs the server in the foreground; returns the process exit code.
int run_server(const ApiConfig& config);

// The admin CLI and the server: `hookstream-api [serve]`, `hookstream-api keys …`.
int api_main(int argc, char** argv);

}  // namespace hookstream::api
