#!/usr/bin/env node
// A webhook receiver for integration tests and demos. Records every request it gets and verifies
// its Standard Webhooks signature with the reference `standardwebhooks` library, so a test proves
// that a third-party verifier accepts what hookstream sends (SPEC §4).
//
//   node receiver.mjs --port P [--host H] [--tls-cert F --tls-key F] [--control-port Q]
//                     [--config FILE] [--quiet]
//
// --port 0 picks a free port. When ready it prints `control <Q>` (only with --control-port), then
// `listening <P>`, on stdout. SIGTERM/SIGINT: exits 0.
// --control-port adds a plain-HTTP listener (same handlers) so a test can drive an HTTPS receiver
// with a plain HTTP client. --config FILE: JSON object {"<path>": <behaviour>, …}.
//
// Any method on any path outside /_control/ is recorded and answered by the path's behaviour:
//   {"secrets": ["whsec_…"],       verification secrets; verified if any of them verifies
//    "statuses": [500, 500, 200],  one per request, the last repeats (default [200]);
//                                  0 = close the connection without answering
//    "hang": false,                never answer (the socket stays open until the client leaves)
//    "delay_ms": 0,                wait before answering
//    "body": "ok",                 response body
//    "headers": {"Retry-After": "1"}}  response headers
// Control (never recorded):
//   PUT    /_control/paths/<urlencoded path>   body: a behaviour (replaces it, restarts statuses)
//   GET    /_control/paths/<urlencoded path>   the behaviour and how many statuses were consumed
//   DELETE /_control/paths/<urlencoded path>   back to the default behaviour
//   GET    /_control/received[?path=P]         JSON array of records (oldest first)
//   GET    /_control/count[?path=P]            {"count": N}
//   DELETE /_control/received[?path=P]         forget records (all, or P's)
//   GET    /_control/health                    200 {"status":"ok","pending":N} (N: requests not
//                                               answered yet: hanging or delayed)
// A record: {path, target, method, headers (lowercase names), body (UTF-8), received_at_ms,
//            verified, verify_error, attempt (x-hookstream-attempt or null), id (webhook-id or
//            null), status (what was answered: a status, 0 for a closed connection, null while
//            hanging or delayed)}.
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import { Webhook } from "standardwebhooks";

const CONTROL = "/_control/";

function parseArgs(argv) {
  const opts = { port: null, host: "127.0.0.1", controlPort: null, quiet: false };
  const valued = {
    "--port": "port",
    "--host": "host",
    "--tls-cert": "tlsCert",
    "--tls-key": "tlsKey",
    "--control-port": "controlPort",
    "--config": "config",
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quiet") {
      opts.quiet = true;
    } else if (arg in valued) {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      opts[valued[arg]] = argv[++i];
    } else {
      usage(`unknown argument ${arg}`);
    }
  }
  for (const key of ["port", "controlPort"]) {
    if (opts[key] === null) continue;
    const n = Number(opts[key]);
    if (!Number.isInteger(n) || n < 0 || n > 65535) usage(`bad port ${opts[key]}`);
    opts[key] = n;
  }
  if (opts.port === null) usage("--port is required");
  if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) usage("--tls-cert and --tls-key go together");
  return opts;
}

function usage(message) {
  process.stderr.write(
    `receiver: ${message}\nusage: node receiver.mjs --port P [--host H] ` +
      "[--tls-cert F --tls-key F] [--control-port Q] [--config FILE] [--quiet]\n",
  );
  process.exit(2);
}

// Validates a behaviour; returns [behaviour, null] or [null, error message].
function parseBehaviour(input) {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    return [null, "behaviour must be a JSON object"];
  }
  const known = new Set(["secrets", "statuses", "hang", "delay_ms", "body", "headers"]);
  for (const key of Object.keys(input)) {
    if (!known.has(key)) return [null, `unknown field ${key}`];
  }
  const b = { secrets: [], statuses: [200], hang: false, delay_ms: 0, body: "ok", headers: {} };
  if (input.secrets !== undefined) {
    if (!Array.isArray(input.secrets) || !input.secrets.every((s) => typeof s === "string")) {
      return [null, "secrets must be an array of strings"];
    }
    for (const s of input.secrets) {
      try {
        new Webhook(s);
      } catch (e) {
        return [null, `invalid secret ${JSON.stringify(s)}: ${e.message}`];
      }
    }
    b.secrets = [...input.secrets];
  }
  if (input.statuses !== undefined) {
    const ok =
      Array.isArray(input.statuses) &&
      input.statuses.length > 0 &&
      input.statuses.every((s) => Number.isInteger(s) && (s === 0 || (s >= 100 && s <= 599)));
    if (!ok) return [null, "statuses must be a non-empty array of 0 or 100..599"];
    b.statuses = [...input.statuses];
  }
  if (input.hang !== undefined) {
    if (typeof input.hang !== "boolean") return [null, "hang must be a boolean"];
    b.hang = input.hang;
  }
  if (input.delay_ms !== undefined) {
    if (!Number.isFinite(input.delay_ms) || input.delay_ms < 0) {
      return [null, "delay_ms must be a non-negative number"];
    }
    b.delay_ms = input.delay_ms;
  }
  if (input.body !== undefined) {
    if (typeof input.body !== "string") return [null, "body must be a string"];
    b.body = input.body;
  }
  if (input.headers !== undefined) {
    const h = input.headers;
    if (h === null || typeof h !== "object" || Array.isArray(h)) {
      return [null, "headers must be an object"];
    }
    for (const [k, v] of Object.entries(h)) {
      if (typeof v !== "string") return [null, `header ${k} must be a string`];
    }
    b.headers = { ...h };
  }
  return [b, null];
}

const opts = parseArgs(process.argv.slice(2));
const log = opts.quiet ? () => {} : (line) => process.stderr.write(`receiver: ${line}\n`);

const behaviours = new Map(); // path -> {behaviour, next}
const records = [];
const pending = new Set(); // responses not answered yet (hanging or delayed)

if (opts.config) {
  let config;
  try {
    config = JSON.parse(fs.readFileSync(opts.config, "utf8"));
  } catch (e) {
    usage(`cannot read --config ${opts.config}: ${e.message}`);
  }
  for (const [path, input] of Object.entries(config ?? {})) {
    const [b, err] = parseBehaviour(input);
    if (err) usage(`--config ${opts.config}: ${path}: ${err}`);
    behaviours.set(path, { behaviour: b, next: 0 });
  }
}

function behaviourFor(path) {
  let entry = behaviours.get(path);
  if (!entry) {
    const [b] = parseBehaviour({});
    entry = { behaviour: b, next: 0 };
    behaviours.set(path, entry);
  }
  return entry;
}

function verify(secrets, body, headers) {
  if (secrets.length === 0) return [false, "no secret"];
  const errors = [];
  for (const secret of secrets) {
    try {
      // jsonParse: false, or a correctly signed body that is not JSON would count as a failure.
      new Webhook(secret).verify(body, headers, { jsonParse: false });
      return [true, null];
    } catch (e) {
      if (!errors.includes(e.message)) errors.push(e.message);
    }
  }
  return [false, errors.join("; ")];
}

function sendJson(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

function handleControl(req, res, url, body) {
  const rest = url.pathname.slice(CONTROL.length);
  const pathFilter = url.searchParams.get("path");
  const select = () => (pathFilter === null ? records : records.filter((r) => r.path === pathFilter));

  if (rest === "health" && req.method === "GET") {
    return sendJson(res, 200, { status: "ok", pending: pending.size });
  }
  if (rest === "received" && req.method === "GET") return sendJson(res, 200, select());
  if (rest === "count" && req.method === "GET") return sendJson(res, 200, { count: select().length });
  if (rest === "received" && req.method === "DELETE") {
    const keep = pathFilter === null ? [] : records.filter((r) => r.path !== pathFilter);
    records.length = 0;
    records.push(...keep);
    return sendJson(res, 200, { status: "ok" });
  }
  if (rest.startsWith("paths/")) {
    let path;
    try {
      path = decodeURIComponent(rest.slice("paths/".length));
    } catch {
      return sendJson(res, 400, { error: "bad path encoding" });
    }
    if (!path.startsWith("/")) path = `/${path}`;
    if (req.method === "PUT") {
      let input;
      try {
        input = body.length === 0 ? {} : JSON.parse(body);
      } catch (e) {
        return sendJson(res, 400, { error: `invalid JSON: ${e.message}` });
      }
      const [b, err] = parseBehaviour(input);
      if (err) return sendJson(res, 400, { error: err });
      behaviours.set(path, { behaviour: b, next: 0 });
      return sendJson(res, 200, { path, ...b });
    }
    if (req.method === "GET") {
      const entry = behaviourFor(path);
      return sendJson(res, 200, { path, ...entry.behaviour, consumed: entry.next });
    }
    if (req.method === "DELETE") {
      behaviours.delete(path);
      return sendJson(res, 200, { status: "ok" });
    }
  }
  return sendJson(res, 404, { error: `no control endpoint ${req.method} ${url.pathname}` });
}

function handleDelivery(req, res, url, body) {
  const entry = behaviourFor(url.pathname);
  const b = entry.behaviour;
  const [verified, verifyError] = verify(b.secrets, body, req.headers);
  const record = {
    path: url.pathname,
    target: req.url,
    method: req.method,
    headers: { ...req.headers },
    body,
    received_at_ms: Date.now(),
    verified,
    verify_error: verifyError,
    attempt: req.headers["x-hookstream-attempt"] ?? null,
    id: req.headers["webhook-id"] ?? null,
    status: null,
  };
  records.push(record);
  const status = b.statuses[Math.min(entry.next, b.statuses.length - 1)];
  entry.next++;
  const summary = `${req.method} ${req.url} id=${record.id} verified=${verified}` +
    (verified ? "" : ` (${verifyError})`);

  if (b.hang) {
    log(`${summary} -> hang`);
    pending.add(res);
    res.on("close", () => pending.delete(res));
    return;
  }
  const answer = () => {
    pending.delete(res);
    if (res.destroyed) return; // the client gave up while we were delaying
    record.status = status;
    if (status === 0) {
      log(`${summary} -> connection closed`);
      req.socket.destroy();
      return;
    }
    log(`${summary} -> ${status}`);
    res.writeHead(status, {
      "content-type": "text/plain",
      "content-length": Buffer.byteLength(b.body),
      ...b.headers,
    });
    res.end(b.body);
  };
  if (b.delay_ms > 0) {
    pending.add(res);
    const timer = setTimeout(answer, b.delay_ms);
    res.on("close", () => {
      clearTimeout(timer);
      pending.delete(res);
    });
  } else {
    answer();
  }
}

function handler(req, res) {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("error", () => {});
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    let url;
    try {
      url = new URL(req.url, "http://receiver");
    } catch {
      return sendJson(res, 400, { error: "bad request target" });
    }
    try {
      if (url.pathname.startsWith(CONTROL)) return handleControl(req, res, url, body);
      return handleDelivery(req, res, url, body);
    } catch (e) {
      log(`internal error: ${e.stack}`);
      if (!res.headersSent) sendJson(res, 500, { error: String(e) });
    }
  });
}

function makeServer(tls) {
  const server = tls
    ? https.createServer(
        { cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) },
        handler,
      )
    : http.createServer(handler);
  // No server-side deadline on a complete request: `hang` must last until the client leaves.
  server.requestTimeout = 0;
  server.on("clientError", (err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  return server;
}

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, opts.host, () => {
      server.off("error", reject);
      resolve(server.address().port);
    });
  });
}

const servers = [];
try {
  if (opts.controlPort !== null) {
    const control = makeServer(false);
    servers.push(control);
    const port = await listen(control, opts.controlPort);
    process.stdout.write(`control ${port}\n`);
  }
  const main = makeServer(Boolean(opts.tlsCert));
  servers.push(main);
  const port = await listen(main, opts.port);
  process.stdout.write(`listening ${port}\n`);
  log(`${opts.tlsCert ? "https" : "http"}://${opts.host}:${port}/`);
} catch (e) {
  process.stderr.write(`receiver: cannot start: ${e.message}\n`);
  process.exit(1);
}

function shutdown(signal) {
  log(`${signal}: stopping (${pending.size} pending responses dropped)`);
  for (const server of servers) {
    server.close();
    server.closeAllConnections();
  }
  // stdout is a pipe: let it drain, then leave even if a socket lingers.
  process.stdout.write("", () => process.exit(0));
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
