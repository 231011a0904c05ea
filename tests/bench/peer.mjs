// The peer stack: what a JS team would assemble instead of Vitrine for the demo bundle's
// web page, from ordinary parts: WebCrypto Ed25519 for the signed snapshot,
// json-logic-js for the rules (the bundle's CEL, written as JSON Logic), onnxruntime-web
// for the same ONNX model (web-demo/bundle/models/offers.onnx), and a greedy top-k per
// slot by uplift (or propensity) × value × lever, two per category, no offer twice.
// It implements the greedy ranking only, so it is compared on the demo bundle built
// without exploration and arms (demo-greedy), where every pick must agree.
import jsonLogic from "json-logic-js";
import * as ort from "onnxruntime-web";

// The demo schema (web-demo/bundle/bundle.toml), in order: how a snapshot's values decode.
const FEATURES = [
  ["tenure_months", "u16", 1],
  ["plan", "cat", ["basic", "plus", "premium", "family"]],
  ["monthly_spend", "u16", 0.01],
  ["data_usage_gb", "u8", 0.5],
  ["overage_gb", "u8", 0.25],
  ["fiber_eligible", "bool"],
  ["fiber_owned", "bool"],
  ["lines", "u8", 1],
  ["children", "bool"],
  ["device_age_months", "u8", 1],
  ["indoor_coverage", "cat", ["poor", "fair", "good"]],
  ["tickets_90d", "u8", 1],
  ["segment", "cat", ["youth", "family", "professional", "senior"]],
  ["has_tv", "bool"],
];
const PERSONAL = new Set(["monthly_spend", "data_usage_gb", "overage_gb", "children", "indoor_coverage", "tickets_90d", "segment"]);

const v = (name) => ({ var: name });
const missing = (name) => ({ "==": [v(name), null] });
// The offers of the demo bundle that web slots show, with their rules as JSON Logic.
const OFFERS = [
  { id: "fibre_upgrade", category: "broadband", slots: ["home_hero", "offer_cards"], value: 30, uplift: "fibre_upgrade",
    rules: [{ or: [missing("fiber_eligible"), { and: [{ "==": [v("fiber_eligible"), 1] }, { "==": [v("fiber_owned"), 0] }] }] }, { and: [{ "!==": [v("tickets_90d"), null] }, { "<": [v("tickets_90d"), 3] }] }] },
  { id: "data_20gb", category: "mobile", slots: ["home_hero", "offer_cards"], value: 10, uplift: "data_20gb",
    rules: [{ or: [missing("data_usage_gb"), { ">=": [v("data_usage_gb"), 10] }] }] },
  { id: "new_line", category: "mobile", slots: ["offer_cards"], value: 15, uplift: "new_line", rules: [{ or: [missing("lines"), { "<": [v("lines"), 5] }] }] },
  { id: "device_renewal", category: "device", slots: ["home_hero", "offer_cards"], value: 25, uplift: "device_renewal", rules: [{ ">=": [v("device_age_months"), 18] }] },
  { id: "tv_option", category: "tv", slots: ["offer_cards"], value: 12, uplift: "tv_option", rules: [{ and: [{ "==": [v("has_tv"), 0] }, { "==": [v("fiber_owned"), 1] }] }] },
  { id: "family_plan", category: "mobile", slots: ["home_hero", "offer_cards"], value: 20, uplift: "family_plan",
    rules: [{ and: [{ "==": [v("children"), 1] }, { "!=": [v("plan"), "family"] }] }] },
  { id: "loyalty_discount", category: "retention", slots: ["home_hero", "offer_cards"], value: 18, uplift: "loyalty_discount", rules: [{ ">=": [v("tenure_months"), 24] }] },
  { id: "plan_upgrade", category: "mobile", slots: ["offer_cards"], value: 14, uplift: "plan_upgrade",
    rules: [{ and: [{ "==": [v("plan"), "basic"] }, { ">": [v("overage_gb"), 0] }] }] },
  { id: "roaming_pack", category: "mobile", slots: ["offer_cards"], value: 8, uplift: "roaming_pack", rules: [{ in: [v("segment"), ["professional", "youth"]] }] },
  { id: "smart_home", category: "home", slots: ["offer_cards"], value: 9, uplift: "smart_home", rules: [{ "==": [v("fiber_owned"), 1] }] },
  { id: "femtocell", category: "service", slots: ["home_hero", "notifications"], value: 20, propensity: "femtocell", rules: [{ "==": [v("indoor_coverage"), "poor"] }] },
  { id: "support_callback", category: "service", slots: ["notifications"], value: 15, propensity: "support_callback", rules: [{ ">=": [v("tickets_90d"), 2] }] },
  { id: "paperless_billing", category: "service", slots: ["notifications"], value: 2, propensity: "paperless_billing", rules: [] },
];
const LEVER = { service: 1.5 };
const MAX_PER_CATEGORY = 2;
const DOMAIN = new TextEncoder().encode("vitrine/snapshot/v1\0");

/** base64url → bytes */
function unbase64url(text) {
  const b = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
  return out;
}

/** The snapshot's parts and values (engine/core/src/snapshot/FORMAT.md), or throws. */
function parseSnapshot(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const k = bytes[5];
  let at = 6 + k + 16;
  const expiresAt = Number(dv.getBigUint64(at + 8, true));
  const issuedAt = Number(dv.getBigUint64(at, true));
  at += 16 + 8;
  const consent = dv.getUint16(at, true);
  const n = dv.getUint16(at + 2, true);
  at += 4;
  const bitmap = at;
  at += Math.ceil(n / 8);
  const values = {};
  const row = new Float32Array(n);
  FEATURES.forEach(([name, kind, arg], i) => {
    if (!(bytes[bitmap + (i >> 3)] & (1 << (i & 7)))) {
      values[name] = null;
      row[i] = NaN;
      return;
    }
    let x;
    if (kind === "u16") (x = Math.fround(arg * dv.getUint16(at, true))), (at += 2);
    else if (kind === "u8") (x = Math.fround(arg * bytes[at])), (at += 1);
    else (x = bytes[at]), (at += 1);
    row[i] = x;
    values[name] = kind === "cat" ? arg[x] : x;
  });
  return { signed: bytes.subarray(0, bytes.length - 64), signature: bytes.subarray(bytes.length - 64), issuedAt, expiresAt, consent, values, row };
}

export class Peer {
  /** @param {Uint8Array} model the ONNX bytes @param {Uint8Array} snapshotKey 32 raw bytes */
  static async create(model, snapshotKey) {
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"] });
    const key = await crypto.subtle.importKey("raw", snapshotKey, { name: "Ed25519" }, false, ["verify"]);
    return new Peer(session, key);
  }

  constructor(session, key) {
    this.session = session;
    this.key = key;
    /** verified snapshot text → its parsed content (the cached path) */
    this.cache = new Map();
  }

  /** Verifies (or finds in the cache) and parses a snapshot. */
  async client(snapshot, now, cache) {
    const hit = cache ? this.cache.get(snapshot) : undefined;
    let s = hit;
    if (!s) {
      s = parseSnapshot(unbase64url(snapshot));
      const message = new Uint8Array(DOMAIN.length + s.signed.length);
      message.set(DOMAIN);
      message.set(s.signed, DOMAIN.length);
      if (!(await crypto.subtle.verify({ name: "Ed25519" }, this.key, s.signature, message))) throw new Error("bad signature");
      if (cache) this.cache.set(snapshot, s);
    }
    if (now < s.issuedAt - 300 || now >= s.expiresAt + 300) throw new Error("snapshot outside its validity");
    return s;
  }

  /** The picks for the page's slots: `[[slot, [offer ids]]]`. */
  async decide(snapshot, now, slots, { cache = true } = {}) {
    const s = await this.client(snapshot, now, cache);
    const profiling = (s.consent & 1) !== 0;
    const web = (s.consent & 2) !== 0;
    const values = profiling ? s.values : Object.fromEntries(Object.entries(s.values).map(([k, x]) => [k, PERSONAL.has(k) ? null : x]));
    const outputs = profiling ? await this.session.run({ input: new ort.Tensor("float32", s.row, [1, s.row.length]) }) : null;
    const p = (name) => {
      const x = outputs[`${name}_probabilities`].data[1];
      return Number.isFinite(x) ? x : 0;
    };
    const score = (o) => (o.propensity ? p(o.propensity) : Math.fround(p(o.uplift) - p(`${o.uplift}_control`)));
    // Without profiling consent: the business-as-usual ranking (no models, V × L).
    const open = OFFERS.filter((o) => o.rules.every((r) => jsonLogic.apply(r, values))).map((o) => ({
      ...o,
      bau: !profiling,
      priority: (profiling ? score(o) : 1) * o.value * (LEVER[o.category] ?? 1),
    }));
    const taken = new Set();
    const perCategory = new Map();
    return slots.map(({ slot, k }) => {
      const picks = [];
      if (!web) return [slot, picks];
      for (let n = 0; n < k; n++) {
        let best = null;
        for (const o of open) {
          if (!o.slots.includes(slot) || taken.has(o.id) || (perCategory.get(o.category) ?? 0) >= MAX_PER_CATEGORY) continue;
          if (o.uplift && !o.bau && !(o.priority > 0)) continue;
          if (!best || o.priority > best.priority) best = o;
        }
        if (!best) break;
        picks.push(best.id);
        taken.add(best.id);
        perCategory.set(best.category, (perCategory.get(best.category) ?? 0) + 1);
      }
      return [slot, picks];
    });
  }
}
