// @ts-check
// The storefront: decides in the browser with the engine's JS face, on the bundle and
// the signed snapshot it fetches from `vitrine serve`, and beacons feedback back.
import init, { Engine } from "/engine-js/vitrine_engine.js";
import { cookieString, cookieValue, decideWithFallback, offerEvent, pageRequest, saleEvent } from "./shared/vitrine.js";

/** @typedef {import("./shared/vitrine.js").DecideResponse} DecideResponse */
/** @typedef {import("./shared/vitrine.js").DecidedSlot} DecidedSlot */
/** @typedef {import("./shared/vitrine.js").Chosen} Chosen */
/** @typedef {import("./shared/vitrine.js").EventType} EventType */

const SLOTS = ["home_hero", "offer_cards"];
/** The page's elements are all there when it runs (a module script runs after parsing).
 * @param {string} s
 * @param {ParentNode} [root]
 */
const $ = (s, root = document) => /** @type {HTMLElement} */ (root.querySelector(s));
const client = /** @type {HTMLSelectElement} */ ($("#client"));
/**
 * @param {string} text
 * @param {boolean} [baseline]
 */
const status = (text, baseline = false) => {
  $("#status").textContent = text;
  $("#status").className = baseline ? "baseline" : "";
};

/** @type {Engine} */
let engine;
/** @type {string | null} */
let snapshot = null;
/** @param {string} name */
const cookie = (name) => cookieValue(document.cookie, name);

async function load() {
  await init();
  const [bundle, key] = await Promise.all([
    fetch("/v1/bundle").then((r) => r.arrayBuffer()),
    fetch("/v1/bundle/key").then((r) => r.json()),
  ]);
  // The engine takes the ArrayBuffer and the key's hex as they come.
  engine = Engine.load(bundle, key.public_key);
  const info = engine.info();
  document.body.dataset.bundleVersion = String(info.version);
  for (let i = 1; i <= 20; i++) {
    const id = `c-${String(i).padStart(4, "0")}`;
    client.append(new Option(id, id));
  }
  snapshot = cookie("vitrine_snapshot");
  if (snapshot) client.value = cookie("vitrine_client") ?? "c-0001";
  // Personalised by the edge worker on the way through: keep its slots.
  if (document.body.dataset.renderedAt === "edge") return status(`Personalised at the edge · ${(document.body.dataset.mode ?? "").replaceAll("_", " ")}`);
  await render();
}

/**
 * Feedback on one offer, as a beacon: the browser delivers it even if the page is closed
 * right after.
 * @param {EventType} type
 * @param {DecideResponse} d
 * @param {DecidedSlot} slot
 * @param {Chosen} offer
 * @param {{ value?: number }} [extra]
 */
function beacon(type, d, slot, offer, extra = {}) {
  const event = offerEvent(type, d, slot, offer, crypto.randomUUID(), extra);
  navigator.sendBeacon("/v1/events", new Blob([JSON.stringify({ events: [event] })], { type: "application/json" }));
}

async function render() {
  // A tampered or expired snapshot gets the non-personalised baseline, visibly.
  const { response: d, error } = await decideWithFallback(engine, pageRequest(SLOTS, { explain: true }), snapshot);
  document.body.dataset.mode = d.mode;
  document.body.dataset.decision = d.decision_id;
  if (error) {
    document.body.dataset.error = error.code;
    status(`Your session could not be verified (${error.code}): showing our general offers.`, true);
  } else {
    delete document.body.dataset.error;
    status(snapshot ? `Signed in as ${client.value} · ${d.mode.replaceAll("_", " ")}` : "Not signed in · general offers");
  }
  const why = [`mode: ${d.mode}`, `arm: ${d.record.arm ?? "none (anonymous)"}`, `consent: profiling ${d.record.consent.profiling}, channels ${d.record.consent.channels.join(", ") || "none"}`];
  for (const slot of d.slots) {
    const el = $(`[data-slot="${slot.slot}"]`);
    el.replaceChildren();
    for (const o of slot.offers) {
      const card = document.createElement("article");
      card.className = "offer";
      card.dataset.offer = o.offer;
      const c = o.creative;
      card.innerHTML = `<h3></h3><p></p>${c.price != null ? `<p class="price">${c.price.toFixed(2)} € / month</p>` : ""}<button type="button">I'm interested</button><small></small>`;
      $("h3", card).textContent = c.title || o.offer;
      $("p", card).textContent = c.text;
      $("small", card).textContent = `${o.uplift == null ? `P ${o.p.toFixed(3)}` : `uplift ${o.uplift.toFixed(3)}`} · C ${o.c} · V ${o.v} · L ${o.l} · chosen with p=${o.selection_probability.toFixed(3)}`;
      const button = $("button", card);
      button.addEventListener("click", () => {
        if (button.dataset.step === "ordered") return;
        if (button.dataset.step === "clicked") {
          // The second step is the conversion, with the offer's value as revenue.
          beacon("conversion", d, slot, o, { value: c.price ?? o.v });
          // The order system reports the sale by subject and offer (no decision id).
          const subject = d.record.subject;
          if (subject) {
            const sale = saleEvent(subject, o.offer, c.price ?? o.v, crypto.randomUUID());
            navigator.sendBeacon("/v1/events", new Blob([JSON.stringify({ events: [sale] })], { type: "application/json" }));
          }
          button.dataset.step = "ordered";
          button.textContent = "Ordered, thank you!";
          return;
        }
        beacon("click", d, slot, o);
        button.dataset.step = "clicked";
        button.textContent = "Order now";
      });
      el.append(card);
      beacon("impression", d, slot, o);
      const score = o.uplift == null ? `P ${o.p.toFixed(3)}` : `uplift ${o.uplift.toFixed(3)} (P treated ${o.p_treated?.toFixed(3) ?? "–"} − P control ${o.p_control?.toFixed(3) ?? "–"})`;
      why.push(`${slot.slot} #${o.rank}: ${o.offer} (${o.treatment}) priority ${o.priority.toFixed(3)} = ${score} × C ${o.c} × V ${o.v} × L ${o.l}${o.cost ? ` − cost ${o.cost}` : ""}`);
    }
  }
  for (const x of d.explain ?? []) why.push(`not shown in ${x.slot}: ${x.offer} (${typeof x.reason === "string" ? x.reason : JSON.stringify(x.reason)})`);
  $("#explain").textContent = why.join("\n");
}

$("#login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const id = client.value;
  const r = await fetch(`/demo/login/${id}`);
  if (!r.ok) return status(`Sign-in failed: ${r.status}`, true);
  snapshot = /** @type {string} */ ((await r.json()).snapshot);
  document.cookie = cookieString("vitrine_snapshot", snapshot);
  document.cookie = cookieString("vitrine_client", id);
  await render();
});

$("#tamper").addEventListener("click", () => {
  if (!snapshot) return;
  // Flip a character in the signed part: the signature no longer verifies.
  const i = Math.floor(snapshot.length / 2);
  snapshot = snapshot.slice(0, i) + (snapshot[i] === "A" ? "B" : "A") + snapshot.slice(i + 1);
  document.cookie = cookieString("vitrine_snapshot", snapshot);
  render().catch((e) => status(`No decision: ${e.message}`, true));
});

load().catch((e) => status(`The engine could not start: ${e.message ?? e.code ?? e}`, true));
