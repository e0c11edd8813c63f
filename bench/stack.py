"""The processes of a hookstream stack for tests and benchmarks: real binaries, real Redis, Apache
Kafka, hookstream-sink as the receiver.

Shared by bench/bench.py and tests/chaos/chaos.py, so both start the stack the same way. A stack's
Kafka is one of:
  - its own Apache Kafka (the default): scripts/kafka started in the stack's directory (one broker,
    or brokers=3 for a 3-node cluster with replication factor 3 and min.insync.replicas=2), stopped
    with the stack; the topics are created with `hookstream-dispatcher topics --create`;
  - a shared Apache Kafka (kafka=Kafka(...) that the caller started, as the bench does; or
    share_kafka=True, when HOOKSTREAM_TEST_KAFKA_BOOTSTRAP_FILE names the broker ctest started for
    the whole run): the stack gets a topic prefix (so a consumer group) of its own, creates its
    topics there, and leaves them when it stops;
  - librdkafka's mock cluster, hookstream-kafka-dev (mock_kafka=True, or kafka_control=True for
    fault commands on its stdin): only where Apache Kafka cannot do the job, injecting request
    errors into a broker or dropping a partition's oldest data (it keeps 5 MiB per partition).
"""
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

CLK_TCK = os.sysconf("SC_CLK_TCK")
EVENT_TYPE = "submission.completed"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS_KAFKA = os.path.join(ROOT, "scripts", "kafka")


def log(msg):
    print(f"==> {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, cond, timeout, proc=None, logfile=None):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: process exited ({proc.returncode}); see {logfile}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not done after {timeout} s" + (f"; see {logfile}" if logfile else ""))
        time.sleep(0.05)


def cpu_seconds(pid):
    """CPU of `pid` and of its children it has reaped: Redis forks to rewrite its append-only file
    (several times a run as the log grows), and that CPU is Redis's cost too."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / CLK_TCK  # utime, stime, cutime, cstime


def process_alive(pid):
    """True while `pid` runs (a zombie waiting for its parent counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def http_json(port, method, path, body=None, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        h = {"content-type": "application/json"} if data else {}
        h.update(headers or {})
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        text = r.read()
        return r.status, (json.loads(text) if text else None)
    finally:
        conn.close()


class Kafka:
    """Apache Kafka started with scripts/kafka in `data`: one broker, or a 3-node cluster; its log
    (scripts/kafka's stderr) in `logfile`."""

    def __init__(self, data, brokers=1, logfile=None):
        self.data, self.brokers = data, brokers
        self.logfile = logfile or data + ".log"
        self.bootstrap = None

    def start(self, env=None):
        """Starts it on free ports and returns the bootstrap address once every broker answers."""
        self.bootstrap = self._run("--port", "0", "--brokers", str(self.brokers), "--no-topics", "--detach",
                                   env=env)
        return self.bootstrap

    def _run(self, *args, env=None):
        with open(self.logfile, "a") as err:
            r = subprocess.run([SCRIPTS_KAFKA, "--data", self.data, *args], stdout=subprocess.PIPE, stderr=err,
                               text=True, env=env, timeout=300)
        if r.returncode:
            raise RuntimeError(f"scripts/kafka {' '.join(args)} failed; see {self.logfile}")
        return r.stdout.strip()

    def pid(self, node):
        """The JVM pid of node `node`, or None when it is not running."""
        try:
            with open(os.path.join(self.data, f"node-{node}", "pid")) as f:
                pid = int(f.read())
        except (OSError, ValueError):
            return None
        return pid if process_alive(pid) else None

    def pids(self):
        return [pid for pid in map(self.pid, range(1, self.brokers + 1)) if pid]

    def kill(self, node):
        """kill -9 of node `node`; returns once it is gone."""
        pid = self.pid(node)
        if pid is None:
            raise RuntimeError(f"Kafka node {node} is not running")
        os.kill(pid, signal.SIGKILL)
        wait_until(f"Kafka node {node} exits", lambda: not process_alive(pid), 30)

    def restart(self, node, env=None):
        """Starts node `node` again (after kill()); returns once it answers."""
        self._run("--node", str(node), env=env)

    def stop(self):
        if os.path.isdir(self.data):
            subprocess.run([SCRIPTS_KAFKA, "stop", "--data", self.data], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=120)


class Stack:
    """One fresh set of processes in a temp dir; stopped (and checked) on exit."""

    def __init__(self, bin_dir, workdir, env=None, events_partitions=None, partitions=None, kafka_control=False,
                 mock_kafka=False, share_kafka=False, brokers=1, kafka=None):
        self.bin = bin_dir
        self.webhook_filter = None  # SPEC §4's filter, on every webhook create_webhooks makes
        self.dir = tempfile.mkdtemp(prefix="stack-", dir=workdir)
        self.procs = []
        self.redis_port = free_port()
        self.api_port = free_port()
        self.kafka_control = kafka_control  # fault commands on hookstream-kafka-dev's stdin
        shared = os.environ.get("HOOKSTREAM_TEST_KAFKA_BOOTSTRAP_FILE") if share_kafka else None
        if mock_kafka or kafka_control:
            self.kafka_mode, self.broker = "mock", None
        elif kafka is not None or shared:
            self.kafka_mode, self.broker = "shared", kafka
        else:
            self.kafka_mode = "own"
            self.broker = Kafka(os.path.join(self.dir, "kafka"), brokers, os.path.join(self.dir, "kafka.log"))
        self.shared_bootstrap_file = shared
        self.brokers = brokers
        if brokers != 1 and self.kafka_mode != "own":
            raise ValueError("a stack with brokers=3 starts its own cluster")
        self.env = dict(os.environ)
        self.env.update({
            "HOOKSTREAM_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "HOOKSTREAM_API_LISTEN": f"127.0.0.1:{self.api_port}",
            "HOOKSTREAM_ALLOW_HTTP": "true",
            "HOOKSTREAM_ALLOW_PRIVATE_TARGETS": "true",
            "HOOKSTREAM_MAX_WEBHOOKS_PER_TENANT": "100000",
            "HOOKSTREAM_RDKAFKA_SESSION_TIMEOUT_MS": "6000",
            "HOOKSTREAM_RDKAFKA_HEARTBEAT_INTERVAL_MS": "500",
        })
        if self.kafka_mode == "mock":
            # The mock holds a fetch with no data for the whole fetch wait (librdkafka's default is
            # 500 ms); Apache Kafka answers as soon as data arrives, so its stacks keep the default.
            self.env["HOOKSTREAM_RDKAFKA_FETCH_WAIT_MAX_MS"] = "10"
        if self.kafka_mode == "shared":
            # Topics and the consumer group (<prefix>.dispatchers) of this stack alone.
            self.env["HOOKSTREAM_TOPIC_PREFIX"] = f"hs-{uuid.uuid4().hex[:12]}"
        # A fresh keyring for secrets at rest, unless the caller's environment brings one.
        self.env.setdefault("HOOKSTREAM_SECRET_KEYS",
                            "bench:" + base64.b64encode(os.urandom(32)).decode())
        self.env.update(env or {})
        if self.kafka_mode == "mock":
            # The mock drops a partition's oldest data beyond 5 MiB: 128 events partitions hold
            # 200,000 events of 1 KiB, and retry tiers get 32 so a burst of failures does not fill one.
            events_partitions, partitions = events_partitions or 128, partitions or 32
        # Apache Kafka keeps what a partition holds, so counts are about parallelism, not size: by
        # default the `topics` command's production counts (12 events partitions, 6 per retry tier
        # and dead letters), enough for the two dispatchers a scenario runs at most.
        self.events_partitions = events_partitions
        self.partitions = partitions
        self.control_seq = 0
        self.key = None
        self.redis = self.kafka = self.api_proc = None
        self.sink_output = ["--quiet"]  # ["--json"]: one line per delivery in the sink's log

    @property
    def topic_prefix(self):
        return self.env.get("HOOKSTREAM_TOPIC_PREFIX", "hookstream")

    @property
    def events_topic(self):
        return self.topic_prefix + ".events"

    def spawn(self, name, argv, env=None, stdin=None):
        logfile = os.path.join(self.dir, f"{name}.log")
        out = open(logfile, "a")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env or self.env,
                             start_new_session=True, stdin=stdin)
        p.name, p.logfile = name, logfile
        self.procs.append(p)
        return p

    def start(self):
        self.start_redis()
        self.start_kafka()
        api = self.api_proc = self.spawn("api", [f"{self.bin}/hookstream-api"])
        wait_until("api", lambda: self._ready(), 30, api, api.logfile)
        created = subprocess.run([f"{self.bin}/hookstream-api", "keys", "create", "--tenant", "bench", "--scopes",
                                  "webhooks:read,webhooks:write,events:write", "--rate-limit", "1000000"],
                                 capture_output=True, text=True, env=self.env, check=True)
        self.key = created.stdout.strip()
        return self

    def start_kafka(self):
        """Starts (or finds) the stack's Kafka, sets HOOKSTREAM_KAFKA_BROKERS, creates the topics."""
        if self.kafka_mode == "mock":
            boot = os.path.join(self.dir, "kafka.bootstrap")
            argv = [f"{self.bin}/hookstream-kafka-dev", "--events-partitions", str(self.events_partitions),
                    "--partitions", str(self.partitions), "--bootstrap-file", boot]
            if self.kafka_control:
                argv.append("--control-stdin")
            kafka = self.kafka = self.spawn("kafka", argv,
                                            stdin=subprocess.PIPE if self.kafka_control else None)
            wait_until("kafka", lambda: os.path.exists(boot) and os.path.getsize(boot) > 0, 20, kafka,
                       kafka.logfile)
            with open(boot) as f:
                self.env["HOOKSTREAM_KAFKA_BROKERS"] = f.read().strip()
            return  # the mock creates its topics itself
        if self.kafka_mode == "own":
            self.env["HOOKSTREAM_KAFKA_BROKERS"] = self.broker.start(self.env)
        elif self.broker:
            self.env["HOOKSTREAM_KAFKA_BROKERS"] = self.broker.bootstrap
        else:
            with open(self.shared_bootstrap_file) as f:
                self.env["HOOKSTREAM_KAFKA_BROKERS"] = f.read().strip()
        argv = [f"{self.bin}/hookstream-dispatcher", "topics", "--create"]
        if self.events_partitions:
            argv += ["--events-partitions", str(self.events_partitions)]
        if self.partitions:
            argv += ["--partitions", str(self.partitions)]
        if self.brokers == 3:
            argv += ["--replication-factor", "3", "--topic-config", "min.insync.replicas=2"]
        r = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=120)
        with open(os.path.join(self.dir, "topics.log"), "a") as out:
            out.write(r.stderr + r.stdout)
        if r.returncode:
            raise RuntimeError(f"creating the topics failed; see {self.dir}/topics.log")
        # topics --create returns once every partition answers on its leader: publishing into the
        # window after CreateTopics could lose events (docs/security.md).

    def kafka_pids(self):
        """The Kafka processes whose CPU the stack's work costs: its brokers' JVMs (own, or shared by
        the caller), or the mock; none for ctest's broker (its CPU is every test's)."""
        if self.kafka_mode == "mock":
            return [self.kafka.pid] if self.kafka and self.kafka.poll() is None else []
        return self.broker.pids() if self.broker else []

    def kill_broker(self, node):
        """kill -9 of one broker of the stack's own Kafka; returns once it is gone."""
        self.broker.kill(node)

    def restart_broker(self, node):
        """Starts node `node` of the stack's own Kafka again; returns once it answers."""
        self.broker.restart(node, self.env)

    def start_redis(self):
        """Starts Redis (AOF on) on the stack's port; again after stop_redis(), with the same data."""
        redis = self.redis = self.spawn("redis", [
            "redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", self.dir,
            "--appendonly", "yes", "--save", ""])
        wait_until("redis", lambda: self.redis_cli("ping") == "PONG", 20, redis, redis.logfile)
        return redis

    def stop_redis(self):
        self.redis.send_signal(signal.SIGTERM)  # SHUTDOWN: the AOF is flushed first
        self.redis.wait(30)
        self.procs.remove(self.redis)

    def redis_cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.redis_port), *args], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    def inject(self, command, timeout=10):
        """Sends one fault command to hookstream-kafka-dev and waits for its answer."""
        self.control_seq += 1
        self.kafka.stdin.write(f"{command}\n".encode())
        self.kafka.stdin.flush()
        tag = f"control {self.control_seq} "

        def answer():
            with open(self.kafka.logfile) as f:
                for line in f:
                    if line.startswith(tag):
                        return line.strip()
            return None
        line = wait_until(f"kafka-dev answers '{command}'", answer, timeout, self.kafka, self.kafka.logfile)
        if not line.endswith(" ok"):
            raise RuntimeError(f"fault command '{command}': {line}")

    def _ready(self):
        try:
            return http_json(self.api_port, "GET", "/readyz")[0] == 200
        except OSError:
            return False

    def sink(self, name, *flags):
        port = free_port()
        p = self.spawn(name, [f"{self.bin}/hookstream-sink", "--listen", f"127.0.0.1:{port}", *self.sink_output,
                                   *flags])
        wait_until(name, lambda: self._sink_up(port), 20, p, p.logfile)
        p.port = port
        return p

    @staticmethod
    def _sink_up(port):
        try:
            return http_json(port, "GET", "/healthz")[0] == 200
        except OSError:
            return False

    def create_webhooks(self, urls):
        conn = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=10)
        ids = []
        for url in urls:
            webhook = {"url": url, "events": [EVENT_TYPE]}
            if self.webhook_filter is not None:
                webhook["filter"] = self.webhook_filter
            conn.request("POST", "/v1/webhooks", body=json.dumps(webhook),
                         headers={"authorization": f"Bearer {self.key}", "content-type": "application/json"})
            r = conn.getresponse()
            body = json.loads(r.read())
            if r.status != 201:
                raise RuntimeError(f"create webhook {url}: {r.status} {body}")
            ids.append(body["data"]["webhook"]["id"])
        conn.close()
        return ids

    def dispatcher(self, index=1, env=None, wait=True):
        """Starts hookstream-dispatcher `index`; with `wait`, returns once it has partitions."""
        e = dict(self.env)
        e["HOOKSTREAM_INSTANCE_ID"] = f"bench-{index}"
        e.update(env or {})
        p = self.spawn(f"dispatcher-{index}", [f"{self.bin}/hookstream-dispatcher"], env=e)
        if wait:
            self.wait_joined(p)
        return p

    @staticmethod
    def wait_joined(p):
        wait_until(f"{p.name} joins", lambda: "partitions assigned" in open(p.logfile).read(), 60, p, p.logfile)

    def producer(self, stdin, stdout=subprocess.DEVNULL, env=None):
        """A hookstream-produce reading NDJSON from `stdin` (its errors go to produce.log)."""
        return subprocess.Popen([f"{self.bin}/hookstream-produce"], stdin=stdin, stdout=stdout,
                                stderr=open(os.path.join(self.dir, "produce.log"), "a"), env={**self.env, **(env or {})})

    def publish(self, count, data_bytes):
        """Publishes `count` events ahead (NDJSON through hookstream-produce); returns when acked."""
        self.publish_lines(event_line(data_bytes), count)

    def publish_lines(self, line, count):
        """Publishes `line` (one NDJSON event) `count` times through hookstream-produce."""
        p = self.producer(subprocess.PIPE)
        chunk = (line * 1000).encode()
        for _ in range(count // 1000):
            p.stdin.write(chunk)
        p.stdin.write((line * (count % 1000)).encode())
        p.stdin.close()
        if p.wait() != 0:
            raise RuntimeError(f"hookstream-produce failed; see {self.dir}/produce.log")

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.kafka_mode == "own":
            self.broker.stop()

    def cleanup(self, keep):
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def event_line(data_bytes):
    # data = {"pad": "xxx…"}; the event JSON (id, type, time, tenant…) adds ~200 bytes to data.
    return json.dumps({"tenant": "bench", "type": EVENT_TYPE, "data": {"pad": "x" * max(0, data_bytes - 10)}}) + "\n"


def sink_stats(sink):
    return http_json(sink.port, "GET", "/stats")[1]


def total(sinks, key):
    return sum(sink_stats(s)[key] for s in sinks)


def ok_deliveries(stats):
    return sum(n for code, n in stats["statuses"].items() if code.startswith("2"))


def wait_delivered(sinks, expected, timeout, what):
    """Waits for `expected` 2xx deliveries; returns (first receipt, last receipt) in sink time."""
    last_change, last = time.monotonic(), -1
    deadline = time.monotonic() + timeout
    while True:
        stats = [sink_stats(s) for s in sinks]
        got = sum(ok_deliveries(st) for st in stats)
        if got >= expected:
            return stats
        if got != last:
            last, last_change = got, time.monotonic()
        if time.monotonic() > deadline or time.monotonic() - last_change > 60:
            raise RuntimeError(f"{what}: {got} of {expected} delivered")
        time.sleep(0.05)
