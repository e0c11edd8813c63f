// The hookstream portal (SPEC §7): endpoints, deliveries and their health for one tenant, through
// the public /v1 API only. Plain ES modules, no framework, no build step; served by hookstream-api
// at /portal/ under a Content-Security-Policy without inline script. The token (from the URL
// fragment "#token=hsp_…" or a key typed in) is kept in memory only.

let token = null;
let catalog = null;

// ---- DOM helpers: text is always set as text, never parsed as HTML.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
const svg = (tag, attrs = {}, ...children) => {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : String(c));
  return el;
};
const main = () => document.getElementById("main");
function show(...nodes) {
  main().replaceChildren(...nodes.filter((n) => n != null));
}
function say(message, kind = "error") {
  const box = document.getElementById("alert");
  box.className = kind === "info" ? "info" : "";
  box.textContent = message;
  box.hidden = !message;
}
const when = (t) => (t ? new Date(t).toLocaleString() : "—");
const badge = (status) => h("span", { class: `status ${status}` }, status);

// ---- The API: every call carries the token; errors become messages that say what went wrong.
class ApiError extends Error {
  constructor(status, body) {
    const e = body?.error ?? {};
    let msg = e.message ?? `HTTP ${status}`;
    if (e.details?.fields)
      msg += " — " + Object.entries(e.details.fields).map(([f, m]) => `${f}: ${m}`).join("; ");
    if (e.code === "insufficient_scopes")
      msg = `Not allowed with this sign-in (needs ${(e.details?.required_scopes ?? []).join(", ")}).`;
    super(msg);
    this.status = status;
    this.code = e.code;
  }
}
async function api(method, path, body) {
  const res = await fetch(`../v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    cache: "no-store",
  });
  const json = res.status === 204 ? null : await res.json().catch(() => null);
  if (res.status === 401) {
    signOut("Your sign-in has expired or is not valid. Sign in again.");
    throw new ApiError(401, json);
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return json?.data;
}
// Runs an action, showing its error (or `done`) in the alert region; buttons are disabled meanwhile.
async function act(button, work, done) {
  if (button) button.disabled = true;
  try {
    if (button || done) say("");  // a user's action replaces the last message; loads keep it
    const out = await work();
    if (done) say(typeof done === "function" ? done(out) : done, "info");
    return out;
  } catch (e) {
    if (e.status !== 401) say(e.message);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// ---- Sign-in.
function signOut(message) {
  token = null;
  document.getElementById("nav").hidden = true;
  say(message ?? "", message ? "error" : "info");
  signInView();
}
function signInView() {
  const input = h("input", { type: "password", id: "key", autocomplete: "off", required: true });
  const form = h("form", { class: "card", onsubmit: (e) => {
      e.preventDefault();
      token = input.value.trim();
      start();
    } },
    h("h1", {}, "Sign in"),
    h("p", {}, "Open the portal link you were given, or sign in with an API key."),
    h("label", { for: "key" }, "API key or portal token"), input,
    h("p", {}, h("button", { class: "primary", type: "submit" }, "Sign in")));
  show(form);
  input.focus();
}
async function start() {
  const types = await act(null, () => api("GET", "/event-types"));
  if (!types) return token ? undefined : signInView();
  catalog = types.event_types ?? types;
  document.getElementById("nav").hidden = false;
  if (!location.hash.startsWith("#/")) location.hash = "#/";
  else route();
}

// ---- Routing: #/ endpoints, #/new, #/types, #/e/<id>, #/e/<id>/edit.
// Every route is a new page. A view that waits on the API shows what it loaded only while its page
// is still the current one: a slow endpoint list must not replace the endpoint opened meanwhile.
let currentPage = 0;
const stillOn = (n) => n === currentPage;
function route() {
  currentPage++;
  if (!token) return signInView();
  const parts = location.hash.slice(2).split("/");
  say("");
  if (parts[0] === "new") return formView(null);
  if (parts[0] === "types") return typesView();
  if (parts[0] === "e" && parts[1] && parts[2] === "edit") return editView(parts[1]);
  if (parts[0] === "e" && parts[1]) return endpointView(parts[1]);
  return listView();
}

// ---- Endpoints.
async function listView() {
  const on = currentPage;
  show(h("h1", {}, "Endpoints"), h("p", {}, "Loading…"));
  const all = [];
  let cursor = null;
  do {
    const got = await act(null, () => api("GET", `/webhooks?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`));
    if (!got || !stillOn(on)) return;
    all.push(...got.webhooks);
    cursor = got.next_cursor;
  } while (cursor);
  const rates = await Promise.all(all.map((w) => api("GET", `/webhooks/${w.id}/stats`).then((s) => s.totals).catch(() => null)));
  if (!stillOn(on)) return;
  const rows = all.map((w, i) => h("tr", {},
    h("td", { "data-label": "Endpoint", class: "url" }, h("div", {}, h("a", { href: `#/e/${w.id}` }, w.url),
      w.description ? h("div", { class: "hint" }, w.description) : null)),
    h("td", { "data-label": "Status" }, badge(w.status)),
    h("td", { "data-label": "Failures in a row" }, w.consecutive_fails),
    h("td", { "data-label": "Last delivery" }, when(w.last_delivery_at),
      w.last_delivery_ok == null ? "" : w.last_delivery_ok ? " (ok)" : " (failed)"),
    h("td", { "data-label": "Success, 24 h" }, rates[i]?.success_rate == null ? "—" : `${(rates[i].success_rate * 100).toFixed(1)}% of ${rates[i].attempts}`)));
  show(h("div", { class: "row" }, h("h1", {}, "Endpoints"), h("a", { class: "button", href: "#/new" }, "New endpoint")),
    all.length === 0 ? h("p", {}, "No endpoints yet.")
      : h("table", { class: "responsive" },
        h("thead", {}, h("tr", {}, ["Endpoint", "Status", "Failures in a row", "Last delivery", "Success, 24 h"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows)));
}

function secretBox(secret) {
  return h("div", { class: "card" }, h("strong", {}, "Signing secret (shown only now; keep it safe):"),
    h("p", { class: "secret", id: "secret" }, secret));
}

async function endpointView(id, notice) {
  const on = currentPage;
  const w = await act(null, () => api("GET", `/webhooks/${id}`));
  if (!w || !stillOn(on)) return;
  const hook = w.webhook;
  const pingOut = h("div", { id: "ping-result" });
  const since = h("input", { type: "datetime-local", id: "recover-since",
    value: localInput(new Date(Date.now() - 24 * 3600e3)) });
  const paused = hook.status !== "active";
  const toggle = h("button", { type: "button", onclick: async (e) => {
      if (await act(e.target, () => api("PATCH", `/webhooks/${id}`, { is_active: paused }), paused ? "Endpoint resumed." : "Endpoint paused.")) endpointView(id);
    } }, paused ? "Resume" : "Pause");
  show(
    h("p", {}, h("a", { href: "#/" }, "← Endpoints")),
    h("h1", { class: "url" }, hook.url),
    notice ?? null,
    h("div", { class: "card grid" },
      h("span", {}, "Status"), h("span", {}, badge(hook.status)),
      h("span", {}, "Description"), h("span", {}, hook.description || "—"),
      h("span", {}, "Events"), h("span", {}, hook.events.join(", ")),
      h("span", {}, "Failures in a row"), h("span", {}, hook.consecutive_fails),
      h("span", {}, "Last delivery"), h("span", {}, when(hook.last_delivery_at)),
      h("span", {}, "Rate limit"), h("span", {}, hook.rate_limit ? `${hook.rate_limit}/s` : "none"),
      h("span", {}, "Filter"), h("span", { class: "mono" }, hook.filter ? JSON.stringify(hook.filter) : "none"),
      h("span", {}, "Created"), h("span", {}, when(hook.created_at))),
    h("div", { class: "row" },
      h("button", { type: "button", onclick: async (e) => {
          const r = await act(e.target, () => api("POST", `/webhooks/${id}/test`));
          if (r) pingOut.replaceChildren(h("div", { class: "card" },
            h("strong", {}, r.delivered ? "Delivered" : "Not delivered"), ` · ${r.response_status ?? r.outcome} · ${r.duration_ms} ms`,
            r.error ? h("p", {}, r.error) : null, r.response_body != null ? h("pre", {}, r.response_body) : null));
        } }, "Send test ping"),
      toggle,
      h("a", { class: "button", href: `#/e/${id}/edit` }, "Edit"),
      h("button", { type: "button", onclick: async (e) => {
          if (!confirm("Rotate the signing secret? The old one keeps signing for 24 hours.")) return;
          const r = await act(e.target, () => api("POST", `/webhooks/${id}/rotate-secret`), "Secret rotated.");
          if (r) endpointView(id, secretBox(r.webhook.secret));
        } }, "Rotate secret"),
      h("button", { type: "button", class: "danger", onclick: async (e) => {
          if (!confirm(`Delete ${hook.url}? Deliveries to it stop.`)) return;
          if (await act(e.target, () => api("DELETE", `/webhooks/${id}`), "Endpoint deleted.") !== undefined) location.hash = "#/";
        } }, "Delete")),
    pingOut,
    h("h2", {}, "Last 24 hours"), h("div", { class: "chart", id: "chart" }, "Loading…"),
    h("h2", {}, "Recover failed deliveries"),
    h("form", { class: "row", onsubmit: async (e) => {
        e.preventDefault();
        const r = await act(e.submitter, () => api("POST", `/webhooks/${id}/recover`, { since: new Date(since.value).toISOString() }),
          (r) => `${r.recovered} deliveries queued again${r.more ? " (more remain: recover again)" : ""}.`);
        if (r) loadDeliveries(id);
      } },
      h("label", { for: "recover-since" }, "Failed since"), since, h("button", { type: "submit" }, "Recover")),
    h("h2", {}, "Deliveries"), deliveriesPanel(id));
  chart(id);
  loadDeliveries(id);
}

function localInput(d) {
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// The 24-hour chart: successes and failures per hour, stacked, in the viewer's time zone.
async function chart(id) {
  const box = document.getElementById("chart");
  const s = await act(null, () => api("GET", `/webhooks/${id}/stats`));
  if (!s || !box) return;
  const W = 720, H = 160, pad = 24, bw = (W - pad) / s.buckets.length;
  const max = Math.max(1, ...s.buckets.map((b) => b.attempts));
  const g = svg("svg", { viewBox: `0 0 ${W} ${H + 20}`, role: "img",
    "aria-label": `Attempts per hour over the last 24 hours: ${s.totals.attempts} attempts, ${s.totals.successes} succeeded, ${s.totals.failures} failed` });
  g.append(svg("text", { x: 0, y: 10 }, String(max)), svg("text", { x: 0, y: H }, "0"));
  s.buckets.forEach((b, i) => {
    const x = pad + i * bw, okH = (b.successes / max) * (H - 14), badH = (b.failures / max) * (H - 14);
    const hour = new Date(b.hour);
    const title = `${hour.toLocaleString()}: ${b.attempts} attempts, ${b.successes} ok, ${b.failures} failed` +
      (b.p50_ms != null ? `, p50 ≤ ${b.p50_ms} ms, p99 ≤ ${b.p99_ms} ms` : "");
    const ok = svg("rect", { class: "ok", x: x + 1, y: H - okH, width: bw - 2, height: okH }, svg("title", {}, title));
    const bad = svg("rect", { class: "bad", x: x + 1, y: H - okH - badH, width: bw - 2, height: badH }, svg("title", {}, title));
    g.append(ok, bad);
    if (i % 4 === 0) g.append(svg("text", { x, y: H + 14 }, `${String(hour.getHours()).padStart(2, "0")}:00`));
  });
  const t = s.totals;
  box.replaceChildren(g, h("div", { class: "legend" }, h("span", { class: "ok" }, `${t.successes} succeeded`),
    h("span", { class: "bad" }, `${t.failures} failed`),
    h("span", {}, t.success_rate == null ? "no attempts" : `${(t.success_rate * 100).toFixed(1)}% success`),
    t.p50_ms != null ? h("span", {}, `p50 ≤ ${t.p50_ms} ms · p99 ≤ ${t.p99_ms} ms`) : null));
}

// Deliveries, newest first, filterable by status; each opens to its attempts.
function deliveriesPanel(id) {
  const filter = h("select", { id: "status-filter", onchange: () => loadDeliveries(id) },
    h("option", { value: "" }, "All"), ["pending", "succeeded", "failed"].map((s) => h("option", { value: s }, s)));
  return h("div", {}, h("div", { class: "row" }, h("label", { for: "status-filter" }, "Status"), filter,
    h("button", { type: "button", onclick: () => loadDeliveries(id) }, "Refresh")),
    h("div", { id: "deliveries" }, "Loading…"));
}
async function loadDeliveries(id, cursor, append) {
  const box = document.getElementById("deliveries");
  const status = document.getElementById("status-filter")?.value;
  const q = new URLSearchParams({ limit: "25" });
  if (status) q.set("status", status);
  if (cursor) q.set("cursor", cursor);
  const page = await act(null, () => api("GET", `/webhooks/${id}/deliveries?${q}`));
  if (!page || !box) return;
  const rows = page.deliveries.map((d) => {
    const detail = h("tr", { hidden: true }, h("td", { colspan: 5 }));
    const open = h("button", { type: "button", class: "link", "aria-expanded": "false", onclick: async (e) => {
        const shown = detail.hidden;
        detail.hidden = !shown;
        e.target.setAttribute("aria-expanded", String(shown));
        if (shown) detail.firstChild.replaceChildren(await attempts(id, d.id));
      } }, d.event_type);
    return [h("tr", {},
      h("td", { "data-label": "Event" }, open, h("div", { class: "hint mono" }, d.event_id)),
      h("td", { "data-label": "Status" }, badge(d.status)),
      h("td", { "data-label": "Attempts" }, d.attempt_count),
      h("td", { "data-label": "Last answer" }, d.response_status ?? d.last_error ?? "—"),
      h("td", { "data-label": "Created" }, when(d.created_at))), detail];
  });
  const table = h("table", { class: "responsive" },
    h("thead", {}, h("tr", {}, ["Event", "Status", "Attempts", "Last answer", "Created"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.flat()));
  const more = page.next_cursor ? h("button", { type: "button", onclick: () => loadDeliveries(id, page.next_cursor, true) }, "Load more") : null;
  if (append) box.querySelector("tbody").append(...rows.flat()), box.querySelector(".more")?.replaceChildren(more ?? "");
  else box.replaceChildren(page.deliveries.length ? table : h("p", {}, "No deliveries."), h("div", { class: "more" }, more ?? ""));
}
async function attempts(id, did) {
  const d = (await act(null, () => api("GET", `/webhooks/${id}/deliveries/${did}`)))?.delivery;
  if (!d) return "";
  return h("div", {},
    h("ol", {}, d.attempts.map((a) => h("li", {},
      `${when(a.at)} · ${a.outcome}${a.response_status ? ` ${a.response_status}` : ""} · ${a.duration_ms} ms`,
      a.error ? h("div", {}, a.error) : null, a.response_body ? h("pre", {}, a.response_body) : null))),
    d.status === "pending" ? h("p", { class: "hint" }, `Next attempt ${when(d.next_retry_at)}.`)
      : h("button", { type: "button", onclick: async (e) => {
          if (await act(e.target, () => api("POST", `/webhooks/${id}/deliveries/${did}/redeliver`), "Redelivery queued.")) loadDeliveries(id);
        } }, "Redeliver"));
}

// ---- Create and edit.
async function editView(id) {
  const on = currentPage;
  const w = await act(null, () => api("GET", `/webhooks/${id}`));
  if (w && stillOn(on)) formView(w.webhook);
}
function formView(hook) {
  const f = (name, label, input, hint) => [h("label", { for: name }, label, hint ? h("span", { class: "hint" }, ` ${hint}`) : null), input];
  const url = h("input", { type: "url", id: "url", required: true, value: hook?.url ?? "", placeholder: "https://example.com/hooks" });
  const all = h("input", { type: "checkbox", id: "ev-all", checked: hook ? hook.events.includes("*") : false });
  const boxes = catalog.map((t) => h("input", { type: "checkbox", value: t.name, checked: hook?.events.includes(t.name) ?? false }));
  const description = h("input", { type: "text", id: "description", value: hook?.description ?? "" });
  const headers = h("textarea", { id: "headers", placeholder: "X-Team: crm" },
    Object.entries(hook?.headers ?? {}).map(([k, v]) => `${k}: ${v}`).join("\n"));
  const filter = h("textarea", { id: "filter", placeholder: '{"data":{"amount":{"$gte":100}}}' }, hook?.filter ? JSON.stringify(hook.filter, null, 2) : "");
  const rate = h("input", { type: "number", id: "rate-limit", min: 1, max: 10000, value: hook?.rate_limit ?? "" });
  const form = h("form", { class: "card", onsubmit: async (e) => {
      e.preventDefault();
      const events = all.checked ? ["*"] : boxes.filter((b) => b.checked).map((b) => b.value);
      const body = { url: url.value.trim(), events, description: description.value };
      body.headers = Object.fromEntries(headers.value.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
        const i = l.indexOf(":");
        return i < 0 ? [l, ""] : [l.slice(0, i).trim(), l.slice(i + 1).trim()];
      }));
      if (filter.value.trim()) {
        try { body.filter = JSON.parse(filter.value); } catch { return say("filter: not valid JSON"); }
      } else if (hook) body.filter = null;
      if (rate.value) body.rate_limit = Number(rate.value);
      else if (hook) body.rate_limit = null;
      const r = await act(e.submitter, () => hook ? api("PATCH", `/webhooks/${hook.id}`, body) : api("POST", "/webhooks", body),
        hook ? "Endpoint saved." : "Endpoint created.");
      if (!r) return;
      if (hook) location.hash = `#/e/${hook.id}`;
      else {
        history.replaceState(null, "", `#/e/${r.webhook.id}`);
        endpointView(r.webhook.id, secretBox(r.webhook.secret));
      }
    } },
    h("h1", {}, hook ? "Edit endpoint" : "New endpoint"),
    f("url", "URL", url),
    h("fieldset", {}, h("legend", {}, "Events"), h("label", {}, all, "All events"),
      catalog.map((t, i) => h("label", { title: t.description ?? "" }, boxes[i], t.name))),
    f("description", "Description", description),
    f("headers", "Custom headers", headers, "one \"Name: value\" a line"),
    f("filter", "Filter", filter, "JSON, optional: only events whose content matches"),
    f("rate-limit", "Rate limit", rate, "deliveries per second, optional (1–10,000)"),
    h("p", { class: "row" }, h("button", { type: "submit", class: "primary" }, hook ? "Save" : "Create"),
      h("a", { href: hook ? `#/e/${hook.id}` : "#/" }, "Cancel")));
  show(form);
  url.focus();
}

function typesView() {
  show(h("h1", {}, "Event types"), h("table", { class: "responsive" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Description"))),
    h("tbody", {}, catalog.map((t) => h("tr", {}, h("td", { "data-label": "Type", class: "mono" }, t.name),
      h("td", { "data-label": "Description" }, t.description ?? ""))))));
}

// ---- Start: a token in the fragment signs in, and leaves the address bar at once.
window.addEventListener("hashchange", () => token && route());
document.getElementById("sign-out").addEventListener("click", () => signOut());
const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromLink) {
  token = fromLink;
  history.replaceState(null, "", location.pathname + "#/");
  start();
} else {
  signInView();
}
