// Checks api/openapi.json:
//   1. it is a valid OpenAPI 3 document (SwaggerParser.validate: schema and $refs);
//   2. it documents exactly the routes of the API's router, no more, no fewer;
//   3. each operation's x-access / x-required-scope / security match the route's access and scope.
//
// Usage: node validate.mjs [ROUTES]   ROUTES: a file of the router's routes; "-" or absent = stdin.
// The routes are what hookstream-list-routes prints: one JSON object a line
//   {"method":"GET","path":"/v1/webhooks/{id}","access":"scoped","scope":"webhooks:read"}
// (a single JSON array of such objects is accepted too).
// Environment: OPENAPI_DOCUMENT overrides the document's path (default: ../../api/openapi.json).
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import SwaggerParser from "@apidevtools/swagger-parser";

const here = dirname(fileURLToPath(import.meta.url));
const documentPath = resolve(process.env.OPENAPI_DOCUMENT ?? resolve(here, "../../api/openapi.json"));
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

const problems = [];
const problem = (text) => problems.push(text);

function readRoutes(arg) {
  const text = !arg || arg === "-" ? readFileSync(0, "utf8") : readFileSync(arg, "utf8");
  const trimmed = text.trim();
  if (!trimmed) throw new Error("no routes given (empty input)");
  const list = trimmed.startsWith("[")
    ? JSON.parse(trimmed)
    : trimmed.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  for (const r of list) {
    if (typeof r.method !== "string" || typeof r.path !== "string" || typeof r.access !== "string")
      throw new Error(`malformed route: ${JSON.stringify(r)}`);
  }
  return list;
}

const routes = readRoutes(process.argv[2]);

// 1. A standard validator. validate() dereferences the document in place, so give it a copy.
const raw = JSON.parse(readFileSync(documentPath, "utf8"));
try {
  await SwaggerParser.validate(structuredClone(raw));
} catch (e) {
  const lines = String(e.message).split("\n");
  const shown = lines.slice(0, 30).join("\n");
  problem(`${documentPath} is not a valid OpenAPI document: ${shown}` +
          (lines.length > 30 ? `\n  … (${lines.length - 30} more lines)` : ""));
}
// api/CMakeLists.txt compiles the document in as R"oapi_json(…)oapi_json".
if (readFileSync(documentPath, "utf8").includes(')oapi_json"'))
  problem(`${documentPath} contains ')oapi_json"', which ends the raw string it is compiled into`);
if (raw.openapi !== "3.0.3") problem(`openapi is ${JSON.stringify(raw.openapi)}, expected "3.0.3"`);

// The router's patterns and OpenAPI templates both write parameters as {name}; compare them with
// the names blanked so /v1/webhooks/{id} and /v1/webhooks/{webhook_id} count as the same path.
const shape = (path) => path.replace(/\{[^}/]*\}/g, "{}");
const keyOf = (method, path) => `${method.toUpperCase()} ${shape(path)}`;

const documented = new Map();  // "GET /v1/webhooks/{}" -> { path, method, operation }
for (const [path, item] of Object.entries(raw.paths ?? {})) {
  for (const method of METHODS) {
    if (item[method]) documented.set(keyOf(method, path), { path, method, operation: item[method] });
  }
}
const routed = new Map();
for (const r of routes) {
  const key = keyOf(r.method, r.path);
  if (routed.has(key)) problem(`the router lists ${key} twice`);
  routed.set(key, r);
}

// 2. Same set of (method, path).
for (const [key, r] of routed) {
  if (!documented.has(key)) problem(`route ${r.method} ${r.path} is not in the document`);
}
for (const [key, d] of documented) {
  if (!routed.has(key)) problem(`documented ${d.method.toUpperCase()} ${d.path} has no route`);
}

// SwaggerParser checks OpenAPI 3 documents against the schema only, so check the path templates
// here: each {name} needs a required path parameter of that name, and each path parameter a {name}.
const deref = (obj) => {
  let o = obj;
  for (let i = 0; o && o.$ref && i < 10; ++i) {
    if (!o.$ref.startsWith("#/")) return o;
    o = o.$ref.slice(2).split("/").reduce((at, k) => at?.[k.replace(/~1/g, "/").replace(/~0/g, "~")], raw);
  }
  return o;
};
for (const [path, item] of Object.entries(raw.paths ?? {})) {
  const names = [...path.matchAll(/\{([^}/]+)\}/g)].map((m) => m[1]);
  for (const method of METHODS) {
    if (!item[method]) continue;
    const where = `${method.toUpperCase()} ${path}`;
    const params = new Map();
    for (const p of [...(item.parameters ?? []), ...(item[method].parameters ?? [])].map(deref)) {
      if (p && p.in === "path") params.set(p.name, p);
    }
    for (const n of names) {
      if (!params.has(n)) problem(`${where}: no path parameter for {${n}}`);
      else if (params.get(n).required !== true) problem(`${where}: path parameter ${n} is not required: true`);
    }
    for (const n of params.keys()) {
      if (!names.includes(n)) problem(`${where}: path parameter ${n} is not in the path`);
    }
  }
}

// 3. Access and scope.
const globalSecurity = raw.security;
const operationIds = new Set();
for (const [key, d] of documented) {
  const r = routed.get(key);
  const op = d.operation;
  const where = `${d.method.toUpperCase()} ${d.path}`;
  if (!op.operationId) problem(`${where} has no operationId`);
  else if (operationIds.has(op.operationId)) problem(`${where}: operationId ${op.operationId} is used twice`);
  else operationIds.add(op.operationId);
  if (!op.summary && !op.description) problem(`${where} has neither summary nor description`);
  if (!r) continue;

  const wantScope = r.access === "scoped" ? r.scope : null;
  const haveScope = op["x-required-scope"] ?? null;
  if (haveScope !== wantScope)
    problem(`${where}: x-required-scope is ${JSON.stringify(haveScope)}, the router says ${JSON.stringify(wantScope)}`);
  if (op["x-access"] !== r.access)
    problem(`${where}: x-access is ${JSON.stringify(op["x-access"])}, the router says ${JSON.stringify(r.access)}`);
  if (wantScope && !(op.description ?? "").includes(wantScope))
    problem(`${where}: the description does not state the required scope ${wantScope}`);

  const security = op.security ?? globalSecurity ?? [];
  const open = security.length === 0 || security.some((req) => Object.keys(req).length === 0);
  if (r.access === "open" && !open) problem(`${where} is open in the router but the document requires a key`);
  if (r.access !== "open" && open) problem(`${where} needs a key but the document says security: []`);

  const responses = op.responses ?? {};
  if (r.access !== "open") {
    for (const status of ["401", "429", "503"])
      if (!responses[status]) problem(`${where} needs a key but documents no ${status}`);
  }
  if (r.access === "scoped" && !responses["403"]) problem(`${where} is scoped but documents no 403`);
  if (r.path.includes("{") && r.access !== "open" && !responses["404"])
    problem(`${where} takes an id but documents no 404`);
  const successes = Object.keys(responses).filter((s) => /^2\d\d$/.test(s));
  if (successes.length === 0) problem(`${where} documents no success response`);
  if (r.access !== "open") {
    for (const status of successes) {
      const headers = deref(responses[status])?.headers ?? {};
      for (const h of ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"])
        if (!headers[h]) problem(`${where}: the ${status} response lacks the ${h} header`);
    }
  }
}

if (problems.length) {
  console.error(`openapi: ${problems.length} problem(s) in ${documentPath}:`);
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}
console.log(`openapi: ${documentPath} is valid and documents all ${routed.size} routes ` +
            `(${documented.size} operations)`);
