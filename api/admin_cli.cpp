#include <CLI/CLI.hpp>

#include <iostream>

#include "api/app.hpp"
#include "api/services.hpp"
#include "common/log.hpp"

namespace hookstream::api {
namespace {

using nlohmann::json;

json key_json(const store::ApiKey& k) {
  auto out = api_key_json(k);
  out["tenant"] = k.tenant;
  return out;
}

// Runs one store operation to completion on a private io_context (admin commands are one-shot).
template <typename F>
auto run_once(const RedisConfig& redis_config, F&& f) {
  asio::io_context io;
  redis::Client redis(io.get_executor(), redis_config);
  using R = typename std::invoke_result_t<F, redis::Client&>::value_type;
  std::optional<R> out;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        out.emplace(co_await f(redis));
        redis.disconnect();
      },
      asio::detached);
  io.run();
  return std::move(*out);
}

struct KeyFlags {
  std::string tenant;
  std::string scopes;
  std::optional<std::int64_t> rate_limit;
  std::optional<std::string> expires_in;
  std::string name;
  std::string id;
  bool json_output = false;
};

int keys_create(const ApiConfig& config, const KeyFlags& f) {
  SystemClock clock;
  SecureRandom random;
  store::NewApiKey k;
  k.tenant = f.tenant;
  k.name = f.name;
  k.rate_limit = f.rate_limit;
  if (auto ok = validate_tenant_id(f.tenant); !ok) {
    std::cerr << "hookstream-api: --tenant: " << ok.error().message << '\n';
    return 2;
  }
  std::string_view rest = f.scopes;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto name = rest.substr(0, comma);
    const auto scope = store::parse_scope(name);
    if (!scope) {
      std::cerr << "hookstream-api: --scopes: unknown scope '" << name << "' ("
                << store::scope_list() << ")\n";
      return 2;
    }
    k.scopes.push_back(*scope);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (k.scopes.empty()) {
    std::cerr << "hookstream-api: --scopes needs at least one scope\n";
    return 2;
  }
  if (f.expires_in) {
    auto d = parse_duration(*f.expires_in);
    if (!d || d->count() <= 0) {
      std::cerr << "hookstream-api: --expires-in: expected a positive duration such as 30d\n";
      return 2;
    }
    k.expires_at = clock.now() + *d;
  }
  auto created = run_once(config.redis, [&](redis::Client& redis) {
    return [](redis::Client& r, const Clock& c, Random& rnd, store::NewApiKey key)
               -> asio::awaitable<Result<store::CreatedApiKey, store::StoreError>> {
      store::ApiKeyStore keys(r, c, rnd);
      co_return co_await keys.create(std::move(key));
    }(redis, clock, random, k);
  });
  if (!created) {
    std::cerr << "hookstream-api: cannot create the key: " << created.error().message << '\n';
    return 1;
  }
  if (f.json_output) {
    auto j = key_json(created->key);
    j["key"] = created->secret;
    std::cout << j.dump() << '\n';
  } else {
    std::cout << created->secret << '\n';
    std::cerr << "API key " << created->key.id << " for tenant " << created->key.tenant
              << " (shown once: store it now)\n";
  }
  return 0;
}

int keys_list(const ApiConfig& config, const KeyFlags& f) {
  SystemClock clock;
  SecureRandom random;
  auto listed = run_once(config.redis, [&](redis::Client& redis) {
    return [](redis::Client& r, const Clock& c, Random& rnd, std::string tenant)
               -> asio::awaitable<Result<std::vector<store::ApiKey>, store::StoreError>> {
      store::ApiKeyStore keys(r, c, rnd);
      co_return co_await keys.list(tenant);
    }(redis, clock, random, f.tenant);
  });
  if (!listed) {
    std::cerr << "hookstream-api: cannot list keys: " << listed.error().message << '\n';
    return 1;
  }
  for (const auto& k : *listed) std::cout << key_json(k).dump() << '\n';
  return 0;
}

int keys_revoke(const ApiConfig& config, const KeyFlags& f) {
  SystemClock clock;
  SecureRandom random;
  auto revoked = run_once(config.redis, [&](redis::Client& redis) {
    return [](redis::Client& r, const Clock& c, Random& rnd,
              std::string id) -> asio::awaitable<Result<store::ApiKey, store::StoreError>> {
      store::ApiKeyStore keys(r, c, rnd);
      co_return co_await keys.revoke(std::nullopt, id);
    }(redis, clock, random, f.id);
  });
  if (!revoked) {
    std::cerr << "hookstream-api: cannot revoke " << f.id << ": " << revoked.error().message
              << '\n';
    return revoked.error().code == store::StoreErrc::not_found ? 2 : 1;
  }
  std::cerr << "revoked " << f.id << " (other API replicas stop accepting it within "
            << config.key_cache_ttl.count() / 1000 << " s)\n";
  return 0;
}

// Reseals every webhook secret under the first key of HOOKSTREAM_SECRET_KEYS: the step that
// finishes a key rotation and encrypts values written before encryption at rest.
int secrets_reseal(const ApiConfig& config) {
  SystemClock clock;
  SecureRandom random;
  auto report = run_once(config.redis, [&](redis::Client& redis) {
    return [](redis::Client& r, const Clock& c, Random& rnd, const SecretKeyring& ring)
               -> asio::awaitable<Result<store::ResealReport, store::StoreError>> {
      store::WebhookStore webhooks(r, c, rnd, ring);
      co_return co_await webhooks.reseal_all();
    }(redis, clock, random, config.secret_keys);
  });
  if (!report) {
    std::cerr << "hookstream-api: cannot reseal secrets: " << report.error().message << '\n';
    return 1;
  }
  std::cout << json{{"key_id", config.secret_keys.current().id},
                    {"resealed", report->resealed},
                    {"plaintext_encrypted", report->plaintext},
                    {"already_current", report->already_current},
                    {"failed", report->failed}}
                   .dump()
            << '\n';
  if (report->failed > 0)
    std::cerr << "hookstream-api: " << report->failed
              << " secrets did not open with any key in HOOKSTREAM_SECRET_KEYS (see the log); "
                 "keep the old keys listed until this reports 0\n";
  return report->failed > 0 ? 1 : 0;
}

}  // namespace

int api_main(int argc, char** argv) {
  CLI::App app{"hookstream-api: the REST API (serve, the default) and API key administration",
               "hookstream-api"};
  std::optional<std::string> config_file;
  app.add_option("--config", config_file, "config file of HOOKSTREAM_* settings");
  auto* serve = app.add_subcommand("serve", "serve the REST API (the default)");
  auto* keys = app.add_subcommand("keys", "manage API keys");
  keys->require_subcommand(1);
  KeyFlags f;
  auto* create = keys->add_subcommand("create", "create a key and print it (shown once)");
  create->add_option("--tenant", f.tenant, "tenant the key belongs to")->required();
  create
      ->add_option("--scopes", f.scopes,
                   "comma-separated: webhooks:read,webhooks:write,events:write,keys:manage,"
                   "portal:create")
      ->required();
  create
      ->add_option("--rate-limit", f.rate_limit, "requests per minute (default: the deployment's)")
      ->check(CLI::Range(1, 1'000'000));
  create->add_option("--expires-in", f.expires_in, "lifetime, e.g. 30d or 12h");
  create->add_option("--name", f.name, "a name to recognise the key by");
  create->add_flag("--json", f.json_output, "print one JSON object with the key and its record");
  auto* list = keys->add_subcommand("list", "list a tenant's keys (no secrets)");
  list->add_option("--tenant", f.tenant, "tenant")->required();
  auto* revoke = keys->add_subcommand("revoke", "revoke a key by id");
  revoke->add_option("id", f.id, "key id (key_…)")->required();
  auto* secrets = app.add_subcommand("secrets", "webhook signing secrets at rest");
  secrets->require_subcommand(1);
  auto* reseal = secrets->add_subcommand(
      "reseal",
      "re-encrypt every webhook secret under the first HOOKSTREAM_SECRET_KEYS key (finishes a key "
      "rotation; encrypts plaintext values from before encryption at rest)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  auto source = ConfigSource::for_process(config_file);
  if (!source) {
    std::cerr << "hookstream-api: " << source.error().message << '\n';
    return 2;
  }
  auto config = load_api_config(*source, keys->parsed() ? NeedsKeyring::no : NeedsKeyring::yes);
  if (!config) {
    std::cerr << "hookstream-api: " << config.error().message << '\n';
    return 2;
  }
  const bool admin = keys->parsed() || secrets->parsed();
  log::init("api", admin ? log::Level::warn : config->log.level);
  if (reseal->parsed()) return secrets_reseal(*config);
  if (admin) {
    if (create->parsed()) return keys_create(*config, f);
    if (list->parsed()) return keys_list(*config, f);
    return keys_revoke(*config, f);
  }
  (void)serve;
  return run_server(*config);
}

}  // namespace hookstream::api
