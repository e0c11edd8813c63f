#!/usr/bin/env python3
"""The portal in a real browser (issue 16, SPEC §7): starts Redis, Apache Kafka (shared under
ctest), hookstream-api, one hookstream-dispatcher and two hookstream-sinks (one answering 200, one
500), then runs flows.mjs, which drives Debian's Chromium through playwright-core.

Usage: run.py --bin BUILD/bin [--screenshots DIR] [--keep]
playwright-core is installed by `npm ci` here on first use (the npm registry must be reachable
then); Chromium is /usr/bin/chromium (scripts/deps.txt), never downloaded."""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
from stack import Stack, log  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--screenshots", help="also write the main screens here (docs/portal/ in the repo)")
    ap.add_argument("--keep", action="store_true", help="keep the stack's logs")
    args = ap.parse_args()
    if not os.path.exists("/usr/bin/chromium"):
        sys.exit("portal tests: /usr/bin/chromium is missing (apt-get install chromium; scripts/deps.txt)")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        log("portal tests: installing playwright-core (npm ci)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)

    # A retry 200 ms after a failed first attempt, then the delivery has failed for good.
    stack = Stack(os.path.abspath(args.bin), tempfile.gettempdir(), share_kafka=True,
                  env={"HOOKSTREAM_RETRY_SCHEDULE": "200ms", "HOOKSTREAM_SUBSCRIPTION_REFRESH": "100ms"})
    ok = False
    try:
        stack.start()
        admin = subprocess.run([f"{args.bin}/hookstream-api", "keys", "create", "--tenant", "acme", "--scopes",
                                "webhooks:read,webhooks:write,events:write,keys:manage,portal:create",
                                "--rate-limit", "100000"],
                               capture_output=True, text=True, env=stack.env, check=True).stdout.strip()
        stack.dispatcher(1)
        good, bad = stack.sink("sink-ok"), stack.sink("sink-failing", "--status", "500")
        env = dict(os.environ, PORTAL_API=f"http://127.0.0.1:{stack.api_port}", PORTAL_ADMIN_KEY=admin,
                   PORTAL_SINK_OK=f"http://127.0.0.1:{good.port}", PORTAL_SINK_FAILING=f"http://127.0.0.1:{bad.port}")
        if args.screenshots:
            env["PORTAL_SCREENSHOTS"] = os.path.abspath(args.screenshots)
        ok = subprocess.run(["node", os.path.join(HERE, "flows.mjs")], env=env).returncode == 0
    finally:
        stack.stop()
        if not ok:
            log(f"portal tests failed; the stack's logs are in {stack.dir}")
        stack.cleanup(keep=args.keep or not ok)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
