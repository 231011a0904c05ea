// @ts-check
// What the storefront (site/app.js, in the browser) and the edge worker
// (edge-worker/worker.js, in workerd) both do around the engine, in one file so that the
// two faces decide, fall back and report feedback the same way.
//
// It lives under site/ because `vitrine serve` serves only that folder (as
// /shared/vitrine.js); workerd embeds the same file (edge-worker/config.capnp). So it
// uses neither the DOM nor workerd's globals, and it does not import the engine: each
// face loads the engine its own way and passes the instance in (node's tests do too).

/** @typedef {import("../../../dist/engine-js/vitrine_engine.js").Engine} Engine */
/** @typedef {import("../../../dist/engine-js/vitrine_engine.js").DecideRequest} DecideRequest */
/** @typedef {import("../../../dist/engine-js/vitrine_engine.js").DecideResponse} DecideResponse */
/** @typedef {import("../../../dist/engine-js/vitrine_engine.js").DecisionRecord} DecisionRecord */
/** @typedef {import("../../../dist/engine-js/vitrine_engine.js").Chosen} Chosen */
/** @typedef {import("../../../dist/engine-js/vitrine_engine.js").EngineError} EngineError */
/** @typedef {DecideResponse["slots"][number]} DecidedSlot */
/** @typedef {"impression" | "click" | "conversion"} EventType */
/**
 * One event as `POST /v1/events` takes it.
 * @typedef {{ event_id: string, decision_id: string, type: EventType, offer: string, treatment: string,
 *   slot: string, channel: string, at: number, selection_probability: number, rank: number,
 *   record: DecisionRecord, value?: number, uplift?: number }} OfferEvent
 */

/** Now in Unix seconds, the engine's clock. */
export const now = () => Math.floor(Date.now() / 1000);

/** A fresh decision seed: a random integer that a JS number (and so the JSON) holds exactly. */
export const seed = () => Math.floor(Math.random() * 2 ** 52);

/**
 * The value of cookie `name` in a `Cookie` request header (the worker) or in
 * `document.cookie` (the storefront), or null. Values are taken as they are, undecoded:
 * the snapshot is base64url, which needs no cookie escaping.
 * @param {string | null | undefined} cookies
 * @param {string} name
 * @returns {string | null}
 */
export function cookieValue(cookies, name) {
  const prefix = `${name}=`;
  return (cookies ?? "").split(/;\s*/).find((c) => c.startsWith(prefix))?.slice(prefix.length) ?? null;
}

/**
 * What the storefront writes to `document.cookie` for `name`: site-wide (`path=/`), so
 * that the edge worker sees the snapshot on every page it personalises.
 * @param {string} name
 * @param {string} value
 */
export const cookieString = (name, value) => `${name}=${value}; path=/; SameSite=Lax`;

/**
 * The request both faces make for a page view: the demo's one page (`home`), its slots at
 * their bundle's default k, and no history (the demo keeps none in the browser).
 * @param {string[]} slots
 * @param {{ explain?: boolean, at?: number, seed?: number }} [options] `at` and `seed`
 *   default to now and a fresh seed; tests pin them.
 * @returns {DecideRequest}
 */
export function pageRequest(slots, { explain = false, at = now(), seed: s = seed() } = {}) {
  /** @type {DecideRequest} */
  const request = { now: at, seed: s, context: { page: "home" }, slots: slots.map((slot) => ({ slot })), history: [] };
  // Only when asked, so that a request without it is the one the engine always saw.
  if (explain) request.explain = true;
  return request;
}

/**
 * Decides `request` with the client's signed `snapshot`; if the engine refuses the
 * snapshot (tampered, expired, for another schema…), decides the same request
 * anonymously and returns the engine's error beside it, so the page shows the
 * non-personalised baseline and says why, rather than nothing. Any other error (a bad
 * request) fails the anonymous decision too, and is thrown from there.
 *
 * The fast path: `decideAsync` verifies a snapshot the engine has not seen with
 * WebCrypto's native Ed25519 (the engine's own verifier where the runtime lacks it), and
 * a seen one comes from the engine's verified-snapshot cache.
 * @param {Engine} engine
 * @param {DecideRequest} request without a snapshot
 * @param {string | null} snapshot
 * @returns {Promise<{ response: DecideResponse, error: EngineError | null }>}
 */
export async function decideWithFallback(engine, request, snapshot) {
  if (!snapshot) return { response: engine.decide(request), error: null };
  try {
    return { response: await engine.decideAsync({ ...request, snapshot }), error: null };
  } catch (e) {
    return { response: engine.decide(request), error: /** @type {EngineError} */ (e) };
  }
}

/**
 * One feedback event about an offer a decision showed. It carries the decision record
 * and the logged selection probability so that the host measures a decision made in the
 * browser or at the edge like one of its own.
 * @param {EventType} type
 * @param {DecideResponse} decision
 * @param {DecidedSlot} slot
 * @param {Chosen} offer
 * @param {string} eventId the host keeps the first event with a given id
 * @param {{ at?: number, value?: number }} [options] `value`: a conversion's revenue
 * @returns {OfferEvent}
 */
export function offerEvent(type, decision, slot, offer, eventId, { at = now(), value } = {}) {
  return {
    event_id: eventId,
    decision_id: decision.decision_id,
    type,
    offer: offer.offer,
    treatment: offer.treatment,
    slot: slot.slot,
    channel: slot.channel,
    at,
    selection_probability: offer.selection_probability,
    rank: offer.rank,
    ...(offer.uplift === undefined ? {} : { uplift: offer.uplift }),
    record: decision.record,
    ...(value === undefined ? {} : { value }),
  };
}

/**
 * A sale, as the order system reports it: keyed by the client's subject pseudonym and
 * the offer bought, with no decision id (the host attributes it to the client's arm and
 * to the contacts that showed the offer within its attribution window).
 * @param {string} subject the decision record's `subject`
 * @param {string} offer
 * @param {number} value the sale's revenue
 * @param {string} eventId the host keeps the first event with a given id
 * @param {number} [at]
 * @returns {{ event_id: string, type: "sale", subject: string, offer: string, value: number, at: number }}
 */
export const saleEvent = (subject, offer, value, eventId, at = now()) => ({ event_id: eventId, type: "sale", subject, offer, value, at });

/**
 * The impression events for everything a decision shows. Ids derive from the decision,
 * slot and rank, so a re-sent batch is counted once (the host ignores a known id).
 * @param {DecideResponse} decision
 * @param {number} [at]
 * @returns {OfferEvent[]}
 */
export function impressionEvents(decision, at = now()) {
  return decision.slots.flatMap((s) => s.offers.map((o) => offerEvent("impression", decision, s, o, `${decision.decision_id}-${s.slot}-${o.rank}-imp`, { at })));
}

/**
 * The `POST /v1/events` body for a decision whose offers were all shown at once: their
 * impressions, and the decision record even when nothing was shown (a `no_contact`
 * page), so that the host's arm shares stay unbiased.
 * @param {DecideResponse} decision
 * @param {number} [at]
 * @returns {{ events: OfferEvent[], decisions: DecisionRecord[] }}
 */
export const decisionBatch = (decision, at = now()) => ({ events: impressionEvents(decision, at), decisions: [decision.record] });
