// The storefront: decides in the browser with the engine's JS face, on the bundle and
// the signed snapshot it fetches from `vitrine serve`, and beacons feedback back.
import init, { Engine } from "/engine-js/vitrine_engine.js";

const SLOTS = ["home_hero", "offer_cards"];
const $ = (s) => document.querySelector(s);
const status = (text, baseline = false) => {
  $("#status").textContent = text;
  $("#status").className = baseline ? "baseline" : "";
};

let engine;
let snapshot = null;

const hexBytes = (hex) => Uint8Array.from(hex.match(/../g).map((b) => parseInt(b, 16)));
const seed = () => Math.floor(Math.random() * 2 ** 52);
const now = () => Math.floor(Date.now() / 1000);
const cookie = (name) => document.cookie.split("; ").find((c) => c.startsWith(name + "="))?.slice(name.length + 1) ?? null;

async function load() {
  await init();
  const [bundle, key] = await Promise.all([
    fetch("/v1/bundle").then((r) => r.arrayBuffer()),
    fetch("/v1/bundle/key").then((r) => r.json()),
  ]);
  engine = Engine.load(new Uint8Array(bundle), hexBytes(key.public_key));
  const info = engine.info();
  document.body.dataset.bundleVersion = info.version;
  for (let i = 1; i <= 20; i++) {
    const id = `c-${String(i).padStart(4, "0")}`;
    $("#client").append(new Option(id, id));
  }
  snapshot = cookie("vitrine_snapshot");
  if (snapshot) $("#client").value = cookie("vitrine_client") ?? "c-0001";
  // Personalised by the edge worker on the way through: keep its slots.
  if (document.body.dataset.renderedAt === "edge") return status(`Personalised at the edge · ${document.body.dataset.mode.replaceAll("_", " ")}`);
  render();
}

function decide() {
  const request = { now: now(), seed: seed(), context: { page: "home" }, slots: SLOTS.map((slot) => ({ slot })), history: [], explain: true };
  if (!snapshot) return { response: engine.decide(request), error: null };
  try {
    return { response: engine.decide({ ...request, snapshot }), error: null };
  } catch (e) {
    // A tampered or expired snapshot: fall back to the non-personalised baseline, visibly.
    return { response: engine.decide(request), error: e };
  }
}

function beacon(type, d, slot, offer, extra = {}) {
  const event = {
    event_id: crypto.randomUUID(),
    decision_id: d.decision_id,
    type,
    offer: offer.offer,
    treatment: offer.treatment,
    slot: slot.slot,
    channel: slot.channel,
    at: now(),
    selection_probability: offer.selection_probability,
    rank: offer.rank,
    record: d.record,
    ...extra,
  };
  navigator.sendBeacon("/v1/events", new Blob([JSON.stringify({ events: [event] })], { type: "application/json" }));
}

function render() {
  const { response: d, error } = decide();
  document.body.dataset.mode = d.mode;
  document.body.dataset.decision = d.decision_id;
  if (error) {
    document.body.dataset.error = error.code;
    status(`Your session could not be verified (${error.code}): showing our general offers.`, true);
  } else {
    delete document.body.dataset.error;
    status(snapshot ? `Signed in as ${$("#client").value} · ${d.mode.replaceAll("_", " ")}` : "Not signed in · general offers");
  }
  const why = [`mode: ${d.mode}`, `holdout: ${d.record.holdout}`, `consent: profiling ${d.record.consent.profiling}, channels ${d.record.consent.channels.join(", ") || "none"}`];
  for (const slot of d.slots) {
    const el = document.querySelector(`[data-slot="${slot.slot}"]`);
    el.replaceChildren();
    for (const o of slot.offers) {
      const card = document.createElement("article");
      card.className = "offer";
      card.dataset.offer = o.offer;
      const c = o.creative;
      card.innerHTML = `<h3></h3><p></p>${c.price != null ? `<p class="price">${c.price.toFixed(2)} € / month</p>` : ""}<button type="button">I'm interested</button><small></small>`;
      card.querySelector("h3").textContent = c.title || o.offer;
      card.querySelector("p").textContent = c.text;
      card.querySelector("small").textContent = `P ${o.p.toFixed(3)} · C ${o.c} · V ${o.v} · L ${o.l} · chosen with p=${o.selection_probability.toFixed(3)}`;
      const button = card.querySelector("button");
      button.addEventListener("click", () => {
        if (button.dataset.step === "ordered") return;
        if (button.dataset.step === "clicked") {
          // The second step is the conversion, with the offer's value as revenue.
          beacon("conversion", d, slot, o, { value: c.price ?? o.v });
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
      why.push(`${slot.slot} #${o.rank}: ${o.offer} (${o.treatment}) priority ${o.priority.toFixed(3)} = P ${o.p.toFixed(3)} × C ${o.c} × V ${o.v} × L ${o.l}`);
    }
  }
  for (const x of d.explain ?? []) why.push(`not shown in ${x.slot}: ${x.offer} (${typeof x.reason === "string" ? x.reason : JSON.stringify(x.reason)})`);
  $("#explain").textContent = why.join("\n");
}

$("#login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const client = $("#client").value;
  const r = await fetch(`/demo/login/${client}`);
  if (!r.ok) return status(`Sign-in failed: ${r.status}`, true);
  snapshot = (await r.json()).snapshot;
  document.cookie = `vitrine_snapshot=${snapshot}; path=/; SameSite=Lax`;
  document.cookie = `vitrine_client=${client}; path=/; SameSite=Lax`;
  render();
});

$("#tamper").addEventListener("click", () => {
  if (!snapshot) return;
  // Flip a character in the signed part: the signature no longer verifies.
  const i = Math.floor(snapshot.length / 2);
  snapshot = snapshot.slice(0, i) + (snapshot[i] === "A" ? "B" : "A") + snapshot.slice(i + 1);
  document.cookie = `vitrine_snapshot=${snapshot}; path=/; SameSite=Lax`;
  render();
});

load().catch((e) => status(`The engine could not start: ${e.message ?? e.code ?? e}`, true));
