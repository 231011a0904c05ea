// The module the storefront and the edge worker share (web-demo/site/shared/vitrine.js),
// under node: cookie helpers, the page request, the events it builds, and the
// snapshot fallback with the real engine (dist/engine-js) on a golden bundle.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dist = join(root, "dist", "engine-js");
const vectors = join(root, "tests", "vectors");
const shared = await import(join(root, "web-demo", "site", "shared", "vitrine.js"));
const { cookieValue, cookieString, pageRequest, decideWithFallback, offerEvent, impressionEvents, decisionBatch, saleEvent } = shared;

const mod = await import(join(dist, "vitrine_engine.js"));
await mod.default({ module_or_path: readFileSync(join(dist, "vitrine_engine_bg.wasm")) });
// A case by name (files are numbered in generation order, which new cases shift).
const vector = (name) => {
  const file = readdirSync(join(vectors, "cases")).find((f) => f.replace(/^\d+-/, "") === `${name}.json`);
  return JSON.parse(readFileSync(join(vectors, "cases", file), "utf8"));
};
// A personalised decision for a fixture client, and one whose snapshot has expired.
const personalised = vector("client-0");
const expired = vector("snapshot-expired");
const engine = mod.Engine.load(readFileSync(join(vectors, "bundles", `${personalised.bundle}.vbundle`)), personalised.bundle_public_key);
/** The vector's request without its snapshot: what the faces pass with the cookie beside it. */
const withoutSnapshot = ({ snapshot, ...request }) => request;
const tamper = (s) => s.slice(0, s.length >> 1) + (s[s.length >> 1] === "A" ? "B" : "A") + s.slice((s.length >> 1) + 1);

test("cookieValue reads a Cookie header and document.cookie alike", () => {
  const snapshot = personalised.request.snapshot;
  assert.equal(cookieValue(`a=1; vitrine_snapshot=${snapshot}; b=2`, "vitrine_snapshot"), snapshot);
  assert.equal(cookieValue(`a=1;vitrine_snapshot=${snapshot}`, "vitrine_snapshot"), snapshot);
  assert.equal(cookieValue("vitrine_snapshot_old=x; vitrine_snapshot=y", "vitrine_snapshot"), "y");
  assert.equal(cookieValue("v=a=b", "v"), "a=b", "the value is everything after the first =");
  assert.equal(cookieValue("a=1; b=2", "vitrine_snapshot"), null);
  assert.equal(cookieValue("", "vitrine_snapshot"), null);
  assert.equal(cookieValue(null, "vitrine_snapshot"), null);
});

test("cookieString writes what cookieValue reads back", () => {
  assert.equal(cookieString("vitrine_client", "c-0001"), "vitrine_client=c-0001; path=/; SameSite=Lax");
  const snapshot = personalised.request.snapshot;
  // A browser keeps only name=value of what is written; read it back from that.
  assert.equal(cookieValue(`x=1; ${cookieString("vitrine_snapshot", snapshot).split(";")[0]}`, "vitrine_snapshot"), snapshot);
});

test("pageRequest asks for the page's slots, with explain only when asked", () => {
  assert.deepEqual(pageRequest(["home_hero", "offer_cards"], { at: 1800000000, seed: 7 }), {
    now: 1800000000, seed: 7, context: { page: "home" }, slots: [{ slot: "home_hero" }, { slot: "offer_cards" }], history: [],
  });
  assert.equal(pageRequest(["home_hero"], { explain: true, at: 1, seed: 1 }).explain, true);
  const fresh = pageRequest(["home_hero"]);
  assert.ok(Number.isSafeInteger(fresh.seed) && fresh.seed >= 0, `seed ${fresh.seed}`);
  assert.ok(Math.abs(fresh.now - Date.now() / 1000) < 5, `now ${fresh.now}`);
  assert.ok(engine.decide({ ...pageRequest(["home_hero", "offer_cards"]), context: personalised.request.context }).decision_id, "the engine takes it");
});

test("decideWithFallback decides with a valid snapshot", async () => {
  const request = withoutSnapshot(personalised.request);
  const { response, error } = await decideWithFallback(engine, request, personalised.request.snapshot);
  assert.equal(error, null);
  assert.equal(response.mode, JSON.parse(personalised.expected).mode);
  assert.deepEqual(response, engine.decide(personalised.request));
});

test("decideWithFallback falls back to the anonymous decision and reports the snapshot error", async () => {
  for (const [request, snapshot, code] of [
    [withoutSnapshot(personalised.request), tamper(personalised.request.snapshot), /^snapshot_/],
    [withoutSnapshot(expired.request), expired.request.snapshot, /^snapshot_expired$/],
  ]) {
    const anonymous = engine.decide(request);
    assert.equal(anonymous.mode, "anonymous");
    const { response, error } = await decideWithFallback(engine, request, snapshot);
    assert.match(error?.code, code);
    assert.equal(error.stage, "snapshot");
    assert.equal(typeof error.message, "string");
    assert.deepEqual(response, anonymous, "the same request, decided without the snapshot");
    assert.deepEqual(await decideWithFallback(engine, request, null), { response: anonymous, error: null }, "no cookie: anonymous, no error");
  }
});

test("decideWithFallback throws what the anonymous decision also refuses", async () => {
  const request = { ...withoutSnapshot(personalised.request), slots: [{ slot: "no_such_slot" }] };
  await assert.rejects(() => decideWithFallback(engine, request, personalised.request.snapshot), (e) => e.code === "request_unknown_slot");
});

const decided = engine.decide(personalised.request);
const shown = decided.slots.flatMap((s) => s.offers.map((o) => [s, o]));

test("offerEvent has the fields /v1/events takes, in a fixed order, value only when given", () => {
  assert.ok(shown.length > 0, "the fixture decision shows offers");
  const [slot, offer] = shown[0];
  const event = offerEvent("click", decided, slot, offer, "e-1", { at: 1800000001 });
  assert.deepEqual(event, {
    event_id: "e-1", decision_id: decided.decision_id, type: "click", offer: offer.offer, treatment: offer.treatment,
    slot: slot.slot, channel: slot.channel, at: 1800000001, selection_probability: offer.selection_probability, rank: offer.rank, record: decided.record,
  });
  assert.deepEqual(Object.keys(event), ["event_id", "decision_id", "type", "offer", "treatment", "slot", "channel", "at", "selection_probability", "rank", "record"]);
  const conversion = offerEvent("conversion", decided, slot, offer, "e-2", { value: 36 });
  assert.equal(Object.keys(conversion).at(-1), "value");
  assert.equal(conversion.value, 36);
  assert.ok(Math.abs(conversion.at - Date.now() / 1000) < 5, "at defaults to now");
});

test("impressionEvents: one per shown offer, with ids derived from the decision", () => {
  const events = impressionEvents(decided, 1800000002);
  assert.equal(events.length, shown.length);
  events.forEach((e, i) => {
    const [slot, offer] = shown[i];
    assert.deepEqual(e, offerEvent("impression", decided, slot, offer, `${decided.decision_id}-${slot.slot}-${offer.rank}-imp`, { at: 1800000002 }));
  });
  assert.equal(new Set(events.map((e) => e.event_id)).size, events.length, "unique ids");
  assert.deepEqual(impressionEvents(decided, 1800000002), events, "the same ids when built again");
});

test("decisionBatch carries the record even when nothing was shown", () => {
  assert.deepEqual(decisionBatch(decided, 1800000003), { events: impressionEvents(decided, 1800000003), decisions: [decided.record] });
  const empty = { ...decided, slots: decided.slots.map((s) => ({ ...s, offers: [] })) };
  assert.deepEqual(decisionBatch(empty, 1), { events: [], decisions: [decided.record] });
});

test("a sale is keyed by subject and offer, with no decision id", () => {
  const sale = saleEvent("ab".repeat(16), "fibre_upgrade", 29.99, "order-1", 1_800_000_000);
  assert.deepEqual(sale, { event_id: "order-1", type: "sale", subject: "ab".repeat(16), offer: "fibre_upgrade", value: 29.99, at: 1_800_000_000 });
  assert.equal("decision_id" in sale, false);
});
