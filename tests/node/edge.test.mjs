// The edge worker in real workerd (npm `workerd`) in front of a real `vitrine serve`:
// HTML personalised as it streams through, the baseline for a tampered cookie,
// impressions posted to the host, and POST /decide byte-identical to the host's Wasmtime.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { root, startHost, freePort } from "./harness.mjs";

let host, worker, base, edge;

before(async () => {
  host = await startHost(["--demo-login"]);
  base = host.base;
  const port = await freePort();
  edge = `http://127.0.0.1:${port}`;
  worker = spawn(join(root, "web-demo/node_modules/.bin/workerd"), ["serve", join(root, "web-demo/edge-worker/config.capnp"), "--socket-addr", `http=127.0.0.1:${port}`], {
    env: { ...process.env, VITRINE_HOST: base }, stdio: ["ignore", "inherit", "inherit"],
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(edge + "/")).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("workerd did not come up");
});

after(() => {
  worker?.kill("SIGTERM");
  host?.stop();
});

const snapshotOf = async (client) => (await (await fetch(`${base}/demo/login/${client}`)).json()).snapshot;
const edgePage = async (snapshot) => {
  const res = await fetch(edge + "/", { headers: { cookie: `vitrine_snapshot=${snapshot}` } });
  const html = await res.text();
  const attr = (name) => html.match(new RegExp(`<body[^>]* ${name}="([^"]*)"`))?.[1];
  return { res, html, mode: attr("data-mode"), error: attr("data-error"), offers: [...html.matchAll(/data-offer="([^"]+)"/g)].map((m) => m[1]) };
};
const decideAtEdge = async (request) => (await fetch(edge + "/decide", { method: "POST", body: JSON.stringify(request) })).text();

test("the worker personalises HTML per cookie and shows the baseline for a tampered one", async () => {
  const seen = new Map();
  for (let i = 1; i <= 20 && new Set(seen.values()).size < 2; i++) {
    const snapshot = await snapshotOf(`c-${String(i).padStart(4, "0")}`);
    const page = await edgePage(snapshot);
    assert.equal(page.res.status, 200);
    assert.match(page.html, /data-rendered-at="edge"/);
    if (page.mode !== "personalised" || page.offers.length === 0) continue;
    // Every offer in the HTML is one the engine can pick for this client (the union of
    // its picks over many seeds: exploration may pick any eligible candidate).
    const possible = new Set();
    for (let seed = 1; seed <= 40; seed++) {
      const d = JSON.parse(await decideAtEdge({ snapshot, now: Math.floor(Date.now() / 1000), seed, context: { page: "home" }, slots: [{ slot: "home_hero" }, { slot: "offer_cards" }], history: [] }));
      d.slots.forEach((s) => s.offers.forEach((o) => possible.add(o.offer)));
    }
    for (const o of page.offers) assert.ok(possible.has(o), `${o} shown but never picked for this client (${[...possible]})`);
    seen.set(i, [...possible].sort().join(","));
  }
  assert.ok(new Set(seen.values()).size >= 2, `two clients with different offers: ${JSON.stringify([...seen])}`);

  const snapshot = await snapshotOf("c-0001");
  const tampered = snapshot.slice(0, 40) + (snapshot[40] === "A" ? "B" : "A") + snapshot.slice(41);
  const page = await edgePage(tampered);
  assert.equal(page.mode, "anonymous");
  assert.match(page.error, /^snapshot_/);
  assert.equal(page.res.headers.get("x-vitrine-mode"), "anonymous");
});

test("impressions from edge decisions reach the host", async () => {
  const before = (await (await fetch(base + "/v1/report")).json()).rows.reduce((n, r) => n + r.impressions, 0);
  // A client the other tests did not visit, in the personalised arm with an offer to show
  // (a holdout-arm client, or one whose contact pressure is spent, shows none).
  // Every offer shown on every page visited must reach the host as an impression.
  let page;
  let shown = 0;
  for (let i = 101; i <= 140 && !(page?.mode === "personalised" && page.offers.length > 0); i++) {
    page = await edgePage(await snapshotOf(`c-${String(i).padStart(4, "0")}`));
    shown += page.offers.length;
  }
  assert.ok(page.offers.length > 0, `no personalised page with offers among c-0101..c-0140 (last: ${page.mode}, ${page.error})`);
  let after = before;
  for (let i = 0; i < 100 && after < before + shown; i++) {
    await new Promise((r) => setTimeout(r, 100));
    after = (await (await fetch(base + "/v1/report")).json()).rows.reduce((n, r) => n + r.impressions, 0);
  }
  assert.ok(after >= before + shown, `impressions ${before} → ${after}, ${shown} shown`);
});

test("POST /decide at the edge gives the same bytes as the host's Wasmtime engine", async () => {
  const request = { snapshot: await snapshotOf("c-0004"), now: Math.floor(Date.now() / 1000), seed: 12345, context: { page: "home" }, slots: [{ slot: "home_hero" }, { slot: "offer_cards" }], history: [], explain: true };
  const atEdge = await decideAtEdge(request);
  const atHost = await (await fetch(base + "/v1/decide", { method: "POST", body: JSON.stringify(request) })).text();
  assert.ok(JSON.parse(atEdge).decision_id, atEdge);
  assert.equal(atEdge, atHost);
  const bad = await fetch(edge + "/decide", { method: "POST", body: '{"slots": "x"}' });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.code, "request_malformed");
});
