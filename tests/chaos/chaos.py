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
import os
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ChaosStack, write_missing  # noqa: E402
from scenarios_kafka import (scenario_broker_faults, scenario_broker_kill, scenario_commit_failures,  # noqa: E402
                             scenario_offset_retention)
from scenarios_process import (scenario_backpressure, scenario_dispatcher_crashes,  # noqa: E402
                               scenario_paused_endpoint, scenario_receiver_chaos, scenario_redis_restart,
                               scenario_sigterm_under_load)
from stack import log  # noqa: E402


# Scenarios that find a bug whose fix belongs to code under other work: skipped (exit 77 in
# ctest) with the bug named, run with --run-skipped.
SKIPPED = {}

SCENARIOS = {
    # name: (function, Stack keywords, environment). Stack(): Apache Kafka, shared under ctest.
    "broker_faults": (scenario_broker_faults, {"kafka_control": True},
                      {"HOOKSTREAM_PRODUCE_TIMEOUT": "2s"}),
    # Its duplicate bound counts on this pending-record bound (scenarios_process.CRASH_PENDING_RECORDS).
    "dispatcher_crashes": (scenario_dispatcher_crashes, {}, {"HOOKSTREAM_MAX_PENDING_RECORDS": "250"}),
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
    args.kill_api_events, args.kill_produce_events, args.kill_seconds = 10_000, 10_000, 90
    args.kill_produce_timeout_s = 10  # broker_kill's HOOKSTREAM_PRODUCE_TIMEOUT
    args.timeout, args.rss_bound_mib, args.rss_slack_mib, args.healthy_p99_ms = 600, 256, 16, 2000
    if not args.full:
        args.broker_events, args.crash_events, args.redis_events = 5_000, 5_000, 3_000
        args.sigterm_events, args.backlog_events, args.healthy_events = 2_000, 50_000, 100
        args.kill_api_events, args.kill_produce_events, args.kill_seconds = 2_000, 2_000, 60
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
