// The Vitrine edge worker (workerd module worker): proxies the storefront's HTML from the
// host and personalises `data-slot` placeholders as the HTML streams through, deciding
// with the engine's JS face on the client's snapshot cookie; also answers POST /decide.
import { initSync, Engine } from "./vitrine_engine.js";
import wasm from "./vitrine_engine_bg.wasm";

initSync({ module: wasm });

// Bundle cache: revalidated with If-None-Match at most every REVALIDATE_MS.
const REVALIDATE_MS = 30_000;
let cached = null; // { etag, engine, checkedAt }

async function engineFor(env) {
  if (cached && Date.now() - cached.checkedAt < REVALIDATE_MS) return cached.engine;
  const headers = cached ? { "If-None-Match": cached.etag } : {};
  const [res, key] = await Promise.all([
    fetch(`${env.VITRINE_HOST}/v1/bundle`, { headers }),
    cached ? null : fetch(`${env.VITRINE_HOST}/v1/bundle/key`).then((r) => r.json()),
  ]);
  if (res.status === 304 && cached) {
    cached.checkedAt = Date.now();
    return cached.engine;
  }
  if (!res.ok) throw Object.assign(new Error(`bundle fetch: ${res.status}`), { code: "edge_bundle_unavailable" });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const publicKey = key ? hexBytes(key.public_key) : cached.publicKey;
  // The engine instance keeps its verified-snapshot cache across requests.
  const engine = Engine.load(bytes, publicKey);
  cached = { etag: res.headers.get("etag"), engine, publicKey, checkedAt: Date.now() };
  return engine;
}

const hexBytes = (hex) => Uint8Array.from(hex.match(/../g).map((b) => parseInt(b, 16)));
const cookie = (req, name) => (req.headers.get("cookie") ?? "").split(/;\s*/).find((c) => c.startsWith(name + "="))?.slice(name.length + 1) ?? null;
const seed = () => Math.floor(Math.random() * 2 ** 52);
const now = () => Math.floor(Date.now() / 1000);
const escape = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

function decide(engine, snapshot, slots) {
  const request = { now: now(), seed: seed(), context: { page: "home" }, slots: slots.map((slot) => ({ slot })), history: [] };
  if (!snapshot) return { decision: engine.decide(request), error: null };
  try {
    return { decision: engine.decide({ ...request, snapshot }), error: null };
  } catch (e) {
    return { decision: engine.decide(request), error: e };
  }
}

function card(o) {
  const c = o.creative;
  const price = c.price != null ? `<p class="price">${c.price.toFixed(2)} € / month</p>` : "";
  return `<article class="offer" data-offer="${escape(o.offer)}" data-rank="${o.rank}"><h3>${escape(c.title || o.offer)}</h3><p>${escape(c.text)}</p>${price}<small>decided at the edge · P ${o.p.toFixed(3)} · V ${o.v}</small></article>`;
}

async function page(req, env, ctx) {
  const url = new URL(req.url);
  const upstream = await fetch(`${env.VITRINE_HOST}${url.pathname}${url.search}`, { headers: { accept: req.headers.get("accept") ?? "*/*" } });
  if (!(upstream.headers.get("content-type") ?? "").startsWith("text/html")) return upstream;
  const engine = await engineFor(env);
  const { decision: d, error } = decide(engine, cookie(req, "vitrine_snapshot"), ["home_hero", "offer_cards"]);
  const bySlot = new Map(d.slots.map((s) => [s.slot, s]));
  // Impressions with the decision record, posted after the response is on its way.
  const events = d.slots.flatMap((s) => s.offers.map((o) => ({
    event_id: `${d.decision_id}-${s.slot}-${o.rank}-imp`, decision_id: d.decision_id, type: "impression", offer: o.offer, treatment: o.treatment,
    slot: s.slot, channel: s.channel, at: now(), selection_probability: o.selection_probability, rank: o.rank, record: d.record,
  })));
  // The decision record goes along even when nothing was shown (an empty holdout
  // baseline), so the host's holdout share stays unbiased.
  ctx.waitUntil(fetch(`${env.VITRINE_HOST}/v1/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ events, decisions: [d.record] }) }));
  const rewritten = new HTMLRewriter()
    .on("body", {
      element(el) {
        el.setAttribute("data-rendered-at", "edge");
        el.setAttribute("data-mode", d.mode);
        el.setAttribute("data-decision", d.decision_id);
        if (error) el.setAttribute("data-error", error.code);
      },
    })
    .on("[data-slot]", {
      element(el) {
        const slot = bySlot.get(el.getAttribute("data-slot"));
        if (slot) el.setInnerContent(slot.offers.map(card).join(""), { html: true });
      },
    })
    .transform(upstream);
  const headers = new Headers(rewritten.headers);
  headers.set("x-vitrine-mode", d.mode);
  headers.set("cache-control", "private, no-store");
  return new Response(rewritten.body, { status: rewritten.status, headers });
}

export default {
  async fetch(req, env, ctx) {
    try {
      const url = new URL(req.url);
      if (url.pathname === "/decide" && req.method === "POST") {
        const engine = await engineFor(env);
        // Errors come back as the core's error JSON; input errors are the caller's (400).
        const out = engine.decideJson(await req.text());
        const body = JSON.parse(out);
        return new Response(out, { status: body.error ? (body.error.code === "internal" ? 500 : 400) : 200, headers: { "content-type": "application/json" } });
      }
      if (req.method === "GET") return await page(req, env, ctx);
      return json(405, { error: { code: "method_not_allowed", stage: "edge", message: `${req.method} ${url.pathname}` } });
    } catch (e) {
      // An exception escaping a worker becomes an opaque 500: map it to the error shape.
      return json(502, { error: { code: e.code ?? "edge_internal", stage: "edge", message: String(e.message ?? e) } });
    }
  },
};
