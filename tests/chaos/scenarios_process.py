"""Fault-suite scenarios that break processes and receivers: dispatcher crashes and SIGTERM, Redis
restarts and stalls, misbehaving receivers, a paused endpoint and a backlog for an endpoint that is
down (backpressure). chaos.py's SCENARIOS runs them."""
import json
import random
import signal
import time

from bad_receiver import BadReceiver
from harness import (ApiPublisher, BackgroundProducer, RssSampler, ScenarioFailed, await_all_delivered,
                     await_shared_events, check, fd_count, metric, produce, result, rss_mib, sink_counts)
from stack import EVENT_TYPE, free_port, http_json, sink_stats, wait_until


# A dispatcher commits every 200 ms (dispatcher/consumer_loop.cpp).
COMMIT_PERIOD_S = 0.2
# The dispatchers' pending-record bound in this scenario (chaos.py): what one can have in hand.
CRASH_PENDING_RECORDS = 250


def scenario_dispatcher_crashes(args, stack):
    """kill -9 of a random dispatcher at random moments, five times, each restarted.

    Duplicates are bounded per kill by what the victim can have begun and not committed: its
    records in hand (at most HOOKSTREAM_MAX_PENDING_RECORDS, 250 here) and those it finished in the
    last commit period (at the group's rate over the second before the kill, or the producer's if
    higher), two pairs per event. Rebalances must add nothing: a revoked partition's records in
    hand finish and are committed before it is let go. A kill's duplicates can show up after the
    next kill (the group rejoins first), so the run fails when the total exceeds the sum of the
    bounds; each kill's share is reported as seen (between it and the next)."""
    n = args.crash_events
    rng = random.Random(args.seed)
    sink = stack.sink("sink")
    stack.create_webhooks([f"http://127.0.0.1:{sink.port}/a", f"http://127.0.0.1:{sink.port}/b"])
    ds = {1: stack.start_dispatcher(1), 2: stack.start_dispatcher(2)}
    pairs = n * 2
    seconds = max(5.0, n / 1000)
    producer = BackgroundProducer(stack, n, seconds)
    # The random moments: five points of delivery progress, each kill hitting a random dispatcher.
    moments = sorted(rng.uniform(0.05, 0.9) for _ in range(5))
    kills = []  # (victim, pairs delivered, duplicates so far, bound)
    for m in moments:
        wait_until(f"{m:.0%} delivered", lambda: sink_counts([sink])[0] >= m * pairs, args.timeout)
        victim = rng.choice([1, 2])
        ok0, t0 = sink_counts([sink])[1], time.monotonic()
        time.sleep(1.0)  # a measuring window: the group's rate over the second before the kill
        records_per_s = max((sink_counts([sink])[1] - ok0) / (time.monotonic() - t0) / 2, n / seconds)
        ds[victim].send_signal(signal.SIGKILL)
        ds[victim].wait()
        delivered, ok = sink_counts([sink])
        bound = int(2 * (CRASH_PENDING_RECORDS + records_per_s * COMMIT_PERIOD_S))
        kills.append((victim, delivered, ok - delivered, bound))
        ds[victim] = stack.start_dispatcher(victim, wait=False)
    producer.join(args.timeout)
    check(producer.failed == 0, f"hookstream-produce failed {producer.failed} events; see {stack.dir}/produce.log")
    unique, ok = await_all_delivered([sink], pairs, args.timeout, "dispatcher crashes")
    seen = [(kills[k + 1][2] if k + 1 < len(kills) else ok - unique) - dups for k, (_, _, dups, _) in enumerate(kills)]
    described = " ".join(f"d{v}@{at}:{d}/{b}" for (v, at, _, b), d in zip(kills, seen))
    total_bound = sum(b for *_, b in kills)
    check(ok - unique <= total_bound,
          f"{ok - unique} duplicates over the bound of {total_bound} (victim@pairs:duplicates/bound: {described})")
    return result(pairs, unique, ok, seed=args.seed, duplicate_bound=total_bound, kills=described)


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
    return result(pairs, unique, ok, api_503=pub.unavailable, api_409=pub.conflicts, readyz_while_down=ready_down,
                  recovery_s=recovery_s,
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
    # A delivery may also be parked untried (its queue waited too long behind the failing ones):
    # it is not attempted either, and is logged as not attempted when it comes due.
    wait_until("every delivery attempted, parked or logged as not attempted",
               lambda: sum(metric(metrics_port, m) or 0 for m in (
                   "hookstream_delivery_attempts_total", "hookstream_deliveries_not_attempted_total",
                   "hookstream_deliveries_deferred_total")) >= n, args.timeout)
    attempts = int(metric(metrics_port, "hookstream_delivery_attempts_total") or 0)
    pause_logs = open(d.logfile).read().count("endpoint paused after repeated failures")
    # At most the threshold plus the attempts already under way when the pause landed.
    bound = 10 + 8
    check(attempts <= bound, f"{attempts} attempts to an endpoint paused after 10 failures (bound {bound}); "
                             f"'endpoint paused' logged {pause_logs} times")
    check(pause_logs == 1, f"'endpoint paused' logged {pause_logs} times")
    r = result(0, 0, 0, attempts=attempts, pause_logs=pause_logs)
    return r
