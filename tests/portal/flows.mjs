// The portal's flows in Debian's Chromium, through playwright-core (run.py starts the stack and
// sets PORTAL_*). Each flow prints one line; the first failure stops the run with its reason.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const API = process.env.PORTAL_API;
const ADMIN = process.env.PORTAL_ADMIN_KEY;
const SINK_OK = process.env.PORTAL_SINK_OK;
const SINK_FAILING = process.env.PORTAL_SINK_FAILING;
const SHOTS = process.env.PORTAL_SCREENSHOTS;
assert.ok(API && ADMIN && SINK_OK && SINK_FAILING, "run through run.py (PORTAL_* are missing)");
const TIMEOUT = 30_000;

async function api(method, path, body, key = ADMIN) {
  const res = await fetch(`${API}/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json?.data;
}
async function eventually(what, check, ms = TIMEOUT) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => false);
    if (v) return v;
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const link = (body) => api("POST", "/portal-sessions", body).then((d) => d.url.replace(/^http:\/\/[^/]+/, API));
const alertText = (page) => page.locator("#alert").textContent();
async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}
async function publish(n, tag) {
  for (let i = 0; i < n; i++)
    await api("POST", "/events", { type: "submission.completed", data: { tag, i } });
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"],
});
const failures = [];
const flows = [];
const flow = (name, run) => flows.push({ name, run });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
context.setDefaultTimeout(TIMEOUT);
const page = await context.newPage();
page.on("dialog", (d) => d.accept());
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(e.message));
page.on("console", (m) => m.type() === "error" && pageErrors.push(m.text()));
const state = {};

flow("signs in with a portal link, and the token leaves the address bar", async () => {
  await page.goto(await link({}));
  await page.getByRole("heading", { name: "Endpoints" }).waitFor();
  assert.equal(new URL(page.url()).hash, "#/");
  assert.ok(!page.url().includes("hsp_"), page.url());
});

flow("creates an endpoint pointing at hookstream-sink and shows its secret once", async () => {
  await page.getByRole("link", { name: "New endpoint" }).first().click();
  await page.getByLabel("URL").fill(`${SINK_OK}/hooks`);
  await page.getByLabel("All events").check();
  await page.getByLabel("Description").fill("CRM sync");
  await page.getByRole("button", { name: "Create" }).click();
  const secret = await page.locator("#secret").textContent();
  assert.match(secret, /^whsec_/);
  state.good = new URL(page.url()).hash.split("/")[2];
  assert.match(state.good, /^wh_/);
  await page.getByRole("link", { name: "← Endpoints" }).click();
  await page.getByRole("link", { name: `${SINK_OK}/hooks` }).click();
  await page.getByRole("button", { name: "Send test ping" }).waitFor();
  assert.equal(await page.locator("#secret").count(), 0, "the secret is shown only once");
});

flow("sends a test ping and shows the answer", async () => {
  await page.getByRole("button", { name: "Send test ping" }).click();
  await page.locator("#ping-result").getByText("Delivered").waitFor();
  assert.match(await page.locator("#ping-result").textContent(), /200/);
});

flow("publishes events and sees them arrive", async () => {
  await publish(3, "arrive");
  await eventually("3 succeeded deliveries in the portal", async () => {
    await page.getByRole("button", { name: "Refresh" }).click();
    return (await page.locator("#deliveries .status.succeeded").count()) === 3;
  });
  await shot(page, "endpoint");
});

flow("makes the sink fail: failures, the pause and the chart", async () => {
  const created = await api("POST", "/webhooks", { url: `${SINK_FAILING}/hooks`, events: ["*"], description: "Billing" });
  state.bad = created.webhook.id;
  await publish(6, "fail");  // two attempts each: paused at the 10th failure
  await eventually("the failing endpoint paused", async () =>
    (await api("GET", `/webhooks/${state.bad}`)).webhook.status === "paused");
  await page.goto("about:blank");
  await page.goto(`${API}/portal/`);  // a new page load forgets the token: sign in with a key
  await page.getByLabel("API key or portal token").fill(ADMIN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Endpoints" }).waitFor();
  const row = page.locator("tr", { hasText: `${SINK_FAILING}/hooks` });
  await row.locator(".status.paused").waitFor();
  await shot(page, "endpoints");
  await row.getByRole("link").click();
  await page.locator(".status.paused").first().waitFor();
  await page.locator("#chart svg").waitFor();
  assert.ok(!/^(null|undefined)$/m.test(await page.locator("main").innerText()), "a stray null");
  const legend = await page.locator("#chart .legend").textContent();
  assert.match(legend, /[1-9]\d* failed/, legend);
  assert.ok((await page.locator("#chart rect.bad[height]:not([height='0'])").count()) > 0, "failure bars");
  await page.locator("#status-filter").selectOption("failed");
  await eventually("failed deliveries listed", async () => (await page.locator("#deliveries .status.failed").count()) > 0);
  await shot(page, "failing-endpoint");
});

flow("redelivers one and recovers all once the endpoint is fixed and resumed", async () => {
  await page.getByRole("link", { name: "Edit" }).click();
  await page.getByLabel("URL").fill(`${SINK_OK}/billing`);
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("button", { name: "Resume" }).click();
  await page.getByRole("button", { name: "Pause" }).waitFor();
  await page.locator("#status-filter").selectOption("failed");
  await eventually("failed deliveries listed", async () => (await page.locator("#deliveries .status.failed").count()) > 0);
  await page.locator("#deliveries tbody tr button.link").first().click();
  await page.getByRole("button", { name: "Redeliver" }).click();
  await eventually("redelivery queued", async () => /Redelivery queued/.test(await alertText(page)));
  await page.getByRole("button", { name: "Recover" }).click();
  await eventually("recover answered", async () => /queued again/.test(await alertText(page)));
  await eventually("every delivery of the fixed endpoint succeeded", async () => {
    const page1 = await api("GET", `/webhooks/${state.bad}/deliveries?limit=100`);
    return page1.deliveries.length === 6 && page1.deliveries.every((d) => d.status === "succeeded");
  });
});

flow("rotates the secret and shows the new one", async () => {
  await page.getByRole("button", { name: "Rotate secret" }).click();
  assert.match(await page.locator("#secret").textContent(), /^whsec_/);
  assert.match(await alertText(page), /Secret rotated/);
});

flow("an expired token is told to sign in again", async () => {
  const url = await link({ expires_in: "1s" });
  await new Promise((r) => setTimeout(r, 1500));
  const p = await context.newPage();
  await p.goto(url);
  await p.getByRole("button", { name: "Sign in" }).waitFor();
  assert.match(await alertText(p), /expired|not valid/i);
  await p.close();
});

flow("a read-only token reads, and is refused changes with a clear message", async () => {
  const p = await context.newPage();
  p.on("dialog", (d) => d.accept());
  await p.goto(await link({ scopes: ["webhooks:read"] }));
  await p.getByRole("link", { name: `${SINK_OK}/hooks` }).click();
  await p.getByRole("button", { name: "Pause" }).click();
  await eventually("refusal shown", async () => /needs webhooks:write/.test(await alertText(p)));
  assert.equal((await api("GET", `/webhooks/${state.good}`)).webhook.status, "active");
  await p.close();
});

flow("works 390 px wide", async () => {
  const narrow = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const p = await narrow.newPage();
  await p.goto(await link({}));
  await p.getByRole("heading", { name: "Endpoints" }).waitFor();
  await p.locator("tbody tr").first().waitFor();
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 390, `the page is ${overflow} px wide`);
  await shot(p, "endpoints-390px");
  await p.getByRole("link", { name: `${SINK_OK}/hooks` }).click();
  await p.getByRole("button", { name: "Send test ping" }).waitFor();
  assert.ok((await p.evaluate(() => document.documentElement.scrollWidth)) <= 390);
  await narrow.close();
});

flow("an endpoint opened while the list still loads stays open when the list arrives", async () => {
  // The list's first page is held back until the endpoint is shown, then let through; once the
  // page's API calls have been quiet for a while, the endpoint must still be what is shown.
  let asked, release;
  const requested = new Promise((r) => (asked = r));
  const held = new Promise((r) => (release = r));
  const listUrl = (u) => u.pathname.endsWith("/v1/webhooks") && u.searchParams.has("limit");
  let inflight = 0, quietSince = Date.now();
  const started = (q) => q.url().includes("/v1/") && inflight++;
  const ended = (q) => q.url().includes("/v1/") && (inflight--, (quietSince = Date.now()));
  page.on("request", started).on("requestfinished", ended).on("requestfailed", ended);
  await page.route(listUrl, async (r) => { asked(); await held; await r.continue(); });
  try {
    await page.goto(`${API}/portal/#/`);  // the same document: the token is kept
    await requested;
    await page.goto(`${API}/portal/#/e/${state.good}`);
    await page.getByRole("button", { name: "Send test ping" }).waitFor();
    release();
    await eventually("the page's API calls are done", async () => inflight === 0 && Date.now() - quietSince > 500);
    assert.ok(await page.getByRole("button", { name: "Send test ping" }).isVisible(), "the endpoint was replaced");
    assert.equal(await page.getByRole("heading", { name: "Endpoints" }).count(), 0);
  } finally {
    release();
    await page.unroute(listUrl);
    page.off("request", started).off("requestfinished", ended).off("requestfailed", ended);
  }
});

flow("keyboard only: every action of an endpoint is reached with Tab and works with Enter", async () => {
  await page.goto("about:blank");
  await page.goto(`${API}/portal/`);
  await page.getByLabel("API key or portal token").fill(ADMIN);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Endpoints" }).waitFor();
  await page.goto(`${API}/portal/#/e/${state.good}`);  // same document: the token is kept
  await page.getByRole("button", { name: "Send test ping" }).waitFor();
  await page.locator("#deliveries tbody tr").first().waitFor();
  const wanted = ["Send test ping", "Pause", "Edit", "Rotate secret", "Delete", "Recover", "Refresh",
                  "Endpoints", "New endpoint", "Event types", "Sign out"];
  const seen = new Set();
  await page.locator("body").focus();
  for (let i = 0; i < 80 && seen.size < wanted.length; i++) {
    await page.keyboard.press("Tab");
    const name = await page.evaluate(() => document.activeElement?.textContent?.trim());
    if (wanted.includes(name)) seen.add(name);
  }
  assert.deepEqual([...wanted].filter((w) => !seen.has(w)), [], "not reachable by Tab");
  await page.getByRole("button", { name: "Send test ping" }).focus();
  await page.keyboard.press("Enter");
  await page.locator("#ping-result").getByText("Delivered").waitFor();
  // A delivery's attempts open from the keyboard too.
  await page.locator("#deliveries tbody tr button.link").first().focus();
  await page.keyboard.press("Enter");
  await page.getByRole("button", { name: "Redeliver" }).first().waitFor();
});

flow("the event catalog and the new-endpoint form", async () => {
  await page.getByRole("link", { name: "Event types" }).click();
  // The click returns before the hashchange renders the catalog: the endpoint view shown before
  // it lists deliveries whose cells also contain the type's name.
  await page.getByRole("heading", { name: "Event types", exact: true }).waitFor();
  await page.getByRole("cell", { name: "submission.completed", exact: true }).waitFor();
  await page.getByRole("link", { name: "New endpoint" }).first().click();
  await page.getByLabel("URL").waitFor();
  await shot(page, "new-endpoint");
});

for (const { name, run } of flows) {
  try {
    await run();
    console.log(`ok   ${name}`);
  } catch (e) {
    console.log(`FAIL ${name}\n     ${e.message.split("\n").join("\n     ")}`);
    failures.push(name);
    await page.screenshot({ path: join(process.env.TMPDIR ?? "/tmp", "portal-failure.png") }).catch(() => {});
    break;
  }
}
await browser.close();
if (pageErrors.length) console.log(`page errors:\n  ${pageErrors.join("\n  ")}`);
console.log(failures.length ? `portal: ${failures.length} flow failed` : `portal: all ${flows.length} flows passed`);
process.exit(failures.length || pageErrors.some((e) => !/401/.test(e)) ? 1 : 0);
