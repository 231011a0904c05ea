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
/**
 * @typedef {{ treated_decisions: number, holdout_decisions: number,
 *   conversion: { absolute: number, absolute_ci95: Interval } | null,
 *   sample_ratio: { expected_share: number, observed_share: number, p_value: number, mismatch: boolean } | null }} UpliftReport
 */
/**
 * @typedef {{ events: number, bundle_versions: number[], uplift: UpliftReport, rows: Row[],
 *   timeline: { day: number, treated: Rate, holdout: Rate }[] }} Report
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

/** @param {Report} report */
function render(report) {
  $("#events").textContent = report.events.toLocaleString();
  $("#versions").textContent = report.bundle_versions.join(", ") || "–";
  const u = report.uplift;
  $("#uplift").textContent = u.conversion
    ? `${(100 * u.conversion.absolute).toFixed(2)} pts [${(100 * u.conversion.absolute_ci95.low).toFixed(2)}, ${(100 * u.conversion.absolute_ci95.high).toFixed(2)}] · ${u.treated_decisions} vs ${u.holdout_decisions} decisions`
    : `not enough data (${u.treated_decisions} treated, ${u.holdout_decisions} holdout decisions)`;
  $("#srm").textContent = u.sample_ratio
    ? `${pct(u.sample_ratio.observed_share)} observed vs ${pct(u.sample_ratio.expected_share)} expected · p = ${u.sample_ratio.p_value.toPrecision(3)}${u.sample_ratio.mismatch ? " · MISMATCH" : ""}`
    : "–";

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
  chart("uplift-chart", "Conversion per decision", {
    series: [{}, { label: "personalised", stroke: "#3b36a3", width: 2 }, { label: "holdout", stroke: "#d8734f", width: 2 }],
    scales: { x: { auto: false, range: [(days[0]?.day ?? Date.now() / 1000) - 86400, (days.at(-1)?.day ?? Date.now() / 1000) + 86400] }, y: { range: (_, min, max) => [0, Math.max(0.05, max)] } },
    axes: [{}, { size: 70, values: (_, t) => t.map((v) => pct(v)) }],
  }, [days.map((d) => d.day), days.map((d) => d.treated.rate), days.map((d) => d.holdout.rate)]);

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
