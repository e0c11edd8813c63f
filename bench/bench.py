#!/usr/bin/env python3
"""hookstream benchmark: real binaries, real Redis, Apache Kafka, hookstream-sink.

The bench starts one Apache Kafka broker of its own (scripts/kafka) for the whole run and warms
its JVM up; each scenario run starts a fresh stack on it (Redis, its own topics and consumer group
under a topic prefix of its own, hookstream-api for set-up, dispatcher(s), sink(s)), runs, and is
repeated; figures are medians with min/max. The ceilings are `wrk` POSTing bodies of the same size
to the same receiver, and kcat reading the same events from the same broker, in the same run.
Delivery log and signing stay on, as in production. Run through ./bench/run (which builds first).
The throughput scenario also runs a do-it-yourself peer (bench/peer: BullMQ on a Redis of its own,
Node worker processes) on the same receiver with the same events, after hookstream (--no-peer: not).
--smoke (ctest) uses the broker ctest shares when HOOKSTREAM_TEST_KAFKA_BOOTSTRAP_FILE names one.
"""
import argparse
import base64
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from stack import (EVENT_TYPE, Kafka, Stack, cpu_seconds, event_line, http_json, log, ok_deliveries,
                   peak_rss_mib, process_alive, wait_delivered, wait_until)

PEER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer")


class Measure:
    """Dispatcher CPU seconds and peak RSS over a scenario, and the CPU the rest of the stack
    (Redis, Kafka's JVM, the receivers, the API) spent meanwhile."""

    def __init__(self, dispatchers, stack=None):
        self.ds = dispatchers
        self.others = []  # (role, pid): the rest of the stack
        if stack:
            kafka = stack.kafka_pids()
            self.others = [("kafka", pid) for pid in kafka] + [
                (p.name.rstrip("0123456789-"), p.pid) for p in stack.procs
                if p not in dispatchers and p.pid not in kafka and p.poll() is None]
        self.cpu0 = sum(cpu_seconds(d.pid) for d in dispatchers)
        self.other0 = {pid: cpu_seconds(pid) for _, pid in self.others}
        self.stack = stack
        self.redis0 = redis_calls(stack) if stack else 0

    def done(self, deliveries):
        cpu = sum(cpu_seconds(d.pid) for d in self.ds) - self.cpu0
        r = {"cpu_s_per_1k": round(cpu / max(deliveries, 1) * 1000, 4),
             "peak_rss_mib": round(max(peak_rss_mib(d.pid) for d in self.ds), 1)}
        by_role = {}
        for role, pid in self.others:
            if process_alive(pid):
                by_role[role] = by_role.get(role, 0.0) + cpu_seconds(pid) - self.other0[pid]
        for role, c in sorted(by_role.items()):
            r[f"{role}_cpu_s_per_1k"] = round(c / max(deliveries, 1) * 1000, 4)
        if self.stack:
            # Exact where CPU figures are noisy: every command Redis ran, scripts' inner calls included.
            r["redis_calls_per_delivery"] = round((redis_calls(self.stack) - self.redis0) / max(deliveries, 1), 2)
        return r


def redis_calls(stack):
    """Commands Redis has run (INFO commandstats, scripts' inner calls included; INFO itself not)."""
    text = stack.redis_cli("INFO", "commandstats") or ""
    return sum(int(line.split("calls=", 1)[1].split(",", 1)[0]) for line in text.splitlines()
               if line.startswith("cmdstat_") and not line.startswith("cmdstat_info:"))


def rate_from_stats(stats, deliveries):
    first = min(st["first_ok_at_ms"] for st in stats if st["first_ok_at_ms"])
    last = max(st["last_ok_at_ms"] for st in stats)
    return deliveries / max((last - first) / 1000.0, 1e-3)


# --- scenarios -------------------------------------------------------------------------------

def scenario_throughput(args, stack):
    n = args.events
    # --smoke: the receiver also verifies signatures with the peer's secret (hookstream's, signed
    # with the webhook's own secret, count as invalid there and are still answered 2xx).
    peer_secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    sink = stack.sink("sink", *(["--secret", peer_secret] if args.smoke and args.peer else []))
    stack.create_webhooks([f"http://127.0.0.1:{sink.port}/hook"])
    stack.publish(n, 1024)
    read = kafka_read_rate(stack, n)
    d = stack.dispatcher()
    m = Measure([d], stack)
    stats = wait_delivered([sink], n, args.timeout, "throughput")
    r = {"deliveries_per_s": round(rate_from_stats(stats, n)), "delivered": ok_deliveries(stats[0]), "expected": n}
    if read:
        r["kcat_read_per_s"] = read
    r.update(m.done(n))
    if args.peer:
        d.terminate()  # the peer runs alone: hookstream's dispatcher stops, its Redis and API idle
        d.wait(30)
        http_json(sink.port, "POST", "/stats/reset")
        r.update(run_peer(args, sink, n, peer_secret, stack.dir))
        r["ratio_to_peer"] = round(r["deliveries_per_s"] / r["peer_deliveries_per_s"], 3)
    return r, sink


def run_peer(args, sink, n, secret, workdir):
    """The do-it-yourself peer (bench/peer) on `sink`: the same `n` events enqueued ahead as BullMQ
    jobs on a Redis of its own (started as a stack starts its Redis), then args.peer_workers Node
    worker processes POSTing them. Fails unless every event's id was answered 2xx. Its logs go in
    `workdir` (the hookstream stack's directory, kept or removed with it)."""
    peer = Stack(args.bin, workdir)  # only its Redis and its process handling are used
    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{peer.redis_port}",
           "WEBHOOK_URL": f"http://127.0.0.1:{sink.port}/hook", "WEBHOOK_SECRET": secret,
           "CONCURRENCY": str(args.peer_concurrency)}
    try:
        peer.start_redis()
        enqueue = peer.spawn("enqueue", ["node", os.path.join(PEER_DIR, "enqueue.js")], env=env,
                             stdin=subprocess.PIPE)
        enqueue.stdin.writelines(itertools.repeat(event_line(1024).encode(), n))
        enqueue.stdin.close()
        if enqueue.wait(args.timeout) != 0:
            raise RuntimeError(f"peer: enqueue.js failed; see {enqueue.logfile}")
        workers = [peer.spawn(f"worker-{i}", ["node", os.path.join(PEER_DIR, "worker.js")], env=env)
                   for i in range(1, args.peer_workers + 1)]
        for w in workers:
            wait_until(w.name, lambda: " ready" in open(w.logfile).read(), 30, w, w.logfile)
        m = Measure(workers, peer)
        stats = wait_delivered([sink], n, args.timeout, "peer")[0]
        if stats["unique_ok"] != n:
            raise RuntimeError(f"peer: {stats['unique_ok']} of {n} events answered 2xx")
        if args.smoke and stats["verified"] != stats["deliveries"]:
            raise RuntimeError(f"peer: {stats['verified']} of {stats['deliveries']} signatures verified")
        r = {"peer_deliveries_per_s": round(rate_from_stats([stats], n)), "peer_delivered_unique": stats["unique_ok"]}
        r.update({f"peer_{k}": v for k, v in m.done(n).items()})
        return r
    finally:
        peer.stop()


def peer_deps():
    """npm ci in bench/peer when its node_modules is missing or older than its lock file."""
    installed = os.path.join(PEER_DIR, "node_modules", ".package-lock.json")
    wanted = max(os.path.getmtime(os.path.join(PEER_DIR, f)) for f in ("package.json", "package-lock.json"))
    if os.path.exists(installed) and os.path.getmtime(installed) >= wanted:
        return
    log("installing the peer's npm packages (npm ci --prefix bench/peer)")
    if subprocess.run(["npm", "ci", "--prefix", PEER_DIR, "--no-audit", "--no-fund", "--loglevel=error"],
                      stdout=subprocess.DEVNULL).returncode:
        raise RuntimeError("npm ci in bench/peer failed: the npm registry must be reachable the first time")


def kafka_read_rate(stack, n):
    """kcat reading the published events from the same broker: the reading ceiling."""
    if not shutil.which("kcat"):
        return None
    t0 = time.monotonic()
    out = subprocess.run(["kcat", "-C", "-q", "-e", "-o", "beginning", "-b", stack.env["HOOKSTREAM_KAFKA_BROKERS"],
                          "-t", stack.events_topic, "-f", "%o\\n"],
                         capture_output=True, text=True, timeout=600)
    got = out.stdout.count("\n")
    if out.returncode != 0 or got < n:
        log(f"kcat read {got} of {n} events (exit {out.returncode}): no reading ceiling")
        return None
    return round(got / (time.monotonic() - t0))


def scenario_scale(processes, shards):
    """Scale-out: scenario 1's events to `processes` dispatchers of `shards` io threads each, all
    started together (they share the events' partitions after one rebalance). Endpoint slots are
    raised to 64 so that the per-endpoint limit (8 per process by default) is not what is measured."""
    def run(args, stack):
        n = args.events
        sink = stack.sink("sink")
        stack.create_webhooks([f"http://127.0.0.1:{sink.port}/hook"])
        stack.publish(n, 1024)
        env = {"HOOKSTREAM_DISPATCHER_SHARDS": str(shards), "HOOKSTREAM_MAX_IN_FLIGHT_PER_ENDPOINT": "64"}
        ds = [stack.dispatcher(i, env=env, wait=False) for i in range(1, processes + 1)]
        for d in ds:
            stack.wait_joined(d)
        m = Measure(ds, stack)
        stats = wait_delivered([sink], n, args.timeout, f"scale {processes}x{shards}")
        r = {"deliveries_per_s": round(rate_from_stats(stats, n)), "delivered": ok_deliveries(stats[0]),
             "expected": n}
        r.update(m.done(n))
        return r, sink
    return run


def scenario_fanout(args, stack):
    endpoints, n = args.endpoints, args.fanout_events
    sink = stack.sink("sink")
    stack.create_webhooks([f"http://127.0.0.1:{sink.port}/e{i}" for i in range(endpoints)])
    d = stack.dispatcher()
    m = Measure([d], stack)
    stack.publish(n, 1024)
    stats = wait_delivered([sink], n * endpoints, args.timeout, "fan-out")
    r = {"deliveries_per_s": round(rate_from_stats(stats, n * endpoints)), "delivered": ok_deliveries(stats[0]),
         "expected": n * endpoints}
    r.update(m.done(n * endpoints))
    return r, sink


class Publisher:
    """One hookstream-produce for the whole scenario, as a service keeps its producer: the warm-up
    goes through it too, so its start (connecting, fetching metadata) is not measured as latency
    (an event's timestamp is set when the producer reads it)."""

    def __init__(self, stack):
        self.p = stack.producer(subprocess.PIPE)
        self.line = event_line(1024).encode()

    def warm_up(self, sinks, per_event, events=2000):
        """Events first, so connection set-up and the first fetch of every partition are not
        measured: 2,000 random keys reach every events partition (the consumer resolves each
        partition's start offset when it first has data; with 20 warm-up events, the first second
        of the stream waited up to 1 s for that)."""
        self.p.stdin.write(self.line * events)
        self.p.stdin.flush()
        wait_delivered(sinks, events * per_event, 120, "warm-up")
        for s in sinks:
            http_json(s.port, "POST", "/stats/reset")

    def paced(self, rate, seconds):
        """`rate` events/s for `seconds` (in 5 ms steps); returns the count, all acknowledged."""
        start, sent, total_n = time.monotonic(), 0, int(rate * seconds)
        while sent < total_n:
            due = min(total_n, int((time.monotonic() - start) * rate) + 1)
            if due > sent:
                self.p.stdin.write(self.line * (due - sent))
                self.p.stdin.flush()
                sent = due
            time.sleep(0.005)
        self.p.stdin.close()
        if self.p.wait() != 0:
            raise RuntimeError("hookstream-produce failed")
        return total_n


def scenario_latency(args, stack):
    sink = stack.sink("sink")
    stack.create_webhooks([f"http://127.0.0.1:{sink.port}/hook"])
    d = stack.dispatcher()
    pub = Publisher(stack)
    pub.warm_up([sink], 1)
    m = Measure([d], stack)
    n = pub.paced(args.rate, args.seconds)
    stats = wait_delivered([sink], n, args.timeout, "latency")[0]
    lat = stats["latency_ms"]
    r = {"p50_ms": lat["p50"], "p95_ms": lat["p95"], "p99_ms": lat["p99"], "delivered": ok_deliveries(stats),
         "expected": n}
    r.update(m.done(n))
    return r, sink


def scenario_isolation(args, stack):
    healthy = stack.sink("healthy")
    sick = stack.sink("sick", "--hang")
    stack.create_webhooks([f"http://127.0.0.1:{healthy.port}/h{i}" for i in range(10)] +
                          [f"http://127.0.0.1:{sick.port}/never"])
    d = stack.dispatcher(env={"HOOKSTREAM_DELIVERY_TIMEOUT": "2s"})
    pub = Publisher(stack)
    pub.warm_up([healthy], 10)
    m = Measure([d], stack)
    n = pub.paced(args.rate // 10, args.seconds)
    stats = wait_delivered([healthy], n * 10, args.timeout, "isolation")[0]
    lat = stats["latency_ms"]
    r = {"healthy_p50_ms": lat["p50"], "healthy_p99_ms": lat["p99"], "delivered": ok_deliveries(stats),
         "expected": n * 10}
    r.update(m.done(n * 10))
    return r, healthy


def scenario_failures(args, stack):
    n = args.failure_events
    sink = stack.sink("sink", "--fail-percent", "30")
    stack.create_webhooks([f"http://127.0.0.1:{sink.port}/hook"])
    d = stack.dispatcher()
    m = Measure([d], stack)
    stack.publish(n, 1024)
    stats = wait_delivered([sink], n, args.timeout, "failures")[0]
    # Every event must have a 2xx: with 30% of attempts failing, 20 attempts leave an event failed for
    # good (recorded, not lost) with odds 0.3^20 = 3.5e-11; with the default 10 it was 6e-6 an event,
    # and one of 60,000 events in three runs did fail 10 times (2026-12-02).
    r = {"delivered_unique": stats["unique_ok"], "expected": n, "lost": n - stats["unique_ok"],
         "attempts": stats["deliveries"], "failed_attempts": stats["deliveries"] - ok_deliveries(stats)}
    r.update(m.done(stats["deliveries"]))
    return r, sink


SCENARIOS = {
    "throughput": (scenario_throughput, {}),
    "fanout": (scenario_fanout, {}),
    "latency": (scenario_latency, {}),
    # The sick endpoint stays sick for the whole run: with the default, 10 timeouts pause it (by
    # design) a few seconds in, and the rest of the run would measure a paused endpoint.
    "isolation": (scenario_isolation, {"HOOKSTREAM_PAUSE_AFTER_FAILURES": "1000000"}),
    # Retries, not pausing, are under test: 30% failures make 10 in a row likely over ~28,000
    # attempts, which would pause the endpoint (by design) and park the rest as not attempted.
    # Scale-out (issue 15): one process on one core, one process on both, two processes.
    "scale_1x1": (scenario_scale(1, 1), {}),
    "scale_1x2": (scenario_scale(1, 2), {}),
    "scale_2x1": (scenario_scale(2, 1), {}),
    "failures": (scenario_failures, {"HOOKSTREAM_RETRY_SCHEDULE": "5ms,10ms,20ms,50ms,100ms,200ms,500ms,1s,1s,"
                                                                  "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s",
                                     "HOOKSTREAM_PAUSE_AFTER_FAILURES": "1000000"}),
}


def start_kafka(args, workdir):
    """The bench's Apache Kafka, one broker for the whole run, or None for ctest's (smoke only).

    One broker, warmed up, not one per scenario run: a JVM interprets at first and compiles its hot
    paths (and grows its heap) over the first minute or two of load, and a fresh broker per run
    measures that too (the latency scenario on a fresh broker: Kafka 0.35 CPU-s per 1,000
    deliveries, p99 317 ms; after this warm-up 0.19). The warm-up mirrors the scenarios' traffic
    under a topic prefix of its own: a bulk publish, then a paced stream, while a consumer group
    (kcat -G) reads and commits."""
    if args.smoke and os.environ.get("HOOKSTREAM_TEST_KAFKA_BOOTSTRAP_FILE"):
        return None
    kafka = Kafka(os.path.join(workdir, "kafka"))
    log(f"starting Apache Kafka (log in {kafka.logfile})")
    kafka.start()
    t0 = time.monotonic()
    warm = Stack(args.bin, workdir, kafka=kafka, env={"HOOKSTREAM_TOPIC_PREFIX": "bench-warm-up"})
    bulk, rate, seconds = args.warm_up
    try:
        warm.start_kafka()
        reader = subprocess.Popen(["kcat", "-q", "-b", kafka.bootstrap, "-G", "bench-warm-up", "-o", "beginning",
                                   "-c", str(bulk + int(rate * seconds)), warm.events_topic],
                                  stdout=subprocess.DEVNULL)
        warm.publish(bulk, 1024)
        Publisher(warm).paced(rate, seconds)
        reader.wait(120)
    except BaseException:
        kafka.stop()
        raise
    finally:
        warm.cleanup(args.keep)
    log(f"Kafka at {kafka.bootstrap} warmed up in {time.monotonic() - t0:.0f} s")
    return kafka


def wrk_ceiling(args, bin_dir, workdir, body_bytes):
    """wrk POSTing a body of the events' size to hookstream-sink: the receiver's ceiling."""
    if not shutil.which("wrk"):
        return None
    stack = Stack(bin_dir, workdir)
    try:
        sink = stack.sink("sink")
        script = os.path.join(stack.dir, "post.lua")
        with open(script, "w") as f:
            body = json.dumps({"type": EVENT_TYPE, "data": {"pad": "x" * body_bytes}})
            f.write('wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\n'
                    f"wrk.body = {json.dumps(body)}\n")
        out = subprocess.run(["wrk", "-t1", "-c64", f"-d{args.wrk_seconds}s", "-s", script,
                              f"http://127.0.0.1:{sink.port}/hook"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Requests/sec:"):
                return float(line.split()[1])
        return None
    finally:
        stack.stop()
        stack.cleanup(args.keep)


def summarize(values):
    nums = [v for v in values if isinstance(v, (int, float))]
    if not nums:
        return values[0] if values else None
    return {"median": statistics.median(nums), "min": min(nums), "max": max(nums)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="directory of the hookstream binaries")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes: checks completion, not speed")
    ap.add_argument("--out", default=None, help="JSON results file")
    ap.add_argument("--keep", action="store_true", help="keep each stack's logs")
    ap.add_argument("--throughput-events", type=int, default=None,
                    help="events of the throughput scenario (default 200,000; smoke 2,000)")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="extra environment for every process of every stack (repeatable)")
    ap.add_argument("--filter", type=json.loads, default=None, metavar="JSON",
                    help="a filter (SPEC §4) on every webhook, e.g. one every event matches: "
                         "'{\"type\":\"submission.completed\",\"data\":{\"pad\":{\"$exists\":true}}}'")
    ap.add_argument("--no-peer", dest="peer", action="store_false",
                    help="skip the do-it-yourself peer (bench/peer) in the throughput scenario")
    ap.add_argument("--peer-workers", type=int, default=os.cpu_count(),
                    help="the peer's worker processes (default: one per core, %(default)s)")
    ap.add_argument("--peer-concurrency", type=int, default=64, help="jobs in flight per peer worker process")
    args = ap.parse_args()
    args.events, args.endpoints, args.fanout_events = 200_000, 1000, 200
    args.rate, args.seconds, args.failure_events = 2000, 30, 20_000
    args.timeout, args.wrk_seconds, args.warm_up = 600, 10, (100_000, 2000, 30)
    if args.smoke:
        args.events, args.endpoints, args.fanout_events = 2000, 20, 20
        args.rate, args.seconds, args.failure_events = 200, 3, 500
        args.timeout, args.wrk_seconds, args.repeat, args.warm_up = 120, 2, 1, (2000, 200, 2)
    if args.throughput_events:
        args.events = args.throughput_events
    extra_env = dict(kv.split("=", 1) for kv in args.env)

    workdir = tempfile.mkdtemp(prefix="hookstream-bench-")
    results = {"machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                           "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                                        if l.startswith("model name")), "?")},
               "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "smoke": args.smoke, "webhook_filter": args.filter,
               "scenarios": {}}
    args.peer = args.peer and "throughput" in args.scenarios.split(",")
    if args.peer:
        peer_deps()
        with open(os.path.join(PEER_DIR, "node_modules", "bullmq", "package.json")) as f:
            bullmq = json.load(f)["version"]
        results["peer"] = {"what": f"BullMQ {bullmq} on a Redis of its own, undici keep-alive Pool",
                           "worker_processes": args.peer_workers, "concurrency": args.peer_concurrency}
    ceilings = []
    failed = False
    kafka = start_kafka(args, workdir)
    try:
        for name in args.scenarios.split(","):
            fn, env = SCENARIOS[name]
            runs = []
            for i in range(args.repeat):
                log(f"{name} run {i + 1}/{args.repeat}")
                stack = Stack(args.bin, workdir, env={**env, **extra_env}, kafka=kafka,
                              share_kafka=args.smoke)
                stack.webhook_filter = args.filter
                try:
                    stack.start()
                    r, _ = fn(args, stack)
                    runs.append(r)
                    log(f"{name}: {r}")
                except Exception as e:  # report and go on with the other scenarios
                    failed = True
                    log(f"{name} FAILED: {e} (logs in {stack.dir})")
                    args.keep = True
                finally:
                    stack.stop()
                    stack.cleanup(args.keep)
            if name in ("throughput", "fanout") and runs:
                c = wrk_ceiling(args, args.bin, workdir, 1024)
                if c:
                    ceilings.append(c)
            results["scenarios"][name] = {
                "runs": runs,
                "summary": {k: summarize([r[k] for r in runs]) for k in (runs[0] if runs else {})},
            }
    finally:
        if kafka:
            kafka.stop()
    if ceilings:
        results["wrk_ceiling_per_s"] = summarize(ceilings)
        for name in ("throughput", "fanout"):
            s = results["scenarios"].get(name, {}).get("summary", {})
            if "deliveries_per_s" in s:
                s["ratio_to_wrk"] = round(s["deliveries_per_s"]["median"] / statistics.median(ceilings), 3)
    if not args.smoke:  # tiny sizes say nothing about the targets
        results["bars"] = check_bars(results)
    print_table(results)
    if args.out and not args.smoke:  # a smoke run never replaces the recorded figures
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
        log(f"results in {args.out}")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    lost = results["scenarios"].get("failures", {}).get("summary", {}).get("lost")
    if failed or (isinstance(lost, dict) and lost["max"] > 0):
        sys.exit(1)


# Issue 15's targets, checked against the medians of the run: (what, scenario, metric, bar, higher
# is better). Peak RSS is checked in every scenario that ran.
BARS = [
    ("scenario 1 deliveries/s", "throughput", "deliveries_per_s", 20_000, True),
    ("scenario 1 × wrk ceiling", "throughput", "ratio_to_wrk", 0.35, True),
    ("scenario 1 × the peer", "throughput", "ratio_to_peer", 1.5, True),
    ("fan-out deliveries/s", "fanout", "deliveries_per_s", 20_000, True),
    ("dispatcher CPU-s per 1,000 (scenario 1)", "throughput", "cpu_s_per_1k", 0.025, False),
    ("Redis CPU-s per 1,000 (scenario 1)", "throughput", "redis_cpu_s_per_1k", 0.015, False),
    ("Redis commands per delivery (scenario 1)", "throughput", "redis_calls_per_delivery", 2, False),
    ("Redis commands per delivery (fan-out)", "fanout", "redis_calls_per_delivery", 2, False),
    ("latency p99 ms at 2,000 events/s", "latency", "p99_ms", 50, False),
    ("healthy p99 ms next to a hanging endpoint", "isolation", "healthy_p99_ms", 100, False),
]


def check_bars(results):
    """[{what, median, bar, met}] for every bar whose figure the run has."""
    out = []
    scenarios = results["scenarios"]
    for what, name, key, bar, higher in BARS:
        v = scenarios.get(name, {}).get("summary", {}).get(key)
        if v is None:
            continue
        median = v["median"] if isinstance(v, dict) else v
        out.append({"what": what, "median": median, "bar": bar, "met": median >= bar if higher else median <= bar})
    for name, sc in scenarios.items():
        v = sc.get("summary", {}).get("peak_rss_mib")
        if isinstance(v, dict):
            out.append({"what": f"dispatcher peak RSS MiB ({name}, max of runs)", "median": v["max"], "bar": 256,
                        "met": v["max"] <= 256})
    return out


def fmt(v):
    if isinstance(v, dict) and "median" in v:
        return f"{v['median']:g} ({v['min']:g}–{v['max']:g})"
    return str(v)


def print_table(results):
    print(f"\nhookstream bench — {results['date']} — {results['machine']['cpus']} CPUs, {results['machine']['cpu']}")
    if "wrk_ceiling_per_s" in results:
        print(f"wrk ceiling (same receiver, 1 KiB POSTs): {fmt(results['wrk_ceiling_per_s'])} req/s")
    tp = results["scenarios"].get("throughput", {}).get("summary", {})
    if "peer_deliveries_per_s" in tp:
        p = results["peer"]
        print(f"throughput: hookstream {fmt(tp['deliveries_per_s'])}/s, do-it-yourself peer ({p['what']}, "
              f"{p['worker_processes']} processes × {p['concurrency']}) {fmt(tp['peer_deliveries_per_s'])}/s, "
              f"ratio {fmt(tp['ratio_to_peer'])}")
    print("| scenario | metric | median (min–max) |\n|---|---|---|")
    for name, s in results["scenarios"].items():
        for k, v in s["summary"].items():
            print(f"| {name} | {k} | {fmt(v)} |")
    if results.get("bars"):
        print("\n| target (issue 15) | this run | bar | met |\n|---|---|---|---|")
        for b in results["bars"]:
            print(f"| {b['what']} | {b['median']:g} | {b['bar']:g} | {'yes' if b['met'] else 'NO'} |")


if __name__ == "__main__":
    main()
