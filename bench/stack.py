"""The processes of a hookstream stack for tests and benchmarks: real binaries, real Redis, the
embedded Kafka cluster (hookstream-kafka-dev), hookstream-sink as the receiver.

Shared by bench/bench.py and tests/chaos/chaos.py, so both start the stack the same way.
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

CLK_TCK = os.sysconf("SC_CLK_TCK")
EVENT_TYPE = "submission.completed"


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
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


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


class Stack:
    """One fresh set of processes in a temp dir; stopped (and checked) on exit."""

    def __init__(self, bin_dir, workdir, env=None, events_partitions=128, partitions=32, kafka_control=False):
        self.bin = bin_dir
        self.dir = tempfile.mkdtemp(prefix="stack-", dir=workdir)
        self.procs = []
        self.redis_port = free_port()
        self.api_port = free_port()
        self.env = dict(os.environ)
        self.env.update({
            "HOOKSTREAM_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "HOOKSTREAM_API_LISTEN": f"127.0.0.1:{self.api_port}",
            "HOOKSTREAM_ALLOW_HTTP": "true",
            "HOOKSTREAM_ALLOW_PRIVATE_TARGETS": "true",
            "HOOKSTREAM_MAX_WEBHOOKS_PER_TENANT": "100000",
            "HOOKSTREAM_RDKAFKA_SESSION_TIMEOUT_MS": "6000",
            "HOOKSTREAM_RDKAFKA_HEARTBEAT_INTERVAL_MS": "500",
            # As ./scripts/run: the embedded cluster holds a fetch with no data for the whole fetch
            # wait (Apache Kafka answers as soon as data arrives), 500 ms by default.
            "HOOKSTREAM_RDKAFKA_FETCH_WAIT_MAX_MS": "10",
        })
        # A fresh keyring for secrets at rest, unless the caller's environment brings one.
        self.env.setdefault("HOOKSTREAM_SECRET_KEYS",
                            "bench:" + base64.b64encode(os.urandom(32)).decode())
        self.env.update(env or {})
        self.events_partitions = events_partitions
        self.partitions = partitions
        self.kafka_control = kafka_control  # fault commands on hookstream-kafka-dev's stdin
        self.control_seq = 0
        self.key = None
        self.redis = self.kafka = self.api_proc = None
        self.sink_output = ["--quiet"]  # ["--json"]: one line per delivery in the sink's log

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
        boot = os.path.join(self.dir, "kafka.bootstrap")
        # Retry tiers get 32 partitions too: the embedded cluster drops a partition's oldest data
        # beyond 5 MiB, and a burst of failures fills 4 partitions of one tier quickly.
        argv = [f"{self.bin}/hookstream-kafka-dev", "--events-partitions", str(self.events_partitions),
                "--partitions", str(self.partitions), "--bootstrap-file", boot]
        if self.kafka_control:
            argv.append("--control-stdin")
        kafka = self.kafka = self.spawn("kafka", argv, stdin=subprocess.PIPE if self.kafka_control else None)
        wait_until("kafka", lambda: os.path.exists(boot) and os.path.getsize(boot) > 0, 20, kafka, kafka.logfile)
        with open(boot) as f:
            self.env["HOOKSTREAM_KAFKA_BROKERS"] = f.read().strip()
        api = self.api_proc = self.spawn("api", [f"{self.bin}/hookstream-api"])
        wait_until("api", lambda: self._ready(), 30, api, api.logfile)
        created = subprocess.run([f"{self.bin}/hookstream-api", "keys", "create", "--tenant", "bench", "--scopes",
                                  "webhooks:read,webhooks:write,events:write", "--rate-limit", "1000000"],
                                 capture_output=True, text=True, env=self.env, check=True)
        self.key = created.stdout.strip()
        return self

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
            conn.request("POST", "/v1/webhooks", body=json.dumps({"url": url, "events": [EVENT_TYPE]}),
                         headers={"authorization": f"Bearer {self.key}", "content-type": "application/json"})
            r = conn.getresponse()
            body = json.loads(r.read())
            if r.status != 201:
                raise RuntimeError(f"create webhook {url}: {r.status} {body}")
            ids.append(body["data"]["webhook"]["id"])
        conn.close()
        return ids

    def dispatcher(self, index=1, env=None):
        e = dict(self.env)
        e["HOOKSTREAM_INSTANCE_ID"] = f"bench-{index}"
        e.update(env or {})
        p = self.spawn(f"dispatcher-{index}", [f"{self.bin}/hookstream-dispatcher"], env=e)
        wait_until(f"dispatcher-{index} joins", lambda: "partitions assigned" in open(p.logfile).read(), 60, p,
                   p.logfile)
        return p

    def producer(self, stdin):
        return subprocess.Popen([f"{self.bin}/hookstream-produce"], stdin=stdin, stdout=subprocess.DEVNULL,
                                stderr=open(os.path.join(self.dir, "produce.log"), "a"), env=self.env)

    def publish(self, count, data_bytes):
        """Publishes `count` events ahead (NDJSON through hookstream-produce); returns when acked."""
        line = event_line(data_bytes)
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
