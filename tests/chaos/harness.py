"""Shared pieces of the fault suite (chaos.py): checks, measuring (RSS, descriptors, metrics),
publishers (ApiPublisher, BackgroundProducer, produce), waits, and ChaosStack (bench/stack.py's
Stack with dispatcher restarts). chaos.py puts bench/ and this folder on sys.path."""
import http.client
import json
import os
import subprocess
import threading
import time

from stack import EVENT_TYPE, Stack, event_line, http_json, log, ok_deliveries, sink_stats, wait_until

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
    (`unavailable_at`: time.monotonic() of each answer). A 409 ("in progress; retry": a claim of
    the id that Redis may have recorded during a fault, held until its lease ends) is retried too
    and counted in `conflicts`."""

    def __init__(self, stack, count, prefix, threads=4, rate=None, data_bytes=100, event_type=EVENT_TYPE):
        self.stack, self.count, self.prefix = stack, count, prefix
        self.rate, self.threads_n = rate, threads
        self.data = {"pad": "x" * data_bytes}
        self.event_type = event_type
        self.accepted = 0
        self.unavailable = 0  # 503 answers
        self.unavailable_at = []
        self.conflicts = 0  # 409 answers
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
                    if status == 409:
                        self.conflicts += 1
                    elif status == 503:
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
