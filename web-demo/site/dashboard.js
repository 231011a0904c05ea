// @ts-check
// The performance dashboard: live from /v1/report, charts drawn with uPlot (bundled at
// build time by esbuild: `npm run build` in web-demo/).
import uPlot from "uplot";

// The part of `GET /v1/report` this page reads (host/feedback/src/report.rs).
/** @typedef {{ low: number, high: number }} Interval */
/** @typedef {{ successes: number, trials: number, rate: number | null, ci95: Interval | null }} Rate */
/**
 * @typedef {{ bundle_version: number | null, offer: string, treatment: string, slot: string, channel: string,
 *   impressions: number, clicks: number, conversions: number, revenue: number, ctr: Rate | null,
 *   conversion_rate: Rate | null }} Row
 */
/** @typedef {{ n: number, mean: number, ci95: Interval | null }} Mean */
/** @typedef {{ absolute: number, absolute_ci95: Interval, relative: number | null, relative_ci95: Interval | null }} Lift */
/**
 * @typedef {{ arm: "personalised" | "bau" | "no_contact", expected_share: number, clients: number, sales: number,
 *   revenue: number, contacts: number, sales_per_client: Mean, revenue_per_client: Mean, contacts_per_client: Mean,
 *   sample_ratio: { expected_share: number, observed_share: number, p_value: number, mismatch: boolean } | null }} ArmRow
 */
/** @typedef {{ against: string, sales_per_client: Lift | null, revenue_per_client: Lift | null }} Comparison */
/**
 * @typedef {{ offer: string, channel: string, bundle_version: number, contacted: Rate, control: Rate,
 *   uplift: { absolute: number, absolute_ci95: Interval } | null,
 *   incremental_sales: { value: number, ci95: Interval } | null,
 *   incremental_revenue: { value: number, ci95: Interval } | null }} OfferUplift
 */
/**
 * @typedef {{ events: number, sales: number, bundle_versions: number[], rows: Row[],
 *   arms: { arms: ArmRow[], vs_bau: Comparison, vs_no_contact: Comparison, sample_ratio_mismatch: boolean },
 *   offers: OfferUplift[], qini: { qini: { coefficient: number | null }, auuc: { coefficient: number | null } } | null,
 *   timeline: { day: number, personalised: number, bau: number, no_contact: number }[] }} Report
 */

/** The page's elements are all there when it runs (a module script runs after parsing).
 * @param {string} s
 */
const $ = (s) => /** @type {HTMLElement} */ (document.querySelector(s));
/** @param {number | null | undefined} x */
const pct = (x) => (x == null ? "–" : `${(100 * x).toFixed(2)}%`);
/** @param {Rate | null} r */
const interval = (r) => (r?.rate == null || r.ci95 == null ? "–" : `${pct(r.rate)} [${pct(r.ci95.low)}, ${pct(r.ci95.high)}]`);
/** @type {Record<string, uPlot>} */
const charts = {};

/**
 * @param {string} id
 * @param {string} title
 * @param {Omit<uPlot.Options, "title" | "width" | "height">} opts
 * @param {uPlot.AlignedData} data
 */
function chart(id, title, opts, data) {
  charts[id]?.destroy();
  const el = $(`#${id}`);
  el.replaceChildren();
  charts[id] = new uPlot({ title, width: Math.max(480, el.clientWidth), height: 260, ...opts }, data, el);
}

/** @param {Interval | null} ci @param {(x: number) => string} f */
const range = (ci, f) => (ci == null ? "" : ` [${f(ci.low)}, ${f(ci.high)}]`);
/** @param {number} x */
const signed = (x) => `${x >= 0 ? "+" : ""}${x.toFixed(3)}`;
/**
 * The headline: personalised against another arm, on sales and revenue per client.
 * @param {Comparison} c
 */
function lift(c) {
  const l = c.sales_per_client, r = c.revenue_per_client;
  if (!l || !r) return "not enough clients in both arms yet";
  /** @param {number} x */
  const percent = (x) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%`;
  const rel = l.relative == null ? "" : ` (${percent(l.relative)}${range(l.relative_ci95, percent)})`;
  return `sales/client ${signed(l.absolute)}${range(l.absolute_ci95, signed)}${rel} · revenue/client ${signed(r.absolute)}${range(r.absolute_ci95, signed)}`;
}

/** @param {Report} report */
function render(report) {
  $("#events").textContent = `${report.events.toLocaleString()} events · ${report.sales.toLocaleString()} sales`;
  $("#versions").textContent = report.bundle_versions.join(", ") || "–";
  $("#vs-bau").textContent = lift(report.arms.vs_bau);
  $("#vs-no-contact").textContent = lift(report.arms.vs_no_contact);
  $("#srm").textContent = report.arms.arms
    .map((a) => `${a.arm.replace("_", " ")} ${a.clients}${a.sample_ratio ? ` (${pct(a.sample_ratio.observed_share)} vs ${pct(a.sample_ratio.expected_share)})` : ""}`)
    .join(" · ") + (report.arms.sample_ratio_mismatch ? " · MISMATCH" : "");
  const arms = $("#arms tbody");
  arms.replaceChildren(...report.arms.arms.map((a) => {
    const tr = document.createElement("tr");
    for (const v of [a.arm, pct(a.expected_share), a.clients, a.sales, a.revenue.toFixed(2),
      `${a.sales_per_client.mean.toFixed(4)}${range(a.sales_per_client.ci95, (x) => x.toFixed(4))}`,
      `${a.revenue_per_client.mean.toFixed(2)}${range(a.revenue_per_client.ci95, (x) => x.toFixed(2))}`, a.contacts_per_client.mean.toFixed(2)]) {
      const td = document.createElement("td");
      td.textContent = String(v);
      tr.append(td);
    }
    return tr;
  }));
  const incremental = $("#offers tbody");
  incremental.replaceChildren(...report.offers.map((o) => {
    const tr = document.createElement("tr");
    for (const v of [o.offer, o.channel, o.bundle_version, o.contacted.trials, interval(o.contacted), o.control.trials, interval(o.control),
      o.uplift ? `${signed(o.uplift.absolute)}${range(o.uplift.absolute_ci95, signed)}` : "–",
      o.incremental_sales ? `${o.incremental_sales.value.toFixed(1)}${range(o.incremental_sales.ci95, (x) => x.toFixed(1))}` : "–"]) {
      const td = document.createElement("td");
      td.textContent = String(v);
      tr.append(td);
    }
    return tr;
  }));
  const q = report.qini;
  $("#qini").textContent = q ? `Qini ${q.qini.coefficient?.toFixed(3) ?? "–"} · AUUC ${q.auuc.coefficient?.toFixed(3) ?? "–"}` : "–";

  // CTR per offer (all treatments, slots and versions pooled), with its interval.
  const byOffer = new Map();
  for (const r of report.rows) {
    const o = byOffer.get(r.offer) ?? { impressions: 0, clicks: 0 };
    o.impressions += r.impressions;
    o.clicks += r.clicks;
    byOffer.set(r.offer, o);
  }
  const offers = [...byOffer.keys()];
  /** @param {{ clicks: number, impressions: number }} counts */
  const wilson = ({ clicks: s, impressions: n }) => {
    if (n === 0) return [null, null, null];
    const z = 1.959963984540054, p = Math.min(s, n) / n, d = 1 + (z * z) / n;
    const c = (p + (z * z) / (2 * n)) / d, h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
    return [p, Math.max(0, c - h), Math.min(1, c + h)];
  };
  const ctr = offers.map((o) => wilson(byOffer.get(o)));
  chart("ctr-chart", "CTR per offer", {
    scales: { x: { time: false, range: () => [-0.5, offers.length - 0.5] }, y: { range: (_, min, max) => [0, Math.max(0.05, max)] } },
    axes: [{ splits: () => offers.map((_, i) => i), values: (_, ticks) => ticks.map((t) => offers[t] ?? "") }, { size: 70, values: (_, t) => t.map((v) => pct(v)) }],
    series: [{}, { label: "CTR", stroke: "#3b36a3", width: 0, points: { size: 9 } }, { label: "low", stroke: "#9b97d8", dash: [4, 4] }, { label: "high", stroke: "#9b97d8", dash: [4, 4] }],
  }, [offers.map((_, i) => i), ctr.map((c) => c[0]), ctr.map((c) => c[1]), ctr.map((c) => c[2])]);

  const days = report.timeline;
  chart("uplift-chart", "Sales per 1,000 clients, per day", {
    series: [{}, { label: "personalised", stroke: "#3b36a3", width: 2 }, { label: "business as usual", stroke: "#d8734f", width: 2 }, { label: "no contact", stroke: "#7a7a7a", width: 2 }],
    scales: { x: { auto: false, range: [(days[0]?.day ?? Date.now() / 1000) - 86400, (days.at(-1)?.day ?? Date.now() / 1000) + 86400] }, y: { range: (_, min, max) => [0, Math.max(1, max)] } },
    axes: [{}, { size: 70 }],
  }, [days.map((d) => d.day), days.map((d) => d.personalised), days.map((d) => d.bau), days.map((d) => d.no_contact)]);

  const body = $("#rows tbody");
  body.replaceChildren(...report.rows.map((r) => {
    const tr = document.createElement("tr");
    for (const v of [r.bundle_version ?? "–", r.offer, r.treatment, r.slot, r.channel, r.impressions, r.clicks, interval(r.ctr), r.conversions, interval(r.conversion_rate), r.revenue.toFixed(2)]) {
      const td = document.createElement("td");
      td.textContent = String(v);
      tr.append(td);
    }
    return tr;
  }));
  $("#status").textContent = `Updated ${new Date().toLocaleTimeString()} · ${report.rows.length} rows`;
  document.body.dataset.rows = String(report.rows.length);
}

async function refresh() {
  try {
    render(await (await fetch("/v1/report")).json());
  } catch (e) {
    $("#status").textContent = `Report unavailable: ${/** @type {Error} */ (e).message}`;
  }
}
refresh();
setInterval(refresh, 5000);
