// The storefront in real Chromium (Debian's, driven by playwright-core) against a real
// `vitrine serve` on 127.0.0.1: the browser fetches the signed bundle and snapshot,
// decides with dist/engine-js, renders the slots and beacons feedback to the host.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { root, startHost, launchChromium } from "./harness.mjs";

let host, base, browser;

before(async () => {
  host = await startHost(["--demo-login"]);
  base = host.base;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  host?.stop();
});

async function signIn(page, client) {
  await page.selectOption("#client", client);
  await page.click('#login button[type="submit"]');
  await page.waitForFunction((c) => document.querySelector("#status").textContent.includes(`Signed in as ${c}`), client);
  const mode = await page.getAttribute("body", "data-mode");
  const offers = await page.$$eval("[data-slot] .offer", (els) => els.map((e) => `${e.parentElement.dataset.slot}:${e.dataset.offer}`));
  return { mode, offers };
}

test("clients see their own personalised slots; a tampered snapshot sees the baseline; clicks and orders reach the host", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(base + "/");
  await page.waitForFunction(() => document.querySelector("#status").textContent.includes("Not signed in"));
  const anonymous = await page.$$eval("[data-slot] .offer", (els) => els.map((e) => e.dataset.offer));
  // An anonymous visitor gets the business-as-usual ranking: general offers, never an empty page.
  assert.ok(anonymous.length > 0, "an anonymous visitor sees general offers");
  assert.equal(await page.getAttribute("body", "data-mode"), "anonymous");

  // Two personalised clients with different slots.
  const seen = new Map();
  for (let i = 1; i <= 20 && new Set(seen.values()).size < 2; i++) {
    const client = `c-${String(i).padStart(4, "0")}`;
    const { mode, offers } = await signIn(page, client);
    if (mode === "personalised" && offers.length > 0) seen.set(client, offers.join(","));
  }
  assert.ok(new Set(seen.values()).size >= 2, `two personalised clients with different slots: ${JSON.stringify([...seen])}`);
  mkdirSync(join(root, "target/screenshots"), { recursive: true });
  await page.screenshot({ path: join(root, "target/screenshots/storefront.png"), fullPage: true });

  // A tampered snapshot: the engine refuses it, the page shows the baseline and the code.
  await page.click("#tamper");
  await page.waitForSelector("body[data-error]");
  assert.match(await page.getAttribute("body", "data-error"), /^snapshot_/);
  assert.equal(await page.getAttribute("body", "data-mode"), "anonymous");
  assert.match(await page.textContent("#status"), /could not be verified \(snapshot_/);
  assert.deepEqual(await page.$$eval("[data-slot] .offer", (els) => els.map((e) => e.dataset.offer)), anonymous);

  // A click on a personalised offer arrives at the host as an event.
  const [client] = seen.keys();
  await signIn(page, client);
  const offer = await page.getAttribute('[data-slot="home_hero"] .offer, [data-slot="offer_cards"] .offer', "data-offer");
  await page.click(`[data-offer="${offer}"] button`);
  await page.click(`[data-offer="${offer}"] button`);
  let clicks = 0, conversions = 0, sales = 0, report;
  for (let i = 0; i < 100 && (clicks === 0 || conversions === 0 || sales === 0); i++) {
    report = await (await fetch(base + "/v1/report")).json();
    const rows = report.rows.filter((r) => r.offer === offer);
    clicks = rows.reduce((n, r) => n + r.clicks, 0);
    conversions = rows.reduce((n, r) => n + r.conversions, 0);
    sales = report.sales;
    if (clicks === 0 || conversions === 0 || sales === 0) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(clicks >= 1, `the click on ${offer} reached /v1/events`);
  assert.ok(conversions >= 1, `the order of ${offer} reached /v1/events as a conversion`);
  // The order system's sale, keyed by subject and offer, lands in the client's arm and is
  // attributed to the offer shown to it.
  assert.equal(sales, 1, "the order reached /v1/events as a sale");
  assert.equal(report.arms.arms.find((a) => a.arm === "personalised").sales, 1);
  assert.equal(report.offers.find((o) => o.offer === offer && o.channel === "web")?.attributed_sales, 1, JSON.stringify(report.offers));
  assert.deepEqual(errors, [], "no page errors");

  // The dashboard draws its charts from /v1/report.
  await page.setViewportSize({ width: 1280, height: 1100 });
  await page.goto(base + "/dashboard.html");
  await page.waitForSelector("body[data-rows]");
  assert.equal(await page.$$eval(".uplot canvas", (els) => els.length), 2, "two uPlot charts");
  const rows = Number(await page.getAttribute("body", "data-rows"));
  assert.ok(rows >= 2, `report rows in the table: ${rows}`);
  assert.equal(await page.$$eval("#rows tbody tr", (els) => els.length), rows);
  assert.match(await page.textContent("#events"), /^\d/);
  // The headline compares personalised with business as usual and no contact, per arm.
  assert.equal(await page.$$eval("#arms tbody tr", (els) => els.length), 3, "one row per arm");
  assert.match(await page.textContent("#arms tbody tr:first-child td:first-child"), /^personalised$/);
  assert.notEqual(await page.textContent("#vs-bau"), "–");
  assert.notEqual(await page.textContent("#vs-no-contact"), "–");
  await page.screenshot({ path: join(root, "target/screenshots/dashboard.png"), fullPage: true });
  assert.deepEqual(errors, [], "no page errors on the dashboard");
  await page.close();
});
