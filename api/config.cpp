#include "api/config.hpp"

#include "common/url.hpp"

namespace hookstream::api {

Result<std::string> parse_frame_ancestors(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto end = text.find_first_of(" ,", i);
    const auto source = text.substr(i, end == std::string_view::npos ? text.size() - i : end - i);
    i = end == std::string_view::npos ? text.size() : end + 1;
    if (source.empty()) continue;
    // 'self', or an http(s) origin whose host may start with "*." (CSP host-source).
    bool ok = source == "'self'";
    if (!ok && (source.starts_with("https://") || source.starts_with("http://"))) {
      const auto host = source.substr(source.find("://") + 3);
      ok = !host.empty() &&
           host.find_first_not_of(
               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:*") ==
               std::string_view::npos &&
           host.find('*', host.starts_with("*.") ? 1 : 0) == std::string_view::npos;
    }
    if (!ok)
      return fail("bad_frame_ancestor",
                  "'" + std::string(source) +
                      "' is not 'self' or an origin such as https://app.example.com");
    out += (out.empty() ? "" : " ") + std::string(source);
  }
  return out.empty() ? std::string("'none'") : out;
}

Result<ApiConfig> load_api_config(const ConfigSource& source, NeedsKeyring keyring) {
  ConfigReader r(source);
  ApiConfig cfg;
  cfg.redis = read_redis(r);
  cfg.kafka = read_kafka(r);
  cfg.events = read_events(r);
  cfg.log = read_log(r);
  if (keyring == NeedsKeyring::yes) cfg.secret_keys = read_secret_keys(r);
  const auto listen = r.string("HOOKSTREAM_API_LISTEN", "127.0.0.1:8080");
  if (auto ep = parse_listen_address(listen))
    cfg.listen = *ep;
  else
    r.problem("HOOKSTREAM_API_LISTEN", ep.error().message);
  cfg.allow_http = r.boolean("HOOKSTREAM_ALLOW_HTTP", false);
  cfg.allow_private_targets = r.boolean("HOOKSTREAM_ALLOW_PRIVATE_TARGETS", false);
  cfg.default_rate_limit = r.integer("HOOKSTREAM_RATE_LIMIT", 100, 1, 1'000'000);
  cfg.key_cache_ttl = r.duration("HOOKSTREAM_API_KEY_CACHE_TTL", Millis{30'000});
  if (cfg.key_cache_ttl > Millis{60'000})
    r.problem("HOOKSTREAM_API_KEY_CACHE_TTL",
              "must be at most 60s (revocation must apply within 60 s)");
  cfg.publish_timeout = r.duration("HOOKSTREAM_PRODUCE_TIMEOUT", Millis{10'000});
  cfg.delivery_timeout = read_delivery_timeout(r);
  cfg.max_webhooks_per_tenant =
      static_cast<std::size_t>(r.integer("HOOKSTREAM_MAX_WEBHOOKS_PER_TENANT", 1000, 1, 1'000'000));
  cfg.retry_schedule = read_retry_schedule(r);
  if (auto ca = r.string("HOOKSTREAM_CA_FILE", ""); !ca.empty()) cfg.extra_ca_file = ca;
  cfg.portal_url = r.string("HOOKSTREAM_PORTAL_URL", "");
  if (auto ancestors = parse_frame_ancestors(r.string("HOOKSTREAM_PORTAL_FRAME_ANCESTORS", "")))
    cfg.portal_frame_ancestors = *ancestors;
  else
    r.problem("HOOKSTREAM_PORTAL_FRAME_ANCESTORS", ancestors.error().message);
  if (!cfg.portal_url.empty()) {
    if (auto url = parse_url(cfg.portal_url); !url)
      r.problem("HOOKSTREAM_PORTAL_URL", url.error().message);
    else if (!cfg.portal_url.ends_with("/"))
      r.problem("HOOKSTREAM_PORTAL_URL",
                "must end with \"/\" (e.g. https://hooks.example.com/portal/)");
  }
  // The body limit leaves room for the JSON around the largest allowed event data.
  cfg.http.body_limit = cfg.events.max_data_bytes + 64 * 1024;
  cfg.http.idle_timeout = r.duration("HOOKSTREAM_API_IDLE_TIMEOUT", Millis{60'000});
  cfg.http.request_timeout = r.duration("HOOKSTREAM_API_REQUEST_TIMEOUT", Millis{10'000});
  cfg.http.max_connections =
      static_cast<std::size_t>(r.integer("HOOKSTREAM_API_MAX_CONNECTIONS", 10'000, 1, 1'000'000));
  if (auto ok = r.finish(); !ok) return fail(std::move(ok).error());
  return cfg;
}

}  // namespace hookstream::api
