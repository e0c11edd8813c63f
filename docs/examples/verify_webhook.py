#!/usr/bin/env python3
"""Verifies a hookstream webhook (a Standard Webhooks signature) with Python's standard library only.

    from verify_webhook import verify
    event = verify(os.environ["WEBHOOK_SECRET"], request.headers, request.get_data())  # raises if invalid

`body` must be the request body exactly as received (bytes or str), not re-serialized JSON. As a
script it reads {"secret": "whsec_…", "headers": {…}, "body": "…"} on stdin and exits 0 if the
webhook verifies, 1 if it does not (the reason on stderr), 2 if the input is unusable:

    python3 verify_webhook.py < delivery.json
"""
import base64
import binascii
import hashlib
import hmac
import json
import sys
import time

# Reject deliveries signed more than 5 minutes before or after now (replayed or forged).
TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(Exception):
    pass


def _header(headers, name):
    # Header names are case-insensitive; frameworks differ in how they spell them.
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def verify(secret, headers, body):
    """Returns the parsed event when one of the `v1,` signatures matches `secret`; raises
    WebhookVerificationError otherwise."""
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not msg_id or not timestamp or not signatures:
        raise WebhookVerificationError(
            "missing webhook-id, webhook-timestamp or webhook-signature header")

    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 15):
        raise WebhookVerificationError(f"webhook-timestamp {timestamp} is not Unix seconds")
    age = time.time() - int(timestamp)
    if age > TOLERANCE_SECONDS:
        raise WebhookVerificationError(f"timestamp too old ({round(age)} s ago)")
    if age < -TOLERANCE_SECONDS:
        raise WebhookVerificationError(f"timestamp too far in the future ({round(-age)} s)")

    # The HMAC key is the base64 text after "whsec_", decoded.
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        key = b""
    if not key:
        raise WebhookVerificationError("the secret is not whsec_<base64>")

    # Signed content: "<webhook-id>.<webhook-timestamp>.<body>".
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    signed = f"{msg_id}.{timestamp}.".encode("utf-8") + raw
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())

    # Space-separated "v1,<base64>" entries: two while the sender rotates its secret.
    for entry in signatures.split(" "):
        version, _, given = entry.partition(",")
        if version == "v1" and hmac.compare_digest(given.encode("utf-8"), expected):
            return json.loads(raw)
    raise WebhookVerificationError("no signature matches this secret")


def main():
    try:
        data = json.loads(sys.stdin.buffer.read())
        headers = data.get("headers") or {}
        if not (isinstance(data.get("secret"), str) and isinstance(data.get("body"), str)
                and isinstance(headers, dict)):
            raise ValueError('expected {"secret": "...", "headers": {...}, "body": "..."}')
    except (ValueError, AttributeError) as e:
        print(f"unusable input: {e}", file=sys.stderr)
        return 2
    try:
        event = verify(data["secret"], headers, data["body"])
    except WebhookVerificationError as e:
        print(f"not verified: {e}", file=sys.stderr)
        return 1
    print(f"verified: {event['id']} ({event['type']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
