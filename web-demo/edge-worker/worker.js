// @ts-check
// The Vitrine edge worker (workerd module worker): proxies the storefront's HTML from the
// host and personalises `data-slot` placeholders as the HTML streams through, deciding
// with the engine's JS face on the client's snapshot cookie; also answers POST /decide.
//
// Imports are paths from this file in the repository: config.capnp names every module by
// its repository path, so workerd resolves them exactly as tsc does.
import { initSync, Engine, httpStatus } from "../../dist/engine-js/vitrine_engine.js";
import wasm from "../../dist/engine-js/vitrine_engine_bg.wasm";
import { cookieValue, decideWithFallback, decisionBatch, pageRequest } from "../site/shared/vitrine.js";

/** @typedef {import("../site/shared/vitrine.js").Chosen} Chosen */
/** @typedef {import("../site/shared/vitrine.js").DecideResponse} DecideResponse */
/** @typedef {import("../site/shared/vitrine.js").EngineError} EngineError */
/** @typedef {{ VITRINE_HOST: string }} Env */

// workerd hands a Wasm module's default export over as a compiled WebAssembly.Module;
// the .wasm.d.ts beside it (wasm-bindgen's) describes an instance's exports instead.
initSync({ module: /** @type {WebAssembly.Module} */ (/** @type {unknown} */ (wasm)) });

// Bundle cache: revalidated with If-None-Match at most every REVALIDATE_MS.
const REVALIDATE_MS = 30_000;
/** @type {{ etag: string | null, engine: Engine, publicKey: string, checkedAt: number } | null} */
let cached = null;

/** @param {Env} env */
async function engineFor(env) {
  if (cached && Date.now() - cached.checkedAt < REVALIDATE_MS) return cached.engine;
  /** @type {Record<string, string>} */
  const headers = cached?.etag ? { "If-None-Match": cached.etag } : {};
  const [res, publicKey] = await Promise.all([
    fetch(`${env.VITRINE_HOST}/v1/bundle`, { headers }),
    cached ? cached.publicKey : fetch(`${env.VITRINE_HOST}/v1/bundle/key`).then((r) => r.json()).then((key) => String(key.public_key)),
  ]);
  if (res.status === 304 && cached) {
    cached.checkedAt = Date.now();
    return cached.engine;
  }
  if (!res.ok) throw Object.assign(new Error(`bundle fetch: ${res.status}`), { code: "edge_bundle_unavailable" });
  const bytes = new Uint8Array(await res.arrayBuffer());
  // The engine instance keeps its verified-snapshot cache across requests.
  const engine = Engine.load(bytes, publicKey);
  cached = { etag: res.headers.get("etag"), engine, publicKey, checkedAt: Date.now() };
  return engine;
}

/** @param {unknown} s */
const escape = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/**
 * @param {number} status
 * @param {unknown} body
 */
const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/** @param {Chosen} o */
function card(o) {
  const c = o.creative;
  const price = c.price != null ? `<p class="price">${c.price.toFixed(2)} € / month</p>` : "";
  return `<article class="offer" data-offer="${escape(o.offer)}" data-rank="${o.rank}"><h3>${escape(c.title || o.offer)}</h3><p>${escape(c.text)}</p>${price}<small>decided at the edge · P ${o.p.toFixed(3)} · V ${o.v}</small></article>`;
}

/**
 * @param {Request} req
 * @param {Env} env
 * @param {ExecutionContext} ctx
 */
async function page(req, env, ctx) {
  const url = new URL(req.url);
  const upstream = await fetch(`${env.VITRINE_HOST}${url.pathname}${url.search}`, { headers: { accept: req.headers.get("accept") ?? "*/*" } });
  if (!(upstream.headers.get("content-type") ?? "").startsWith("text/html")) return upstream;
  const engine = await engineFor(env);
  const snapshot = cookieValue(req.headers.get("cookie"), "vitrine_snapshot");
  const { response: d, error } = await decideWithFallback(engine, pageRequest(["home_hero", "offer_cards"]), snapshot);
  const bySlot = new Map(d.slots.map((s) => [s.slot, s]));
  // Impressions with the decision record, posted after the response is on its way.
  ctx.waitUntil(fetch(`${env.VITRINE_HOST}/v1/events`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(decisionBatch(d)) }));
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
        const slot = bySlot.get(el.getAttribute("data-slot") ?? "");
        if (slot) el.setInnerContent(slot.offers.map(card).join(""), { html: true });
      },
    })
    .transform(upstream);
  const headers = new Headers(rewritten.headers);
  headers.set("x-vitrine-mode", d.mode);
  headers.set("cache-control", "private, no-store");
  return new Response(rewritten.body, { status: rewritten.status, headers });
}

/**
 * POST /decide: the engine's output as it is, the response JSON or the core's error JSON,
 * with the HTTP status the core gives that error (the server's rule, so both answer alike).
 * @param {Request} req
 * @param {Env} env
 */
async function decide(req, env) {
  const engine = await engineFor(env);
  const out = engine.decideJson(await req.text());
  /** @type {DecideResponse | { error: EngineError }} */
  const body = JSON.parse(out);
  const status = "error" in body ? httpStatus(body.error.code) : 200;
  return new Response(out, { status, headers: { "content-type": "application/json" } });
}

export default {
  /**
   * @param {Request} req
   * @param {Env} env
   * @param {ExecutionContext} ctx
   */
  async fetch(req, env, ctx) {
    try {
      const url = new URL(req.url);
      if (url.pathname === "/decide" && req.method === "POST") return await decide(req, env);
      if (req.method === "GET") return await page(req, env, ctx);
      return json(405, { error: { code: "method_not_allowed", stage: "edge", message: `${req.method} ${url.pathname}` } });
    } catch (e) {
      // An exception escaping a worker becomes an opaque 500: map it to the error shape.
      const err = /** @type {{ code?: string, message?: string }} */ (e);
      return json(502, { error: { code: err.code ?? "edge_internal", stage: "edge", message: String(err.message ?? e) } });
    }
  },
};
