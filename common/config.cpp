#include "common/config.hpp"

#include <charconv>
#include <fstream>

#include "common/event.hpp"

extern char** environ;

namespace hookstream {
namespace {

constexpr std::string_view kPrefix = "HOOKSTREAM_";
constexpr std::string_view kRdkafkaPrefix = "HOOKSTREAM_RDKAFKA_";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string unquote(std::string_view v) {
  if (v.size() >= 2 &&
      ((v.front() == '"' && v.back() == '"') || (v.front() == '\'' && v.back() == '\'')))
    v = v.substr(1, v.size() - 2);
  return std::string(v);
}

template <typename T>
bool parse_int(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

Result<ConfigSource> ConfigSource::load(const std::optional<std::filesystem::path>& file,
                                        const char* const* env) {
  ConfigSource src;
  if (file) {
    std::ifstream in(*file);
    if (!in) return fail("config_file", "cannot read config file " + file->string());
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
      ++lineno;
      auto t = trim(line);
      if (t.empty() || t.front() == '#') continue;
      if (t.starts_with("export ")) t = trim(t.substr(7));
      const auto eq = t.find('=');
      if (eq == std::string_view::npos)
        return fail("config_file",
                    file->string() + ":" + std::to_string(lineno) + ": expected NAME=value");
      std::string name(trim(t.substr(0, eq)));
      if (!name.starts_with(kPrefix))
        return fail("config_file", file->string() + ":" + std::to_string(lineno) + ": '" + name +
                                       "' does not start with HOOKSTREAM_");
      src.file_names_.insert(name);
      src.values_[name] = unquote(trim(t.substr(eq + 1)));
    }
  }
  for (auto e = env; e && *e; ++e) {
    std::string_view kv(*e);
    if (!kv.starts_with(kPrefix)) continue;
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    src.values_[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  return src;
}

Result<ConfigSource> ConfigSource::for_process(const std::optional<std::string>& config_flag) {
  std::optional<std::filesystem::path> path;
  if (config_flag)
    path = *config_flag;
  else if (const char* p = std::getenv("HOOKSTREAM_CONFIG"))
    path = p;
  return load(path, environ);
}

ConfigSource ConfigSource::from_map(std::map<std::string, std::string> values) {
  ConfigSource src;
  for (auto& [k, v] : values) src.values_[k] = std::move(v);
  return src;
}

std::optional<std::string> ConfigSource::get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, std::string> ConfigSource::with_prefix(std::string_view prefix) const {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : values_)
    if (k.starts_with(prefix)) out[k.substr(prefix.size())] = v;
  return out;
}

void ConfigReader::problem(std::string_view name, std::string_view message) {
  problems_.push_back(std::string(name) + ": " + std::string(message));
}

std::string ConfigReader::string(std::string_view name, std::string_view fallback) {
  return source_.get(name).value_or(std::string(fallback));
}

bool ConfigReader::boolean(std::string_view name, bool fallback) {
  const auto v = source_.get(name);
  if (!v) return fallback;
  if (*v == "true" || *v == "1" || *v == "yes" || *v == "on") return true;
  if (*v == "false" || *v == "0" || *v == "no" || *v == "off") return false;
  problem(name, "'" + *v + "' is not a boolean (true or false)");
  return fallback;
}

std::int64_t ConfigReader::integer(std::string_view name, std::int64_t fallback, std::int64_t min,
                                   std::int64_t max) {
  const auto v = source_.get(name);
  if (!v) return fallback;
  std::int64_t n = 0;
  if (!parse_int(trim(*v), n) || n < min || n > max) {
    problem(name, "'" + *v + "' is not an integer between " + std::to_string(min) + " and " +
                      std::to_string(max));
    return fallback;
  }
  return n;
}

Millis ConfigReader::duration(std::string_view name, Millis fallback) {
  const auto v = source_.get(name);
  if (!v) return fallback;
  auto d = parse_duration(trim(*v));
  if (!d) {
    problem(name, d.error().message);
    return fallback;
  }
  return *d;
}

std::vector<Millis> ConfigReader::duration_list(std::string_view name, std::string_view fallback) {
  const auto v = source_.get(name);
  auto d = parse_duration_list(v ? std::string_view(*v) : fallback);
  if (!d) {
    problem(name, d.error().message);
    return *parse_duration_list(fallback);
  }
  return *d;
}

std::vector<std::string> ConfigReader::list(std::string_view name, std::string_view fallback) {
  const auto v = source_.get(name);
  std::string_view text = v ? std::string_view(*v) : fallback;
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = trim(text.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::size_t ConfigReader::bytes(std::string_view name, std::size_t fallback, std::size_t min,
                                std::size_t max) {
  const auto v = source_.get(name);
  if (!v) return fallback;
  std::string_view t = trim(*v);
  std::size_t scale = 1;
  for (auto [suffix, mult] :
       {std::pair<std::string_view, std::size_t>{"KiB", 1024}, {"MiB", 1024 * 1024}, {"B", 1}}) {
    if (t.ends_with(suffix)) {
      t.remove_suffix(suffix.size());
      scale = mult;
      break;
    }
  }
  std::size_t n = 0;
  if (!parse_int(t, n) || n * scale < min || n * scale > max) {
    problem(name, "'" + *v + "' is not a size between " + std::to_string(min) + " and " +
                      std::to_string(max) + " bytes (e.g. 262144, 256KiB, 1MiB)");
    return fallback;
  }
  return n * scale;
}

Result<void> ConfigReader::finish() const {
  std::vector<std::string> all = problems_;
  const auto& known = known_config_names();
  for (const auto& name : source_.file_names())
    if (!known.contains(name) && !name.starts_with(kRdkafkaPrefix))
      all.push_back(name + ": unknown setting in the config file");
  if (all.empty()) return {};
  std::string msg = "invalid configuration:";
  for (const auto& p : all) msg += "\n  " + p;
  return fail("invalid_config", msg);
}

std::string RedisConfig::redacted_url() const {
  return "redis://" + (password.empty() ? std::string() : std::string("***@")) + host + ":" +
         std::to_string(port) + "/" + std::to_string(db);
}

Result<RedisConfig> parse_redis_url(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return fail("invalid_redis_url", "'" + std::string(url) + "' is not a Redis URL (" +
                                         std::string(why) +
                                         "); expected redis://[[user]:password@]host[:port][/db]");
  };
  constexpr std::string_view scheme = "redis://";
  if (!url.starts_with(scheme)) return bad("scheme must be redis://");
  RedisConfig cfg;
  cfg.url = std::string(url);
  std::string_view rest = url.substr(scheme.size());
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      cfg.password = std::string(userinfo);
    } else {
      cfg.username = std::string(userinfo.substr(0, colon));
      cfg.password = std::string(userinfo.substr(colon + 1));
    }
    rest = rest.substr(at + 1);
  }
  const auto slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    const auto dbtext = rest.substr(slash + 1);
    if (!dbtext.empty() && (!parse_int(dbtext, cfg.db) || cfg.db < 0 || cfg.db > 15))
      return bad("database must be 0-15");
  }
  if (const auto colon = hostport.rfind(':');
      colon != std::string_view::npos && hostport.find(']') == std::string_view::npos) {
    if (!parse_int(hostport.substr(colon + 1), cfg.port) || cfg.port == 0) return bad("bad port");
    hostport = hostport.substr(0, colon);
  } else if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':' || !parse_int(hostport.substr(close + 2), cfg.port))
        return bad("bad port");
    }
    hostport = hostport.substr(1, close - 1);
  }
  if (hostport.empty()) return bad("host missing");
  cfg.host = std::string(hostport);
  return cfg;
}

std::string KafkaConfig::retry_topic(Millis delay) const {
  return topic_prefix + ".retry." + format_duration(delay);
}

RedisConfig read_redis(ConfigReader& r) {
  const auto url = r.string("HOOKSTREAM_REDIS_URL", "redis://127.0.0.1:6379/0");
  auto parsed = parse_redis_url(url);
  RedisConfig cfg;
  if (parsed)
    cfg = *parsed;
  else
    r.problem("HOOKSTREAM_REDIS_URL", parsed.error().message);
  cfg.connect_timeout = r.duration("HOOKSTREAM_REDIS_CONNECT_TIMEOUT", Millis{2000});
  cfg.command_timeout = r.duration("HOOKSTREAM_REDIS_COMMAND_TIMEOUT", Millis{2000});
  return cfg;
}

KafkaConfig read_kafka(ConfigReader& r) {
  KafkaConfig cfg;
  cfg.brokers = r.string("HOOKSTREAM_KAFKA_BROKERS", "127.0.0.1:9092");
  if (cfg.brokers.empty()) r.problem("HOOKSTREAM_KAFKA_BROKERS", "must not be empty");
  cfg.topic_prefix = r.string("HOOKSTREAM_TOPIC_PREFIX", "hookstream");
  const bool prefix_ok =
      !cfg.topic_prefix.empty() && cfg.topic_prefix.size() <= 100 &&
      cfg.topic_prefix.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == std::string::npos;
  if (!prefix_ok)
    r.problem("HOOKSTREAM_TOPIC_PREFIX",
              "'" + cfg.topic_prefix + "' must be 1-100 characters of [A-Za-z0-9._-]");
  for (const auto& [name, value] : r.source().with_prefix("HOOKSTREAM_RDKAFKA_")) {
    std::string prop;
    for (char c : name) prop += c == '_' ? '.' : static_cast<char>(std::tolower(c));
    cfg.properties[prop] = value;
  }
  return cfg;
}

EventsConfig read_events(ConfigReader& r) {
  EventsConfig cfg;
  cfg.catalog = r.list("HOOKSTREAM_EVENT_TYPES", kDefaultEventTypes);
  for (const auto& t : cfg.catalog)
    if (auto ok = validate_event_type_syntax(t); !ok)
      r.problem("HOOKSTREAM_EVENT_TYPES", ok.error().message);
  if (cfg.catalog.empty()) r.problem("HOOKSTREAM_EVENT_TYPES", "must name at least one type");
  cfg.max_data_bytes =
      r.bytes("HOOKSTREAM_MAX_EVENT_BYTES", 256 * 1024, 16, std::size_t{4} * 1024 * 1024);
  return cfg;
}

LogConfig read_log(ConfigReader& r) {
  LogConfig cfg;
  const auto text = r.string("HOOKSTREAM_LOG_LEVEL", "info");
  if (auto lvl = log::parse_level(text))
    cfg.level = *lvl;
  else
    r.problem("HOOKSTREAM_LOG_LEVEL", lvl.error().message);
  return cfg;
}

std::vector<Millis> read_retry_schedule(ConfigReader& r) {
  auto schedule = r.duration_list("HOOKSTREAM_RETRY_SCHEDULE", "5s,30s,2m,10m,30m,1h,3h,6h,12h");
  for (const auto d : schedule)
    if (d.count() <= 0) r.problem("HOOKSTREAM_RETRY_SCHEDULE", "every delay must be positive");
  if (schedule.empty()) r.problem("HOOKSTREAM_RETRY_SCHEDULE", "must name a delay");
  if (schedule.size() > 50) r.problem("HOOKSTREAM_RETRY_SCHEDULE", "at most 50 retries");
  return schedule;
}

Millis read_delivery_timeout(ConfigReader& r) {
  const auto timeout = r.duration("HOOKSTREAM_DELIVERY_TIMEOUT", Millis{30'000});
  if (timeout < Millis{100} || timeout > Millis{300'000})
    r.problem("HOOKSTREAM_DELIVERY_TIMEOUT", "must be between 100ms and 5m");
  return timeout;
}

SecretKeyring read_secret_keys(ConfigReader& r) {
  constexpr std::string_view kName = "HOOKSTREAM_SECRET_KEYS";
  const auto text = r.source().get(kName);
  if (!text || text->empty()) {
    r.problem(kName,
              "is required: the keyring that encrypts webhook signing secrets in Redis, e.g. "
              "HOOKSTREAM_SECRET_KEYS=k1:$(openssl rand -base64 32) (docs/operations.md, "
              "\"Secrets at rest\")");
    return {};
  }
  auto ring = SecretKeyring::parse(*text);
  if (!ring) {
    // The message names the entry and what is wrong with it, never the key material.
    r.problem(kName, ring.error().message);
    return {};
  }
  return std::move(*ring);
}

const std::set<std::string, std::less<>>& known_config_names() {
  static const std::set<std::string, std::less<>> names = {
      "HOOKSTREAM_CONFIG",
      "HOOKSTREAM_REDIS_URL",
      "HOOKSTREAM_REDIS_CONNECT_TIMEOUT",
      "HOOKSTREAM_REDIS_COMMAND_TIMEOUT",
      "HOOKSTREAM_KAFKA_BROKERS",
      "HOOKSTREAM_TOPIC_PREFIX",
      "HOOKSTREAM_EVENT_TYPES",
      "HOOKSTREAM_MAX_EVENT_BYTES",
      "HOOKSTREAM_LOG_LEVEL",
      "HOOKSTREAM_API_LISTEN",
      "HOOKSTREAM_ALLOW_HTTP",
      "HOOKSTREAM_ALLOW_PRIVATE_TARGETS",
      "HOOKSTREAM_RETRY_SCHEDULE",
      "HOOKSTREAM_DELIVERY_TIMEOUT",
      "HOOKSTREAM_PAUSE_AFTER_FAILURES",
      "HOOKSTREAM_PRODUCE_TIMEOUT",
      "HOOKSTREAM_RATE_LIMIT",
      "HOOKSTREAM_API_KEY_CACHE_TTL",
      "HOOKSTREAM_MAX_WEBHOOKS_PER_TENANT",
      "HOOKSTREAM_API_IDLE_TIMEOUT",
      "HOOKSTREAM_API_REQUEST_TIMEOUT",
      "HOOKSTREAM_API_MAX_CONNECTIONS",
      "HOOKSTREAM_CA_FILE",
      "HOOKSTREAM_MAX_IN_FLIGHT",
      "HOOKSTREAM_MAX_IN_FLIGHT_PER_ENDPOINT",
      "HOOKSTREAM_MAX_QUEUED_PER_ENDPOINT",
      "HOOKSTREAM_ENDPOINT_STALL_AFTER",
      "HOOKSTREAM_MAX_PENDING_RECORDS",
      "HOOKSTREAM_MAX_PENDING_DELIVERIES",
      "HOOKSTREAM_DELIVERY_LOG_MAX_PER_WEBHOOK",
      "HOOKSTREAM_DELIVERY_LOG_RETENTION",
      "HOOKSTREAM_SUBSCRIPTION_REFRESH",
      "HOOKSTREAM_SHUTDOWN_GRACE",
      "HOOKSTREAM_DISPATCHER_LISTEN",
      "HOOKSTREAM_INSTANCE_ID",
      "HOOKSTREAM_SECRET_KEYS",
  };
  return names;
}

}  // namespace hookstream
