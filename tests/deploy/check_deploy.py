#!/usr/bin/python3
"""Checks compose.yaml and the Dockerfile against the code, so the deployment cannot rot.

compose.yaml: valid for docker-compose; the services exist and are wired (health, set-up before
the services, replicas); Kafka is three KRaft brokers (combined broker+controller, node ids 1..3,
one quorum of all three, replication factor 3, min.insync.replicas 2, no topic auto-creation, a
volume and a loopback-only host port each) on the image whose version the `x-kafka-image` line
pins for the whole project; every HOOKSTREAM_* setting is one the code accepts (the dispatcher's
own config loader judges, via a config file: it refuses unknown names); the set-up step runs
`hookstream-dispatcher topics --create` (replication factor 3, min.insync.replicas=2) with the
dispatcher's settings, so it creates the topics the dispatcher uses, which are the code's defaults;
every service reaches all three brokers; each secret is required; the long-running services have
health checks and restart policies; three dispatcher replicas get time to drain on SIGTERM; the
API listens on the port compose publishes.

Dockerfile: the runtime stage installs (directly or as a dependency) the Debian package of every
shared library `ldd` reports for the built binaries; every package named exists in Debian 12; the
build stage installs only packages from scripts/deps.txt.

Usage: check_deploy.py --source-dir DIR --bin-dir DIR
"""
import argparse
import os
import re
import shlex
import sys
import tempfile

import yaml

from check_dockerfile import check_dockerfile
from deploy_report import indent, problem, problems, run

# Services compose.yaml must define, by role.
REDIS, TOPICS, API, DISPATCHER = "redis", "kafka-topics", "api", "dispatcher"
# The Kafka brokers (each a KRaft broker+controller), with their node ids (SPEC §1: 3 brokers,
# replication factor 3, min.insync.replicas=2).
BROKERS = {"kafka-1": 1, "kafka-2": 2, "kafka-3": 3}
REPLICATION_FACTOR, MIN_INSYNC_REPLICAS = 3, 2
# The line that pins the Kafka version for the whole project; scripts/lib.sh reads it with
#   sed -n 's/^x-kafka-image: &kafka-image apache\/kafka:\([0-9.]*\)$/\1/p' compose.yaml
KAFKA_IMAGE_LINE = re.compile(r"^x-kafka-image: &kafka-image apache/kafka:([0-9.]*)$")
# Broker settings every broker must have, with the value (as compose prints it).
BROKER_SETTINGS = {
    "KAFKA_DEFAULT_REPLICATION_FACTOR": str(REPLICATION_FACTOR),
    "KAFKA_MIN_INSYNC_REPLICAS": str(MIN_INSYNC_REPLICAS),
    "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": str(REPLICATION_FACTOR),
    "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": str(REPLICATION_FACTOR),
    "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": str(MIN_INSYNC_REPLICAS),
}
# Settings that decide which topics exist and where: the set-up step must use the dispatcher's.
TOPIC_SETTINGS = ("HOOKSTREAM_KAFKA_BROKERS", "HOOKSTREAM_TOPIC_PREFIX", "HOOKSTREAM_RETRY_SCHEDULE")
# compose.yaml requires these (${NAME:?…}); the keyring must be well-formed, since the binaries
# validate the settings compose resolves.
SECRETS = {"REDIS_PASSWORD": "check-deploy-password",
           "HOOKSTREAM_SECRET_KEYS": "check:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}

def clean_env():
    """This process's environment without anything that would change what compose or the
    binaries read: HOOKSTREAM_* settings, compose's own variables, compose's secrets."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HOOKSTREAM_", "COMPOSE_", "DOCKER_")) and k not in SECRETS
           and k != "KAFKA_CLUSTER_ID"}
    env["LC_ALL"] = "C.UTF-8"
    return env


# ---------------------------------------------------------------------------------------------
# compose.yaml

def compose_config(source_dir, empty_env_file):
    """Validates compose.yaml and returns its normalized form, or None."""
    base = ["docker-compose", "--env-file", empty_env_file, "-f",
            os.path.join(source_dir, "compose.yaml")]
    try:
        without_secret = run(base + ["config", "-q"], env=clean_env())
    except FileNotFoundError:
        problem("docker-compose is not installed (it is in scripts/deps.txt: apt-get install "
                "docker-compose)")
        return None
    if without_secret.returncode == 0:
        problem("compose.yaml: `docker-compose config` succeeds without its secrets")
    # Each one on its own: another missing secret must not hide that this one is optional.
    for name in SECRETS:
        others = {k: v for k, v in SECRETS.items() if k != name}
        if run(base + ["config", "-q"], env=clean_env() | others).returncode == 0:
            problem(f"compose.yaml: `docker-compose config` succeeds without {name}; it must be "
                    f"required (${{{name}:?message}})")
    env = clean_env() | SECRETS
    quiet = run(base + ["config", "-q"], env=env)
    if quiet.returncode != 0:
        problem("compose.yaml: `docker-compose config -q` failed:\n" + indent(quiet.stderr.strip()))
        return None
    full = run(base + ["config"], env=env)
    if full.returncode != 0:
        problem("compose.yaml: `docker-compose config` failed:\n" + indent(full.stderr.strip()))
        return None
    return yaml.safe_load(full.stdout)


def environment(service):
    env = service.get("environment") or {}
    if isinstance(env, list):  # KEY=VALUE list form
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {k: ("" if v is None else str(v)) for k, v in env.items()}


def check_services(services, source_dir):
    for name in (REDIS, TOPICS, API, DISPATCHER):
        if name not in services:
            problem(f"compose.yaml: no service '{name}' (expected: {', '.join(BROKERS)}, {REDIS}, "
                    f"{TOPICS}, {API}, {DISPATCHER})")
    check_kafka(services, source_dir)
    if REDIS in services:
        redis = services[REDIS]
        command = redis.get("command") or []
        command = command if isinstance(command, list) else shlex.split(command)
        if "--appendonly" not in command or command[command.index("--appendonly") + 1] != "yes":
            problem(f"compose.yaml: service '{REDIS}' does not run with --appendonly yes")
        for key in ("healthcheck", "volumes", "restart"):
            if not redis.get(key):
                problem(f"compose.yaml: service '{REDIS}' has no {key}")
    for name in (API, DISPATCHER):
        if name not in services:
            continue
        service = services[name]
        depends = service.get("depends_on") or {}
        wanted = {broker: "service_healthy" for broker in BROKERS}
        wanted |= {REDIS: "service_healthy", TOPICS: "service_completed_successfully"}
        check_depends(name, service, wanted)
        if not service.get("build"):
            problem(f"compose.yaml: service '{name}' is not built from the repository (build: .)")
        if not service.get("restart"):
            problem(f"compose.yaml: service '{name}' has no restart policy")
    if DISPATCHER in services:
        check_dispatcher(services[DISPATCHER])
    if TOPICS in services:
        check_topics_service(services)
    check_broker_lists(services)


def check_depends(name, service, wanted):
    depends = service.get("depends_on") or {}
    for dep, condition in wanted.items():
        got = (depends.get(dep) or {}).get("condition") if isinstance(depends, dict) else None
        if got != condition:
            problem(f"compose.yaml: service '{name}' must depend on '{dep}' with condition "
                    f"{condition} (has {got!r})")


def kafka_image_version(source_dir):
    """The version on the `x-kafka-image` line, exactly as scripts/lib.sh's sed reads it."""
    with open(os.path.join(source_dir, "compose.yaml")) as f:
        versions = [m.group(1) for line in f if (m := KAFKA_IMAGE_LINE.match(line.rstrip("\n")))]
    if len(versions) != 1 or not re.fullmatch(r"\d+(\.\d+)+", versions[0]):
        problem("compose.yaml: expected exactly one line `x-kafka-image: &kafka-image "
                f"apache/kafka:<version>` (scripts/lib.sh reads the project's Kafka version from "
                f"it with sed), found {versions or 'none'}")
        return None
    return versions[0]


def volume_sources(service):
    out = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            out.append(str(entry.get("source") or ""))
        else:  # "source:target[:mode]"
            parts = str(entry).split(":")
            out.append(parts[0] if len(parts) >= 2 else "")
    return [v for v in out if v]


def published(ports):
    """[(host_ip, published, target)] of a service's published ports."""
    out = []
    for entry in ports or []:
        if isinstance(entry, dict):
            if entry.get("published") is not None:
                out.append((str(entry.get("host_ip") or ""), int(entry["published"]),
                            int(entry["target"])))
        else:  # "[ip:]published:target[/proto]"
            parts = str(entry).split("/")[0].split(":")
            if len(parts) == 3:
                out.append((parts[0], int(parts[1]), int(parts[2])))
            elif len(parts) == 2:
                out.append(("", int(parts[0]), int(parts[1])))
    return out


def listeners(value):
    """'NAME://host:port,…' -> {NAME: (host, port)}."""
    out = {}
    for item in filter(None, (v.strip() for v in value.split(","))):
        m = re.fullmatch(r"([A-Za-z_]+)://([^:,]*):(\d+)", item)
        if m:
            out[m.group(1)] = (m.group(2), int(m.group(3)))
    return out


def check_kafka(services, source_dir):
    version = kafka_image_version(source_dir)
    # A broker is any service running Kafka: a fourth broker, or the old single 'kafka', must not
    # slip in beside the three.
    found = sorted(name for name, service in services.items()
                   if str(service.get("image", "")).startswith("apache/kafka")
                   or "KAFKA_PROCESS_ROLES" in environment(service))
    if found != sorted(BROKERS):
        problem(f"compose.yaml: expected exactly the {len(BROKERS)} Kafka broker services "
                f"{', '.join(BROKERS)}, found {found or 'none'}")
    brokers = {name: services[name] for name in BROKERS if name in services}
    node_ids, voters_seen, cluster_ids, volumes, host_ports = {}, set(), set(), {}, {}
    for name, service in brokers.items():
        env = environment(service)
        image = str(service.get("image", ""))
        if version is not None and image != f"apache/kafka:{version}":
            problem(f"compose.yaml: service '{name}' runs image {image!r}, not "
                    f"'apache/kafka:{version}' from the x-kafka-image line (use image: "
                    "*kafka-image: one Kafka version for the whole project)")
        roles = {r.strip() for r in env.get("KAFKA_PROCESS_ROLES", "").split(",")}
        if roles != {"broker", "controller"}:
            problem(f"compose.yaml: service '{name}' is not a KRaft broker+controller "
                    f"(KAFKA_PROCESS_ROLES={env.get('KAFKA_PROCESS_ROLES')!r})")
        node_id = env.get("KAFKA_NODE_ID", "")
        if node_id != str(BROKERS[name]):
            problem(f"compose.yaml: service '{name}' has KAFKA_NODE_ID {node_id!r}, expected "
                    f"{BROKERS[name]}")
        node_ids.setdefault(node_id, []).append(name)
        voters = env.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "")
        voters_seen.add(voters)
        parsed = dict(v.split("@", 1) for v in voters.split(",") if "@" in v)
        want = {str(i): f"{broker}:9093" for broker, i in BROKERS.items()}
        if parsed != want or len(voters.split(",")) != len(BROKERS):
            problem(f"compose.yaml: service '{name}' has KAFKA_CONTROLLER_QUORUM_VOTERS "
                    f"{voters!r}; the quorum must be all three brokers: "
                    + ",".join(f"{i}@{hp}" for i, hp in want.items()))
        for key, value in BROKER_SETTINGS.items():
            if env.get(key) != value:
                problem(f"compose.yaml: service '{name}' has {key}={env.get(key, '(unset)')}, "
                        f"expected {value} (SPEC: replication factor {REPLICATION_FACTOR}, "
                        f"min.insync.replicas {MIN_INSYNC_REPLICAS})")
        auto_create = env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "true")
        if auto_create.lower() != "false":
            problem(f"compose.yaml: service '{name}' auto-creates topics "
                    f"(KAFKA_AUTO_CREATE_TOPICS_ENABLE={auto_create}); a misnamed topic must fail, "
                    "not appear with one partition")
        cluster_ids.add(env.get("CLUSTER_ID", ""))
        for key in ("healthcheck", "volumes"):
            if not service.get(key):
                problem(f"compose.yaml: service '{name}' has no {key}")
        if service.get("restart") not in ("always", "unless-stopped"):
            problem(f"compose.yaml: service '{name}' has restart {service.get('restart')!r}; a "
                    "broker must come back by itself (unless-stopped)")
        for source in volume_sources(service):
            volumes.setdefault(source, []).append(name)
        # Producers on the host: the HOST listener, published on loopback only and advertised as
        # localhost:<that port>.
        host = listeners(env.get("KAFKA_ADVERTISED_LISTENERS", "")).get("HOST")
        ports = published(service.get("ports"))
        if host is None or host[0] != "localhost":
            problem(f"compose.yaml: service '{name}' does not advertise a HOST listener as "
                    f"localhost:<port> (KAFKA_ADVERTISED_LISTENERS="
                    f"{env.get('KAFKA_ADVERTISED_LISTENERS')!r})")
        elif (("127.0.0.1", host[1], host[1]) not in ports
              or any(ip != "127.0.0.1" for ip, _, _ in ports)):
            problem(f"compose.yaml: service '{name}' must publish its HOST listener port "
                    f"{host[1]} on 127.0.0.1:{host[1]} only (has {service.get('ports')})")
        else:
            host_ports.setdefault(host[1], []).append(name)
    for node_id, names in node_ids.items():
        if len(names) > 1:
            problem(f"compose.yaml: services {', '.join(names)} share KAFKA_NODE_ID {node_id}")
    if len(voters_seen) > 1:
        problem("compose.yaml: the brokers disagree on KAFKA_CONTROLLER_QUORUM_VOTERS: "
                f"{sorted(voters_seen)}")
    if len(cluster_ids) > 1 or "" in cluster_ids:
        problem(f"compose.yaml: the brokers must share one non-empty CLUSTER_ID, have "
                f"{sorted(cluster_ids)}")
    for source, names in volumes.items():
        if len(names) > 1:
            problem(f"compose.yaml: services {', '.join(names)} share volume {source!r}; each "
                    "broker needs its own")
    for port, names in host_ports.items():
        if len(names) > 1:
            problem(f"compose.yaml: services {', '.join(names)} publish the same host port {port}")


def command_list(service):
    command = service.get("command") or []
    return [str(c) for c in command] if isinstance(command, list) else shlex.split(command)


def option_values(command, option):
    return [command[i + 1] for i, c in enumerate(command[:-1]) if c == option]


def check_topics_service(services):
    topics = services[TOPICS]
    command = command_list(topics)
    if command[:2] != ["hookstream-dispatcher", "topics"] or "--create" not in command:
        problem(f"compose.yaml: service '{TOPICS}' must run `hookstream-dispatcher topics "
                f"--create` (creates exactly the topics the code uses), not {command}")
    if option_values(command, "--replication-factor") != [str(REPLICATION_FACTOR)]:
        problem(f"compose.yaml: service '{TOPICS}' must create topics with --replication-factor "
                f"{REPLICATION_FACTOR} (has {option_values(command, '--replication-factor')})")
    configs = option_values(command, "--topic-config")
    if f"min.insync.replicas={MIN_INSYNC_REPLICAS}" not in configs:
        problem(f"compose.yaml: service '{TOPICS}' must create topics with --topic-config "
                f"min.insync.replicas={MIN_INSYNC_REPLICAS} (has {configs})")
    if topics.get("entrypoint"):
        problem(f"compose.yaml: service '{TOPICS}' overrides the entrypoint "
                f"({topics.get('entrypoint')}); it runs the hookstream image's command")
    if not topics.get("build"):
        problem(f"compose.yaml: service '{TOPICS}' is not built from the repository (build: .)")
    if API in services and topics.get("image") != services[API].get("image"):
        problem(f"compose.yaml: service '{TOPICS}' runs image {topics.get('image')!r}, not the "
                f"hookstream image of '{API}' ({services[API].get('image')!r})")
    if topics.get("restart", "no") not in ("no", "on-failure"):
        problem(f"compose.yaml: service '{TOPICS}' is one-shot; restart {topics.get('restart')!r} "
                "would run it again and again")
    check_depends(TOPICS, topics, {broker: "service_healthy" for broker in BROKERS})
    if DISPATCHER not in services:
        return
    # The set-up step must create the topics the dispatcher reads and writes: same settings.
    mine = {k: v for k, v in environment(topics).items() if k.startswith("HOOKSTREAM_")}
    theirs = {k: v for k, v in environment(services[DISPATCHER]).items()
              if k.startswith("HOOKSTREAM_")}
    for key in sorted(set(mine) | set(TOPIC_SETTINGS) | {k for k in theirs
                                                         if k.startswith("HOOKSTREAM_RDKAFKA_")}):
        if mine.get(key) != theirs.get(key):
            problem(f"compose.yaml: services '{TOPICS}' and '{DISPATCHER}' disagree on {key} "
                    f"({mine.get(key, '(unset)')!r} vs {theirs.get(key, '(unset)')!r}); the set-up "
                    "step must use the dispatcher's HOOKSTREAM_* settings (x-hookstream-env)")


def check_broker_lists(services):
    """Every hookstream service reaches all the brokers, through their INTERNAL listeners."""
    internal = set()
    for name in BROKERS:
        if name in services:
            env = environment(services[name])
            address = listeners(env.get("KAFKA_ADVERTISED_LISTENERS", "")).get(
                env.get("KAFKA_INTER_BROKER_LISTENER_NAME", "INTERNAL"))
            internal.add(f"{address[0]}:{address[1]}" if address else f"{name}:9092")
    for name, service in services.items():
        env = environment(service)
        if not any(k.startswith("HOOKSTREAM_") for k in env):
            continue
        value = env.get("HOOKSTREAM_KAFKA_BROKERS", "")
        listed = [b.strip() for b in value.split(",") if b.strip()]
        if sorted(listed) != sorted(internal):
            problem(f"compose.yaml: service '{name}' has HOOKSTREAM_KAFKA_BROKERS={value!r}; it "
                    f"must list every broker: {','.join(sorted(internal))}")


def seconds(duration):
    """Compose's and hookstream's durations ("30s", "1m30s", "20s") in seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", str(duration))
    if not parts or "".join(n + u for n, u in parts) != str(duration):
        return None
    return sum(float(n) * units[u] for n, u in parts)


def check_dispatcher(dispatcher):
    replicas = (dispatcher.get("deploy") or {}).get("replicas", 1)
    if int(replicas) != 3:
        problem(f"compose.yaml: service '{DISPATCHER}' has deploy.replicas {replicas}, not 3")
    env = environment(dispatcher)
    listen = env.get("HOOKSTREAM_DISPATCHER_LISTEN", "")
    port = listen.rpartition(":")[2]
    health = " ".join(map(str, (dispatcher.get("healthcheck") or {}).get("test") or []))
    if not port.isdigit() or "/healthz" not in health or port not in health:
        problem(f"compose.yaml: service '{DISPATCHER}' must serve HOOKSTREAM_DISPATCHER_LISTEN "
                f"(has {listen!r}) and its healthcheck probe /healthz on that port: {health!r}")
    # SIGTERM drains for HOOKSTREAM_SHUTDOWN_GRACE, then flushes the producer for up to 5 s.
    grace = seconds(env.get("HOOKSTREAM_SHUTDOWN_GRACE", "20s"))
    stop = seconds(dispatcher.get("stop_grace_period", "10s"))
    if grace is None or stop is None or stop < grace + 5:
        problem(f"compose.yaml: service '{DISPATCHER}' stop_grace_period "
                f"{dispatcher.get('stop_grace_period', '10s (default)')} is shorter than "
                "HOOKSTREAM_SHUTDOWN_GRACE + 5 s: SIGKILL would cut the drain")


def dispatcher_topics(bin_dir, service_name, settings):
    """Runs `hookstream-dispatcher --config FILE topics` with a service's HOOKSTREAM_* settings
    as the config file, which the loader validates (unknown names included). Returns the topic
    lines, or None."""
    with tempfile.NamedTemporaryFile("w", suffix=".env", delete=False) as f:
        for name, value in sorted(settings.items()):
            if "\n" in value:
                problem(f"compose.yaml: service '{service_name}': {name} holds a newline")
                return None
            f.write(f"{name}={value}\n")
        path = f.name
    try:
        result = run([os.path.join(bin_dir, "hookstream-dispatcher"), "--config", path, "topics"],
                     env=clean_env())
    finally:
        os.unlink(path)
    if result.returncode != 0:
        problem(f"compose.yaml: service '{service_name}': hookstream-dispatcher refuses its "
                f"HOOKSTREAM_* settings:\n" + indent(result.stderr.strip()))
        return None
    return [tuple(line.split()) for line in result.stdout.splitlines() if line.strip()]


def check_settings_and_topics(services, bin_dir):
    expected = {}
    for name, service in services.items():
        settings = {k: v for k, v in environment(service).items() if k.startswith("HOOKSTREAM_")}
        if settings:
            topics = dispatcher_topics(bin_dir, name, settings)
            if topics is not None:
                expected[name] = topics
    if TOPICS not in services:
        return
    if DISPATCHER not in expected:
        return  # reported above
    want = expected[DISPATCHER]
    # Services that publish with hookstream-produce or the producer library and no settings use
    # the code's defaults: compose's topics must be those.
    defaults = dispatcher_topics(bin_dir, "(none: the code's defaults)",
                                 {"HOOKSTREAM_SECRET_KEYS": SECRETS["HOOKSTREAM_SECRET_KEYS"]})
    if defaults is not None and defaults != want:
        problem(f"compose.yaml: the '{DISPATCHER}' topics differ from the code's defaults (a "
                f"producer left at its defaults would publish elsewhere):\n    compose: {want}\n"
                f"    defaults: {defaults}")
    if API in expected and expected[API] != want:
        problem(f"compose.yaml: services '{API}' and '{DISPATCHER}' disagree on the topics "
                f"(HOOKSTREAM_TOPIC_PREFIX / HOOKSTREAM_RETRY_SCHEDULE):\n    {API}: "
                f"{expected[API]}\n    {DISPATCHER}: {want}")
    # kafka-topics runs `hookstream-dispatcher topics --create` with its own settings: what it
    # creates is what `topics` prints for them, which must be what the dispatcher uses.
    if TOPICS in expected and expected[TOPICS] != want:
        problem(f"compose.yaml: service '{TOPICS}' would create other topics than the "
                f"'{DISPATCHER}' uses (HOOKSTREAM_TOPIC_PREFIX / HOOKSTREAM_RETRY_SCHEDULE):\n"
                f"    {TOPICS}: {expected[TOPICS]}\n    {DISPATCHER}: {want}")
    elif TOPICS not in expected and not any(
            k.startswith("HOOKSTREAM_") for k in environment(services[TOPICS])):
        problem(f"compose.yaml: service '{TOPICS}' has no HOOKSTREAM_* settings; it needs the "
                f"dispatcher's (x-hookstream-env) to create the dispatcher's topics")


def published_targets(ports):
    out = []
    for entry in ports or []:
        if isinstance(entry, dict):
            if entry.get("published") is not None:
                out.append(int(entry["target"]))
        else:  # "[ip:]published:target[/proto]"
            parts = str(entry).split("/")[0].split(":")
            if len(parts) >= 2:
                out.append(int(parts[-1]))
    return out


def check_api_port(services):
    if API not in services:
        return None
    api = services[API]
    listen = environment(api).get("HOOKSTREAM_API_LISTEN")
    if not listen:
        problem(f"compose.yaml: service '{API}' does not set HOOKSTREAM_API_LISTEN (the default "
                "127.0.0.1:8080 is unreachable from outside the container)")
        return None
    host, _, port_text = listen.rpartition(":")
    if host not in ("0.0.0.0", "[::]", "::"):
        problem(f"compose.yaml: HOOKSTREAM_API_LISTEN={listen} listens on {host}, unreachable "
                "through a published port; use 0.0.0.0")
    if not port_text.isdigit():
        problem(f"compose.yaml: HOOKSTREAM_API_LISTEN={listen} has no port")
        return None
    port = int(port_text)
    targets = published_targets(api.get("ports"))
    if port not in targets:
        problem(f"compose.yaml: service '{API}' listens on port {port} "
                f"(HOOKSTREAM_API_LISTEN) but publishes container port(s) {targets or 'none'}")
    health = " ".join(map(str, (api.get("healthcheck") or {}).get("test") or []))
    if not re.search(r"/(healthz|readyz)\b", health) or str(port) not in health:
        problem(f"compose.yaml: service '{API}' healthcheck must probe /healthz or /readyz on "
                f"port {port}: {health!r}")
    return port


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--bin-dir", required=True)
    args = parser.parse_args()

    with tempfile.NamedTemporaryFile("w", suffix=".env") as empty_env_file:
        config = compose_config(args.source_dir, empty_env_file.name)
    api_port = None
    if config is not None:
        services = config.get("services") or {}
        check_services(services, args.source_dir)
        if os.path.exists(os.path.join(args.bin_dir, "hookstream-dispatcher")):
            check_settings_and_topics(services, args.bin_dir)
        else:
            problem(f"{args.bin_dir}/hookstream-dispatcher does not exist; build it first")
        api_port = check_api_port(services)
    check_dockerfile(args.source_dir, args.bin_dir, api_port)

    if problems:
        print(f"FAILED: {len(problems)} problem(s) with the deployment files:", file=sys.stderr)
        for p in problems:
            print("  - " + p, file=sys.stderr)
        return 1
    print("compose.yaml and Dockerfile agree with the code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
