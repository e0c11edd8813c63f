#!/usr/bin/env python3
"""hookstream fault suite: breaks a real stack on purpose and checks that nothing is lost.

Every scenario starts a fresh stack (bench/stack.py: Redis with AOF, Kafka, the API, dispatchers,
hookstream-sink receivers), injects its faults while events flow, waits (with a deadline) until
every (event, endpoint) pair is delivered, and prints a line per scenario:

  published  (event, endpoint) pairs the pipeline accepted
  delivered  distinct pairs a receiver answered 2xx (the sink's unique_ok)
  duplicated 2xx deliveries beyond the first of their pair (at-least-once allows them)
  lost       published - delivered: must be 0, or the suite fails

Which Kafka each scenario runs on:
  Apache Kafka, one broker: dispatcher_crashes, redis_restart, receiver_chaos, sigterm_under_load,
    paused_endpoint, backpressure. The broker ctest starts for the whole run when
    HOOKSTREAM_TEST_KAFKA_BOOTSTRAP_FILE names it (each stack under a topic prefix, so a consumer
    group, of its own), else one started for the scenario with scripts/kafka.
  Apache Kafka, a 3-broker cluster of its own (replication factor 3, min.insync.replicas=2):
    broker_kill, which kills one broker with kill -9 mid-stream and restarts it.
  librdkafka's mock cluster (hookstream-kafka-dev), only where Apache Kafka cannot do the job:
    broker_faults and commit_failures inject request errors, latency and outages into the broker
    on command (its --control-stdin); offset_retention needs a committed offset to vanish, which
    the mock's 5 MiB-per-partition retention does on demand (Apache Kafka's retention is by time or
    size, checked every few minutes, with no way to force it in a test's time).

The default sizes fit CI (see tests/CMakeLists.txt); --full (or HOOKSTREAM_CHAOS_FULL=1) runs the
issue's figures. --seed (or HOOKSTREAM_CHAOS_SEED) replays the random kill moments.
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bad_receiver import BadReceiver  # noqa: E402
from stack import (EVENT_TYPE, Stack, event_line, free_port, http_json, log, ok_deliveries, sink_stats,  # noqa: E402
                   wait_until)

# Fast retries and no pausing, so a fault's failed attempts are retried within the run.
FAST_RETRIES = {"HOOKSTREAM_RETRY_SCHEDULE": "50ms,100ms,200ms,500ms,1s,1s,2s,2s,2s",
                "HOOKSTREAM_PAUSE_AFTER_FAILURES": "1000000"}


class ScenarioFailed(Exception):
    pass


def check(cond, message):
    if not cond:
        raise ScenarioFailed(message)


# --- measuring ---------------------------------------------------------------------------------

def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class RssSampler:
    """Samples processes' RSS every 50 ms in the background; `peak` is the highest seen."""

    def __init__(self, procs):
        self.procs, self.peak, self._stop = list(procs), 0.0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            for p in self.procs:
                if p.poll() is None:
                    self.peak = max(self.peak, rss_mib(p.pid))
            self._stop.wait(0.05)

    def stop(self):
        self._stop.set()
        self._t.join()
        return self.peak


def sink_counts(sinks):
    stats = [sink_stats(s) for s in sinks]
    unique = sum(st["unique_ok"] for st in stats)
    ok = sum(ok_deliveries(st) for st in stats)
    return unique, ok


def await_all_delivered(sinks, pairs, timeout, what, stall=60):
    """Waits until `pairs` distinct pairs are delivered, or nothing moved for `stall` s, or the
    deadline passed; returns (unique, ok) either way (the caller reports what is missing)."""
    deadline, last, last_change = time.monotonic() + timeout, -1, time.monotonic()
    while True:
        unique, ok = sink_counts(sinks)
        if unique >= pairs:
            return unique, ok
        if unique != last:
            last, last_change = unique, time.monotonic()
        if time.monotonic() > deadline or time.monotonic() - last_change > stall:
            log(f"{what}: {unique} of {pairs} pairs delivered when the wait ended")
            return unique, ok
        time.sleep(0.1)


def result(published, unique, ok, **extra):
    r = {"published": published, "delivered": unique, "duplicated": ok - unique, "lost": published - unique}
    r.update(extra)
    return r


# --- publishing --------------------------------------------------------------------------------

class ApiPublisher:
    """POSTs events with caller-given ids over a few keep-alive connections, in the background.

    An event is published once the API answers 202; a 503 (or a broken connection) is retried with
    the same id, which the API's idempotency makes safe. 503s are counted with their times
    (`unavailable_at`: time.monotonic() of each answer)."""

    def __init__(self, stack, count, prefix, threads=4, rate=None, data_bytes=100, event_type=EVENT_TYPE):
        self.stack, self.count, self.prefix = stack, count, prefix
        self.rate, self.threads_n = rate, threads
        self.data = {"pad": "x" * data_bytes}
        self.event_type = event_type
        self.accepted = 0
        self.unavailable = 0  # 503 answers
        self.unavailable_at = []
        self.other = {}  # other statuses / errors: must stay empty
        self.last_503_at = self.first_ok_after_503_at = None
        self._lock = threading.Lock()
        self._next = 0
        self._stopped = False
        self._start = time.monotonic()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for t in self._threads:
            t.start()

    def _take(self):
        with self._lock:
            if self._next >= self.count:
                return None
            i = self._next
            self._next += 1
            return i

    def _run(self):
        conn = None
        while True:
            i = self._take()
            if i is None:
                break
            if self.rate:  # paced: event i is due at i / rate seconds
                delay = self._start + i / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            body = json.dumps({"id": f"evt_{self.prefix}{i:07d}", "type": self.event_type, "data": self.data})
            while True:
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", self.stack.api_port, timeout=30)
                    conn.request("POST", "/v1/events", body=body,
                                 headers={"authorization": f"Bearer {self.stack.key}",
                                          "content-type": "application/json"})
                    r = conn.getresponse()
                    r.read()
                    status = r.status
                except (OSError, http.client.HTTPException) as e:
                    status = type(e).__name__
                    conn.close()
                    conn = None
                with self._lock:
                    if status in (200, 202):
                        self.accepted += 1
                        if self.last_503_at and not self.first_ok_after_503_at:
                            self.first_ok_after_503_at = time.monotonic()
                        break
                    if status == 503:
                        self.unavailable += 1
                        self.last_503_at = time.monotonic()
                        self.unavailable_at.append(self.last_503_at)
                        self.first_ok_after_503_at = None
                    else:
                        self.other[str(status)] = self.other.get(str(status), 0) + 1
                if self._stopped:
                    break
                # A failed publish is retried after a short pause (the API or its dependency is down).
                time.sleep(0.05)
        if conn:
            conn.close()

    def done(self):
        return not any(t.is_alive() for t in self._threads)

    def progress(self):
        return self.accepted

    def join(self, timeout):
        wait_until("publisher", self.done, timeout)

    def stop(self):
        """Gives up: no new event, no more retries; returns once every thread has ended."""
        with self._lock:
            self._next, self._stopped = self.count, True
        wait_until("publisher stops", self.done, 60)


def produce(stack, count, data_bytes=100, event_type=EVENT_TYPE):
    """Publishes `count` events straight to Kafka through hookstream-produce (faster than the API)."""
    line = event_line(data_bytes)
    if event_type != EVENT_TYPE:
        line = line.replace(EVENT_TYPE, event_type)
    stack.publish_lines(line, count)


class BackgroundProducer:
    """Feeds one hookstream-produce evenly over `seconds` from a thread. `acked` counts the events
    Kafka acknowledged (hookstream-produce prints one JSON line each), `failed` the others. With
    `id_prefix`, event i has the id evt_<id_prefix><i>, `failed_indexes()` names the failed ones,
    and `sent_at[i]` is when event i was written to hookstream-produce (time.monotonic())."""

    def __init__(self, stack, count, seconds, data_bytes=100, id_prefix=None):
        self.stack, self.count, self.seconds, self.id_prefix = stack, count, seconds, id_prefix
        self.line = event_line(data_bytes)
        self.sent_at = []
        self.out = os.path.join(stack.dir, f"produced.{time.monotonic_ns()}.jsonl")
        self.code = None
        self.p = stack.producer(subprocess.PIPE, stdout=open(self.out, "w"))
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def event_id(self, i):
        return f"evt_{self.id_prefix}{i:07d}"

    def lines(self, indexes):
        if self.id_prefix is None:
            return self.line * len(indexes)
        return "".join('{"id":"%s",%s' % (self.event_id(i), self.line[1:]) for i in indexes)

    def _run(self):
        start, sent = time.monotonic(), 0
        while sent < self.count:
            due = min(self.count, int((time.monotonic() - start) / self.seconds * self.count) + 1)
            if due > sent:
                self.p.stdin.write(self.lines(range(sent, due)).encode())
                self.p.stdin.flush()
                self.sent_at += [time.monotonic()] * (due - sent)
                sent = due
            time.sleep(0.01)
        self.p.stdin.close()
        self.code = self.p.wait()

    def join(self, timeout=None):
        self._t.join(timeout)
        check(not self._t.is_alive(), "hookstream-produce did not finish")

    def acked_ids(self):
        with open(self.out) as f:
            return [json.loads(line)["id"] for line in f]

    @property
    def acked(self):
        return len(self.acked_ids())

    @property
    def failed(self):
        return self.count - self.acked if self.code is not None else 0

    def failed_indexes(self):
        """With an id_prefix: the events hookstream-produce reported failed, by index."""
        acked = set(self.acked_ids())
        return [i for i in range(self.count) if self.event_id(i) not in acked]


def write_missing(stack):
    """--trace: lists the (target, event) pairs no sink received, with the event's partition and
    offset, in missing.txt beside the logs (read from the events topic with kcat)."""
    received = set()
    for name in os.listdir(stack.dir):
        if not name.endswith(".log"):
            continue
        with open(os.path.join(stack.dir, name), errors="replace") as f:
            for line in f:
                if line.startswith("{") and '"target"' in line:
                    j = json.loads(line)
                    if j.get("status") and 200 <= j["status"] < 300:
                        received.add((j["target"], j["webhook_id"]))
    targets = sorted({t for t, _ in received})
    dump = subprocess.run(["kcat", "-C", "-b", stack.env["HOOKSTREAM_KAFKA_BROKERS"], "-t", stack.events_topic,
                           "-e", "-q",
                           "-f", "%p %o %k\\n"], capture_output=True, text=True, timeout=120)
    missing = []
    for line in dump.stdout.splitlines():
        partition, offset, key = line.split()
        missing += [f"{partition} {offset} {key} {t}" for t in targets if (t, key) not in received]
    with open(os.path.join(stack.dir, "missing.txt"), "w") as f:
        f.write("partition offset event target\n" + "".join(m + "\n" for m in missing))
    by_partition = {}
    for m in missing:
        by_partition[m.split()[0]] = by_partition.get(m.split()[0], 0) + 1
    log(f"missing pairs by events partition: {by_partition}; see {stack.dir}/missing.txt")


# --- the stack, with restarts ------------------------------------------------------------------

class ChaosStack(Stack):
    def __init__(self, args, env=None, **kw):
        e = dict(FAST_RETRIES)
        e.update(env or {})
        # Apache Kafka scenarios of one broker share ctest's broker (when it runs one).
        kw.setdefault("share_kafka", kw.get("brokers", 1) == 1)
        super().__init__(args.bin, args.workdir, env=e, **kw)
        self.starts = {}
        if args.trace:
            self.sink_output = ["--json"]

    def start_dispatcher(self, index, env=None, wait=True):
        """Starts dispatcher `index` (again, after a crash: same instance id, fresh log)."""
        n = self.starts[index] = self.starts.get(index, 0) + 1
        e = dict(self.env)
        e["HOOKSTREAM_INSTANCE_ID"] = f"chaos-{index}"
        e.update(env or {})
        p = self.spawn(f"dispatcher-{index}.{n}", [f"{self.bin}/hookstream-dispatcher"], env=e)
        if wait:
            self.await_assigned(p)
        return p

    def await_assigned(self, p, timeout=60):
        wait_until(f"{p.name} joins", lambda: "partitions assigned" in open(p.logfile).read(), timeout, p, p.logfile)

    def api(self, method, path, body=None):
        return http_json(self.api_port, method, path, body, headers={"authorization": f"Bearer {self.key}"})


def owned_partitions(p):
    """The partitions a dispatcher owns now, from its rebalance log lines (either protocol)."""
    owned = set()
    with open(p.logfile) as f:
        for line in f:
            if '"kafka partitions' not in line:
                continue
            j = json.loads(line)
            parts = set(j.get("partitions", []))
            if j["msg"] == "kafka partitions assigned":
                owned = owned | parts if j.get("protocol") == "COOPERATIVE" else parts
            else:  # revoked or lost
                owned -= parts
    return owned


def await_shared_events(stack, dispatchers, timeout=60):
    """Waits until every dispatcher owns a fair share (>= 1/4 each for two) of the events topic's
    partitions: replicas must share the event load, not just the partition count."""
    def counts():
        return [sum(1 for tp in owned_partitions(d) if tp.startswith(stack.events_topic + "[")) for d in dispatchers]

    def shares():
        c = counts()
        return c if sum(c) and min(c) * 2 * len(dispatchers) >= sum(c) else None
    try:
        return wait_until("dispatchers share the events partitions", shares, timeout)
    except RuntimeError:
        raise ScenarioFailed(f"events partitions per dispatcher: {counts()}: one replica does all the work")


def metric(port, name):
    """The sum of a Prometheus metric's samples from a dispatcher's /metrics, or None."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
    except OSError:
        return None
    finally:
        conn.close()
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
              if line.startswith(name) and not line.startswith("#")]
    return sum(values) if values else None


# --- scenarios ---------------------------------------------------------------------------------

def scenario_broker_faults(args, stack):
    """Broker faults during an event stream published through the API, with 2 dispatchers."""
    n = args.broker_events
    sink = stack.sink("sink")
    stack.create_webhooks([f"http://127.0.0.1:{sink.port}/a", f"http://127.0.0.1:{sink.port}/b"])
    d1 = stack.start_dispatcher(1)
    # Paced, so the stream spans every fault (40 s).
    pub = ApiPublisher(stack, n, "bf", threads=4, rate=n / 40)

    def at(fraction):
        wait_until(f"{fraction:.0%} published", lambda: pub.progress() >= fraction * n or pub.done(), 120)
        log(f"broker_faults: {pub.progress()} published")

    phases = []
    at(0.05)
    stack.inject("rtt all 100")
    phases.append("rtt 100ms")
    at(0.15)
    stack.inject("rtt all 0")
    stack.inject("errors Produce 30 NOT_LEADER_FOR_PARTITION")
    stack.inject("errors Fetch 30 NOT_LEADER_FOR_PARTITION")
    phases.append("Produce/Fetch errors")
    at(0.25)
    stack.inject("errors OffsetCommit 20 COORDINATOR_NOT_AVAILABLE")
    phases.append("OffsetCommit errors")
    # A rebalance through failing JoinGroup/SyncGroup: the second dispatcher joins now.
    stack.inject("errors JoinGroup 3 COORDINATOR_LOAD_IN_PROGRESS")
    stack.inject("errors SyncGroup 3 REBALANCE_IN_PROGRESS")
    d2 = stack.start_dispatcher(2, wait=False)
    phases.append("JoinGroup/SyncGroup errors + join")
    at(0.45)
    # The broker goes away: publishes must fail with 503 (after the produce timeout), not hang.
    before_503 = pub.unavailable
    stack.inject("broker down all")
    check(not pub.done(), "the stream ended before the broker went down: slow the publisher")
    wait_until("API answers 503 while the broker is down", lambda: pub.unavailable > before_503, 60)
    down_503 = pub.unavailable - before_503
    stack.inject("broker up all")
    t_up = time.monotonic()
    wait_until("API recovers by itself", lambda: pub.first_ok_after_503_at is not None, 60)
    recovery_s = round(pub.first_ok_after_503_at - t_up, 2)
    phases.append("broker down/up")
    pub.join(600)
    check(not pub.other, f"unexpected API answers: {pub.other}")
    split = await_shared_events(stack, [d1, d2])
    pairs = pub.accepted * 2
    check(pub.accepted == n, f"{pub.accepted} of {n} events accepted")
    unique, ok = await_all_delivered([sink], pairs, args.timeout, "broker faults")
    for d in (d1, d2):
        check(d.poll() is None, f"{d.name} died; see {d.logfile}")
    return result(pairs, unique, ok, api_503=pub.unavailable, api_503_while_down=down_503,
                  recovery_s=recovery_s, events_partitions=split, faults=", ".join(phases))


def scenario_dispatcher_crashes(args, stack):
    """kill -9 of a random dispatcher at random moments, five times, each restarted."""
    n = args.crash_events
    rng = random.Random(args.seed)
    sink = stack.sink("sink")
    stack.create_webhooks([f"http://127.0.0.1:{sink.port}/a", f"http://127.0.0.1:{sink.port}/b"])
    ds = {1: stack.start_dispatcher(1), 2: stack.start_dispatcher(2)}
    pairs = n * 2
    producer = BackgroundProducer(stack, n, max(5.0, n / 1000))
    # The random moments: five points of delivery progress, each kill hitting a random dispatcher.
    moments = sorted(rng.uniform(0.05, 0.9) for _ in range(5))
    kills = []
    for m in moments:
        wait_until(f"{m:.0%} delivered", lambda: sink_counts([sink])[0] >= m * pairs, args.timeout)
        victim = rng.choice([1, 2])
        ds[victim].send_signal(signal.SIGKILL)
        ds[victim].wait()
        kills.append(f"d{victim}@{sink_counts([sink])[0]}")
        ds[victim] = stack.start_dispatcher(victim, wait=False)
    producer.join(args.timeout)
    check(producer.failed == 0, f"hookstream-produce failed {producer.failed} events; see {stack.dir}/produce.log")
    unique, ok = await_all_delivered([sink], pairs, args.timeout, "dispatcher crashes")
    return result(pairs, unique, ok, seed=args.seed, kills=" ".join(kills))


def scenario_redis_restart(args, stack):
    """Redis stops and restarts (AOF) mid-stream; then stalls (DEBUG SLEEP) mid-stream."""
    n = args.redis_events
    sink = stack.sink("sink")
    ids = stack.create_webhooks([f"http://127.0.0.1:{sink.port}/a", f"http://127.0.0.1:{sink.port}/b"])
    d = stack.start_dispatcher(1)
    rss = RssSampler([d])
    pub = ApiPublisher(stack, n, "rr", threads=2, rate=n / 8)
    wait_until("a third published", lambda: pub.progress() >= n / 3, 60)
    before = pub.unavailable
    stack.stop_redis()
    wait_until("API answers 503 while Redis is down", lambda: pub.unavailable > before, 30)
    ready_down = http_json(stack.api_port, "GET", "/readyz")[0]
    t_up = time.monotonic()
    stack.start_redis()
    wait_until("API recovers without a restart", lambda: pub.first_ok_after_503_at is not None, 60)
    recovery_s = round(pub.first_ok_after_503_at - t_up, 2)
    wait_until("two thirds published", lambda: pub.progress() >= 2 * n / 3, 60)
    # A stall: Redis answers nothing for 3 s while events keep coming.
    stall_rss0 = rss_mib(d.pid)
    stack.redis_cli("DEBUG", "SLEEP", "3")
    stall_rss1 = rss_mib(d.pid)
    pub.join(300)
    check(not pub.other, f"unexpected API answers: {pub.other}")
    pairs = pub.accepted * 2
    unique, ok = await_all_delivered([sink], pairs, args.timeout, "redis restart")
    peak = rss.stop()
    # The webhooks and the key survived the restart (AOF).
    status, body = stack.api("GET", "/v1/webhooks?limit=100")
    check(status == 200, f"GET /v1/webhooks after the restart: {status}")
    survived = {w["id"] for w in body["data"]["webhooks"]}
    check(set(ids) <= survived, f"webhooks lost across the Redis restart: {set(ids) - survived}")
    check(d.poll() is None, f"dispatcher died; see {d.logfile}")
    check(peak < args.rss_bound_mib, f"dispatcher RSS {peak:.0f} MiB over the {args.rss_bound_mib} MiB bound")
    return result(pairs, unique, ok, api_503=pub.unavailable, readyz_while_down=ready_down, recovery_s=recovery_s,
                  rss_before_stall_mib=round(stall_rss0), rss_after_stall_mib=round(stall_rss1),
                  peak_rss_mib=round(peak))


RECEIVER_FAULTS = {
    # URL, and the attempt outcomes (http::Outcome names in the delivery log) that name it right
    "reset": ("http://127.0.0.1:{http}/reset", {"connect", "invalid_response"}),
    "half": ("http://127.0.0.1:{http}/half", {"invalid_response"}),
    "slow": ("http://127.0.0.1:{http}/slow", {"timeout"}),
    # A 2xx status is a success (SPEC §4) whatever follows it; the body must not be read in full.
    "huge": ("http://127.0.0.1:{http}/huge", {"success", "invalid_response", "timeout"}),
    "tls_hang": ("https://127.0.0.1:{tls}/hook", {"timeout"}),
    "dns": ("http://no-such-host.invalid/hook", {"dns"}),
}


def scenario_receiver_chaos(args, stack):
    """Receivers that misbehave; each attempt ends with a named failure and gives its slot back."""
    bad = BadReceiver()
    try:
        sink = stack.sink("sink")
        urls = {name: u.format(http=bad.http_port, tls=bad.tls_port) for name, (u, _) in RECEIVER_FAULTS.items()}
        created = {}
        for name, url in urls.items():
            status, body = stack.api("POST", "/v1/webhooks", {"url": url, "events": [EVENT_TYPE]})
            check(status == 201, f"create webhook {url}: {status} {body}")
            created[name] = body["data"]["webhook"]["id"]
        status, body = stack.api("POST", "/v1/webhooks", {"url": f"http://127.0.0.1:{sink.port}/ok",
                                                          "events": [EVENT_TYPE, "contact.created"]})
        check(status == 201, f"create webhook: {status} {body}")
        metrics_port = free_port()
        d = stack.start_dispatcher(1, env={"HOOKSTREAM_DISPATCHER_LISTEN": f"127.0.0.1:{metrics_port}"})
        # Warm-up (only the healthy endpoint takes contact.created): what a healthy endpoint keeps
        # (its pooled connection, buffers) is part of the baseline.
        produce(stack, 20, event_type="contact.created")
        wait_until("warm-up", lambda: sink_counts([sink])[0] >= 20, 60)
        fd0, rss0 = fd_count(d.pid), rss_mib(d.pid)
        rss_sampler = RssSampler([d])
        n = args.receiver_events
        produce(stack, n)
        outcomes = {}

        seen = {}

        def all_logged():
            done = True
            for name, wid in created.items():
                status, body = stack.api("GET", f"/v1/webhooks/{wid}/deliveries?limit=100")
                dl = body["data"]["deliveries"] if status == 200 else []
                seen[name] = [(x["status"], x["attempt_count"], x["last_error"]) for x in dl]
                if len(dl) < n or any(x["attempt_count"] < 1 for x in dl):
                    done = False
            return done
        try:
            wait_until("every bad delivery is logged", all_logged, 60)
        except RuntimeError as e:
            raise ScenarioFailed(f"{e}: {seen}")
        for name, wid in created.items():
            status, body = stack.api("GET", f"/v1/webhooks/{wid}/deliveries?limit=100")
            check(status == 200, f"GET deliveries of {name}: {status} {body}")
            names = set()
            for x in body["data"]["deliveries"]:
                status, one = stack.api("GET", f"/v1/webhooks/{wid}/deliveries/{x['id']}")
                check(status == 200, f"GET delivery {x['id']} of {name}: {status} {one}")
                names |= {a["outcome"] for a in one["data"]["delivery"]["attempts"]}
            check(names, f"{name}: no attempt logged: {body}")
            outcomes[name] = sorted(names)
        wait_until("attempt slots given back",
                   lambda: metric(metrics_port, "hookstream_deliveries_in_flight") == 0, 30)
        unique, ok = await_all_delivered([sink], 20 + n, 60, "healthy endpoint")
        for name, (_, expected) in RECEIVER_FAULTS.items():
            check(set(outcomes[name]) <= expected, f"{name}: logged as {outcomes[name]}, expected one of {expected}")
        # Pause them so their retries stop, then the dispatcher's descriptors and memory come back.
        for wid in created.values():
            stack.api("PATCH", f"/v1/webhooks/{wid}", {"is_active": False})
        fd_ok = lambda: fd_count(d.pid) <= fd0  # noqa: E731
        try:
            wait_until("file descriptors back to baseline", fd_ok, 60)
        except RuntimeError:
            pass
        fd1, rss1 = fd_count(d.pid), rss_mib(d.pid)
        peak = rss_sampler.stop()
        check(fd1 <= fd0, f"dispatcher fds {fd0} -> {fd1}: connections leaked")
        check(rss1 <= rss0 + args.rss_slack_mib,
              f"dispatcher RSS {rss0:.0f} -> {rss1:.0f} MiB (peak {peak:.0f}): not back to baseline")
        check(d.poll() is None, f"dispatcher died; see {d.logfile}")
        detail = " ".join(f"{k}={'/'.join(v)}" for k, v in outcomes.items())
        return result(20 + n, unique, ok, bad_deliveries=n * len(created), outcomes=detail, fds=f"{fd0}->{fd1}",
                      rss_mib=f"{rss0:.0f}->{rss1:.0f} (peak {peak:.0f})")
    finally:
        bad.close()


def scenario_sigterm_under_load(args, stack):
    """SIGTERM to a dispatcher with deliveries in flight; it finishes or hands back, commits, exits 0."""
    n = args.sigterm_events
    sink = stack.sink("sink", "--delay", "100ms")
    stack.create_webhooks([f"http://127.0.0.1:{sink.port}/a", f"http://127.0.0.1:{sink.port}/b"])
    d1 = stack.start_dispatcher(1)
    d2 = stack.start_dispatcher(2)
    split = await_shared_events(stack, [d1, d2])
    produce(stack, n)
    pairs = n * 2
    wait_until("a third delivered", lambda: sink_counts([sink])[0] >= pairs / 3, args.timeout)
    t0 = time.monotonic()
    d1.send_signal(signal.SIGTERM)
    code = d1.wait(60)
    stop_s = round(time.monotonic() - t0, 2)
    check(code == 0, f"dispatcher exited {code} after SIGTERM; see {d1.logfile}")
    log_text = open(d1.logfile).read()
    d1 = stack.start_dispatcher(1)
    unique, ok = await_all_delivered([sink], pairs, args.timeout, "sigterm")
    after_stop = log_text.split('"msg":"shutting down"')[-1]
    check("commit failed" not in after_stop and "commit on revocation failed" not in after_stop,
          f"a commit failed while stopping; see {stack.dir}/dispatcher-1.1.log")
    stopped = [json.loads(line) for line in log_text.splitlines() if '"msg":"consumer stopped"' in line]
    check(stopped, f"no 'consumer stopped' line; see {stack.dir}/dispatcher-1.1.log")
    r = result(pairs, unique, ok, exit_code=code, stop_s=stop_s, events_partitions=split,
               handed_back_records=stopped[-1]["unfinished_records"])
    # Duplicates are reported, not refused: a commit the group coordinator refuses while the group
    # rebalances means the other dispatcher replays the stopped one's last moments.
    return r


def scenario_commit_failures(args, stack):
    """Offset commits that fail are sent again: every commit fails while a stream is delivered, the
    broker then accepts commits again, the dispatcher stops cleanly, and its successor delivers
    nothing twice."""
    n = 500
    sink = stack.sink("sink")
    stack.create_webhooks([f"http://127.0.0.1:{sink.port}/a"])
    d = stack.start_dispatcher(1)
    # An error with no effect on the group (coordinator errors make the member rejoin instead).
    stack.inject("errors OffsetCommit 100000 OFFSET_METADATA_TOO_LARGE")
    produce(stack, n)
    wait_until("the stream is delivered", lambda: sink_counts([sink])[0] >= n, args.timeout)
    # The dispatcher commits every 200 ms: a stream delivered within one period has not tried yet.
    wait_until("a commit is refused", lambda: "offset commit failed" in open(d.logfile).read(), 30, d,
               d.logfile)
    stack.inject("clear OffsetCommit")
    d.send_signal(signal.SIGTERM)
    check(d.wait(60) == 0, f"dispatcher did not stop cleanly; see {d.logfile}")
    failed = open(d.logfile).read().count("offset commit failed")
    d = stack.start_dispatcher(1)
    # Markers after the stream: once they are delivered, a replay of the stream would have been too.
    produce(stack, 200)
    unique, ok = await_all_delivered([sink], n + 200, args.timeout, "commit failures")
    r = result(n + 200, unique, ok, failed_commits=failed)
    check(failed > 0, "no commit failed: the fault was not injected")
    check(r["duplicated"] == 0, f"{r['duplicated']} duplicates: offsets whose commit failed were never committed")
    return r


def scenario_offset_retention(args, stack):
    """A consumer whose committed offset fell out of retention says so (log line and metric).

    On the mock cluster (hookstream-kafka-dev): it drops a partition's oldest data beyond 5 MiB at
    once, so a committed offset can be made to vanish within the test; Apache Kafka deletes whole
    segments by time or size on a schedule of minutes."""
    sink = stack.sink("sink")
    stack.create_webhooks([f"http://127.0.0.1:{sink.port}/a"])
    port = free_port()
    env = {"HOOKSTREAM_DISPATCHER_LISTEN": f"127.0.0.1:{port}"}
    d = stack.start_dispatcher(1, env=env)
    produce(stack, 10)
    wait_until("first events delivered", lambda: sink_counts([sink])[0] >= 10, 60)
    d.send_signal(signal.SIGTERM)
    check(d.wait(60) == 0, "dispatcher did not stop cleanly")
    # 2 partitions x 5 MiB: 80 events of 200 KiB overflow both, dropping the oldest records.
    big = 80
    produce(stack, big, data_bytes=200 * 1024)
    d = stack.start_dispatcher(1, env=env)
    wait_until("the lost offset is logged", lambda: "committed offset gone" in open(d.logfile).read(), 60, d,
               d.logfile)
    resets = wait_until("the offset reset is counted",
                        lambda: (metric(port, "hookstream_consumer_offset_resets_total") or 0) > 0 and
                        metric(port, "hookstream_consumer_offset_resets_total"), 30)
    unique, ok = await_all_delivered([sink], 10 + big, 30, "retention", stall=10)
    dropped = 10 + big - unique
    check(dropped > 0, "retention dropped nothing: the scenario did not exercise it")
    r = result(10 + big, unique, ok, offset_resets_metric=resets)
    # The loss is the mock cluster's retention (by design, and now reported), not hookstream's.
    r["lost"] = 0
    r["dropped_by_retention"] = dropped
    return r


def scenario_backpressure(args, stack):
    """A backlog for an endpoint that is down: bounded dispatcher memory, healthy latency kept.

    The down endpoint takes connections and never answers (the costliest kind of down: every
    attempt holds a slot until its timeout). First the backlog is read: the endpoint's slots fill,
    it stalls, and the rest of its deliveries are parked untried in the first retry tier (1 h), the
    "queue" (HOOKSTREAM_MAX_QUEUED_PER_ENDPOINT). Then a healthy endpoint's latency is measured
    while the down endpoint keeps getting new events."""
    n = args.backlog_events
    healthy = stack.sink("healthy")
    down = stack.sink("down", "--hang")
    stack.create_webhooks([f"http://127.0.0.1:{down.port}/down"])
    status, body = stack.api("POST", "/v1/webhooks", {"url": f"http://127.0.0.1:{healthy.port}/ok",
                                                      "events": ["contact.created"]})
    check(status == 201, f"create webhook: {status} {body}")
    t0 = time.monotonic()
    produce(stack, n, data_bytes=10)
    produce_s = round(time.monotonic() - t0, 1)
    metrics_port = free_port()
    d = stack.start_dispatcher(1, env={"HOOKSTREAM_DISPATCHER_LISTEN": f"127.0.0.1:{metrics_port}"})
    rss = RssSampler([d])
    t1 = time.monotonic()

    def handled():
        deferred = metric(metrics_port, "hookstream_deliveries_deferred_total") or 0
        attempts = metric(metrics_port, "hookstream_delivery_attempts_total") or 0
        return deferred + attempts >= n
    wait_until("the backlog is read (attempted or parked)", handled, args.timeout, d, d.logfile)
    backlog_s = round(time.monotonic() - t1, 1)
    queued = int(metric(metrics_port, "hookstream_deliveries_deferred_total") or 0)
    # Healthy events while the down endpoint keeps getting new ones.
    m = args.healthy_events
    more = BackgroundProducer(stack, m * 4, m / 50)
    pub = ApiPublisher(stack, m, "bp", threads=1, rate=50, event_type="contact.created")
    pub.join(m / 50 + 120)
    more.join()
    unique, ok = await_all_delivered([healthy], m, 120, "healthy endpoint")
    peak = rss.stop()
    lat = sink_stats(healthy)["latency_ms"]
    check(peak < args.rss_bound_mib, f"dispatcher RSS peak {peak:.0f} MiB over the {args.rss_bound_mib} MiB bound")
    check(lat["p99"] <= args.healthy_p99_ms, f"healthy p99 {lat['p99']} ms over {args.healthy_p99_ms} ms")
    check(d.poll() is None, f"dispatcher died; see {d.logfile}")
    return result(m, unique, ok, backlog_events=n, parked_in_retry_tier=queued, produce_s=produce_s,
                  backlog_read_s=backlog_s, peak_rss_mib=round(peak), healthy_p50_ms=lat["p50"],
                  healthy_p99_ms=lat["p99"])


def scenario_paused_endpoint(args, stack):
    """An endpoint that is down gets paused after HOOKSTREAM_PAUSE_AFTER_FAILURES failed attempts;
    deliveries already read for it must then not be attempted (SPEC §4), and the pause is logged
    once, when it happens."""
    n = 500
    down_port = free_port()  # nothing listens: connection refused
    metrics_port = free_port()
    stack.create_webhooks([f"http://127.0.0.1:{down_port}/down"])
    produce(stack, n)
    d = stack.start_dispatcher(1, env={"HOOKSTREAM_DISPATCHER_LISTEN": f"127.0.0.1:{metrics_port}"})
    wait_until("every delivery attempted or logged as not attempted",
               lambda: (metric(metrics_port, "hookstream_delivery_attempts_total") or 0) +
               (metric(metrics_port, "hookstream_deliveries_not_attempted_total") or 0) >= n, args.timeout)
    attempts = int(metric(metrics_port, "hookstream_delivery_attempts_total") or 0)
    pause_logs = open(d.logfile).read().count("endpoint paused after repeated failures")
    # At most the threshold plus the attempts already under way when the pause landed.
    bound = 10 + 8
    check(attempts <= bound, f"{attempts} attempts to an endpoint paused after 10 failures (bound {bound}); "
                             f"'endpoint paused' logged {pause_logs} times")
    check(pause_logs == 1, f"'endpoint paused' logged {pause_logs} times")
    r = result(0, 0, 0, attempts=attempts, pause_logs=pause_logs)
    return r


def partition_leaders(bootstrap, topic):
    """{partition: leader node id} of `topic`, from the cluster's metadata (kcat -L); -1: none."""
    out = subprocess.run(["kcat", "-L", "-b", bootstrap, "-t", topic, "-m", "5"], capture_output=True,
                         text=True, timeout=30).stdout
    return {int(m.group(1)): int(m.group(2)) for m in re.finditer(r"partition (\d+), leader (-?\d+),", out)}


def scenario_broker_kill(args, stack):
    """kill -9 of one broker of a 3-broker cluster (replication factor 3, min.insync.replicas=2)
    mid-stream, then its restart, while events arrive through the API and hookstream-produce at
    once, with 2 dispatchers and 2 endpoints (the receiver answers 500 to 10% of requests, so
    retries travel through the retry topics during the fault). Nothing is lost, and with 2 of 3
    brokers up publishing keeps working: a publish may fail (API 503, hookstream-produce error) only
    if it was made in the few seconds after the kill while the dead broker is still in every
    partition's ISR (acks=all waits for it until the controller fences it, broker.session.timeout.ms
    9 s), so its failure comes within the produce timeout + 5 s of the kill. The API's publisher
    retries a 503 with the same id; hookstream-produce's failed events are sent again, with the
    same ids, once the stream ends: every event is published, and every pair must arrive."""
    n_api, n_produce, seconds = args.kill_api_events, args.kill_produce_events, args.kill_seconds
    timeout_s = args.kill_produce_timeout_s
    window_s = timeout_s + 5
    sink = stack.sink("sink", "--fail-percent", "10")
    stack.create_webhooks([f"http://127.0.0.1:{sink.port}/a", f"http://127.0.0.1:{sink.port}/b"])
    d1 = stack.start_dispatcher(1)
    d2 = stack.start_dispatcher(2)
    split = await_shared_events(stack, [d1, d2])
    pub = ApiPublisher(stack, n_api, "bk", threads=8, rate=n_api / seconds)
    producer = BackgroundProducer(stack, n_produce, seconds, id_prefix="pk")
    wait_until("a fifth published", lambda: pub.progress() >= n_api / 5, 120)
    problems = []
    if pub.unavailable:
        problems.append(f"{pub.unavailable} API 503s before any fault")
    # The victim: a broker that leads the most events partitions (ties: chosen by the seed).
    bootstrap = stack.env["HOOKSTREAM_KAFKA_BROKERS"].split(",")
    leaders = partition_leaders(",".join(bootstrap), stack.events_topic)
    led_by = {node: sum(1 for lead in leaders.values() if lead == node) for node in (1, 2, 3)}
    victim = random.Random(args.seed).choice(sorted(n for n in led_by if led_by[n] == max(led_by.values())))
    led = led_by[victim]
    stack.kill_broker(victim)
    t_kill = time.monotonic()
    log(f"broker_kill: node {victim} (leader of {led} of {len(leaders)} events partitions) killed after "
        f"{pub.progress()} API events")
    survivor = bootstrap[0 if victim != 1 else 1]

    def moved():
        now = partition_leaders(survivor, stack.events_topic)
        return len(now) == len(leaders) and all(lead not in (victim, -1) for lead in now.values())
    wait_until("the events partitions have new leaders", moved, 120)
    leaders_moved_s = round(time.monotonic() - t_kill, 1)
    # Publishing goes on with 2 of 3 brokers past the window, then the broker comes back.
    wait_until("the 503 window passes", lambda: time.monotonic() - t_kill > window_s or pub.done(), 120)
    check(not pub.done(), "the stream ended before the window passed: slow the publisher")
    t_restart = time.monotonic()
    stack.restart_broker(victim)
    restart_s = round(time.monotonic() - t_restart, 1)
    log(f"broker_kill: node {victim} back after {restart_s} s; {pub.progress()} API events")
    check(not pub.done(), "the stream ended before the broker came back: slow the publisher")
    try:
        pub.join(seconds + 120)
    except RuntimeError:
        pub.stop()
        problems.append(f"the API publisher did not finish: {pub.accepted} of {n_api} accepted")
    producer.join(seconds + 300)
    failed = producer.failed_indexes()
    if failed:  # sent again, as a service would; the ids make a double harmless
        stack.publish_lines(producer.lines(failed), 1)
    published = pub.accepted + n_produce
    unique, ok = await_all_delivered([sink], published * 2, args.timeout, "broker kill")
    late_503 = [round(t - t_kill, 1) for t in pub.unavailable_at if t - t_kill > window_s]
    # A failed produce was sent at sent_at and failed by sent_at + the timeout.
    late_failed = [round(producer.sent_at[i] - t_kill, 1) for i in failed
                   if producer.sent_at[i] + timeout_s - t_kill > window_s]
    r = result(published * 2, unique, ok, api_events=pub.accepted, produced_events=n_produce,
               victim=f"node {victim} (led {led}/{len(leaders)})", leaders_moved_s=leaders_moved_s,
               api_503=pub.unavailable,
               last_503_after_kill_s=round(max(pub.unavailable_at) - t_kill, 1) if pub.unavailable_at else None,
               produce_failed=len(failed),
               failed_sent_after_kill_s=(f"{min(producer.sent_at[i] for i in failed) - t_kill:.1f}.."
                                         f"{max(producer.sent_at[i] for i in failed) - t_kill:.1f}") if failed else None,
               window_s=window_s, broker_restart_s=restart_s, events_partitions=split, seed=args.seed)
    if pub.other:
        problems.append(f"unexpected API answers: {pub.other}")
    if pub.accepted != n_api:
        problems.append(f"{pub.accepted} of {n_api} API events accepted")
    if late_503:
        problems.append(f"{len(late_503)} API 503s after the {window_s} s window (at {late_503[:10]} s after "
                        "the kill): the API could not publish with 2 of 3 brokers up")
    if late_failed:
        problems.append(f"{len(late_failed)} hookstream-produce failures of events sent {late_failed[:10]} s after "
                        f"the kill, past the {window_s} s window; see {stack.dir}/produce.log")
    for d in (d1, d2):
        if d.poll() is not None:
            problems.append(f"{d.name} died; see {d.logfile}")
    check(not problems, "; ".join(problems) + f" ({r})")
    return r


# Scenarios that find a bug whose fix belongs to code under other work: skipped (exit 77 in
# ctest) with the bug named, run with --run-skipped.
SKIPPED = {}

SCENARIOS = {
    # name: (function, Stack keywords, environment). Stack(): Apache Kafka, shared under ctest.
    "broker_faults": (scenario_broker_faults, {"kafka_control": True},
                      {"HOOKSTREAM_PRODUCE_TIMEOUT": "2s"}),
    "dispatcher_crashes": (scenario_dispatcher_crashes, {}, {}),
    "redis_restart": (scenario_redis_restart, {}, {}),
    "receiver_chaos": (scenario_receiver_chaos, {},
                       {"HOOKSTREAM_DELIVERY_TIMEOUT": "2s",
                        "HOOKSTREAM_RETRY_SCHEDULE": "1h"}),
    "sigterm_under_load": (scenario_sigterm_under_load, {}, {}),
    "paused_endpoint": (scenario_paused_endpoint, {},
                        {"HOOKSTREAM_RETRY_SCHEDULE": "1h", "HOOKSTREAM_PAUSE_AFTER_FAILURES": "10"}),
    "commit_failures": (scenario_commit_failures, {"kafka_control": True}, {}),
    "offset_retention": (scenario_offset_retention, {"mock_kafka": True, "events_partitions": 2}, {}),
    "backpressure": (scenario_backpressure, {},
                     {"HOOKSTREAM_RETRY_SCHEDULE": "1h", "HOOKSTREAM_DELIVERY_TIMEOUT": "2s"}),
    "broker_kill": (scenario_broker_kill, {"brokers": 3}, {"HOOKSTREAM_PRODUCE_TIMEOUT": "10s"}),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="directory of the hookstream binaries")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset")
    ap.add_argument("--full", action="store_true", default=os.environ.get("HOOKSTREAM_CHAOS_FULL") == "1",
                    help="the issue's figures (20,000 events, 1,000,000 backlog); slow")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("HOOKSTREAM_CHAOS_SEED", "0")) or None)
    ap.add_argument("--keep", action="store_true", help="keep every stack's logs")
    ap.add_argument("--trace", action="store_true",
                    help="sinks log every delivery; a scenario that loses pairs lists them in missing.txt")
    ap.add_argument("--run-skipped", action="store_true", help="run scenarios skipped for a known bug")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 2**31)
    args.broker_events, args.crash_events, args.redis_events = 20_000, 20_000, 20_000
    args.receiver_events, args.sigterm_events = 3, 4_000
    args.backlog_events, args.healthy_events = 1_000_000, 200
    args.kill_api_events, args.kill_produce_events, args.kill_seconds = 10_000, 10_000, 60
    args.kill_produce_timeout_s = 10  # broker_kill's HOOKSTREAM_PRODUCE_TIMEOUT
    args.timeout, args.rss_bound_mib, args.rss_slack_mib, args.healthy_p99_ms = 600, 256, 16, 2000
    if not args.full:
        args.broker_events, args.crash_events, args.redis_events = 5_000, 5_000, 3_000
        args.sigterm_events, args.backlog_events, args.healthy_events = 2_000, 50_000, 100
        args.kill_api_events, args.kill_produce_events, args.kill_seconds = 2_000, 2_000, 40
        args.timeout = 180
    args.workdir = tempfile.mkdtemp(prefix="hookstream-chaos-")
    log(f"seed {args.seed} (HOOKSTREAM_CHAOS_SEED={args.seed} replays it); {'full' if args.full else 'CI'} sizes")

    rows, failed, skipped = [], False, False
    for name in args.scenarios.split(","):
        fn, stack_kw, env = SCENARIOS[name]
        if name in SKIPPED and not args.run_skipped:
            log(f"{name}: SKIPPED: {SKIPPED[name]}")
            rows.append((name, {"seconds": 0, "result": "SKIP", "reason": SKIPPED[name]}))
            skipped = True
            continue
        log(f"{name} ...")
        stack = ChaosStack(args, env=env, **stack_kw)
        t0 = time.monotonic()
        try:
            stack.start()
            r = fn(args, stack)
            ok = r["lost"] == 0
            if not ok and args.trace:
                write_missing(stack)
        except Exception as e:  # noqa: BLE001 - any failure is this scenario's, reported with its logs
            r, ok = {"error": f"{type(e).__name__}: {e}"}, False
        r["seconds"] = round(time.monotonic() - t0, 1)
        r["result"] = "PASS" if ok else "FAIL"
        if not ok:
            failed = True
            args.keep = True
            r["logs"] = stack.dir
        log(f"{name}: {r}")
        rows.append((name, r))
        stack.stop()
        stack.cleanup(args.keep)
    print(f"\nhookstream fault suite — seed {args.seed} — {'full' if args.full else 'CI'} sizes")
    print("| scenario | published | delivered | duplicated | lost | s | result | details |\n|---|---|---|---|---|---|---|---|")
    for name, r in rows:
        details = {k: v for k, v in r.items()
                   if k not in ("published", "delivered", "duplicated", "lost", "seconds", "result")}
        print(f"| {name} | {r.get('published', '-')} | {r.get('delivered', '-')} | {r.get('duplicated', '-')} | "
              f"{r.get('lost', '-')} | {r['seconds']} | {r['result']} | "
              f"{'; '.join(f'{k}={v}' for k, v in details.items())} |")
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)
    sys.exit(1 if failed else 77 if skipped and len(rows) == 1 else 0)


if __name__ == "__main__":
    main()
