// Verifies a hookstream webhook (a Standard Webhooks signature) with Node's standard library only.
//
//   import { verify } from "./verify-webhook.mjs";
//   const event = verify(process.env.WEBHOOK_SECRET, req.headers, rawBody); // throws if invalid
//
// `rawBody` must be the request body exactly as received (a string or a Buffer), not re-serialized
// JSON. As a script it reads {"secret": "whsec_…", "headers": {…}, "body": "…"} on stdin and exits
// 0 if the webhook verifies, 1 if it does not (the reason on stderr), 2 if the input is unusable:
//
//   node verify-webhook.mjs < delivery.json
import { createHmac, timingSafeEqual } from "node:crypto";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

// Reject deliveries signed more than 5 minutes before or after now (replayed or forged).
export const TOLERANCE_SECONDS = 5 * 60;

export class WebhookVerificationError extends Error {}

// Header names are case-insensitive; Node's http module lowercases them, other sources may not.
function header(headers, name) {
  for (const [key, value] of Object.entries(headers ?? {}))
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(" ") : String(value);
  return undefined;
}

// Returns the parsed event when one of the `v1,` signatures matches `secret`; throws
// WebhookVerificationError otherwise.
export function verify(secret, headers, body) {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures)
    throw new WebhookVerificationError(
      "missing webhook-id, webhook-timestamp or webhook-signature header");

  if (!/^\d{1,15}$/.test(timestamp))
    throw new WebhookVerificationError(`webhook-timestamp ${timestamp} is not Unix seconds`);
  const age = Date.now() / 1000 - Number(timestamp);
  if (age > TOLERANCE_SECONDS)
    throw new WebhookVerificationError(`timestamp too old (${Math.round(age)} s ago)`);
  if (age < -TOLERANCE_SECONDS)
    throw new WebhookVerificationError(`timestamp too far in the future (${Math.round(-age)} s)`);

  // The HMAC key is the base64 text after "whsec_", decoded.
  const key = Buffer.from(String(secret).replace(/^whsec_/, ""), "base64");
  if (key.length === 0) throw new WebhookVerificationError("the secret is not whsec_<base64>");

  // Signed content: "<webhook-id>.<webhook-timestamp>.<body>".
  const raw = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
  const expected = Buffer.from(
    createHmac("sha256", key).update(`${id}.${timestamp}.`).update(raw).digest("base64"));

  // Space-separated "v1,<base64>" entries: two while the sender rotates its secret.
  for (const entry of signatures.split(" ")) {
    const comma = entry.indexOf(",");
    if (comma < 0 || entry.slice(0, comma) !== "v1") continue;
    const given = Buffer.from(entry.slice(comma + 1));
    if (given.length === expected.length && timingSafeEqual(given, expected))
      return JSON.parse(raw.toString("utf8"));
  }
  throw new WebhookVerificationError("no signature matches this secret");
}

async function main() {
  let input;
  try {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (typeof input?.secret !== "string" || typeof input.body !== "string")
      throw new Error('expected {"secret": "...", "headers": {...}, "body": "..."}');
  } catch (e) {
    console.error(`unusable input: ${e.message}`);
    return 2;
  }
  try {
    const event = verify(input.secret, input.headers, input.body);
    console.log(`verified: ${event.id} (${event.type})`);
    return 0;
  } catch (e) {
    console.error(`not verified: ${e.message}`);
    return 1;
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = await main();
