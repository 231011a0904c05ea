// The JS face's latency inside workerd (the edge runtime), on the same fixtures as
// node.mjs:   node tests/bench/workerd.mjs FIXTURES   (`cargo xtask bench js` runs it)
// workerd does not advance its clock while a request computes (a Spectre mitigation), so
// the worker cannot time single calls: this driver times from outside requests that
// each make BATCH decisions, subtracts the median time of an empty request (n = 0), and
// reports per-decision figures: the median and the 99th percentile over batches of the
// batch mean, in interleaved rounds. Results: FIXTURES/workerd.json and a Markdown table.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const fx = process.argv[2] ?? join(root, "target", "bench-js");
const ROUNDS = Number(process.env.ROUNDS ?? 6);
const BATCHES = Number(process.env.BATCHES ?? 12);
const BATCH = 400;
const PORT = 8789;
const base = `http://127.0.0.1:${PORT}`;

const workerd = spawn(join(root, "web-demo", "node_modules", ".bin", "workerd"), ["serve", join(here, "workerd", "config.capnp"), "--socket-addr", `http=127.0.0.1:${PORT}`], { stdio: ["ignore", "inherit", "inherit"] });
try {
  for (let i = 0; ; i++) {
    try {
      await fetch(`${base}/`);
      break;
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const lines = (file) => readFileSync(join(fx, file), "utf8").trim().split("\n").map((l) => JSON.parse(l).snapshot);
  const load = async (body) => {
    const r = await fetch(`${base}/load`, { method: "POST", body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`load ${body.name}: ${r.status} ${await r.text()}`);
  };
  await load({
    name: "demo",
    bundle: readFileSync(join(fx, "demo.vbundle")).toString("base64"),
    key: readFileSync(join(fx, "keys", "bench-bundle.pub"), "utf8"),
    snapshots: lines("demo-snapshots.jsonl"),
    base: { now: 1_800_000_060, context: { page: "home" }, slots: [{ slot: "home_hero" }, { slot: "offer_cards" }, { slot: "notifications" }] },
  });
  await load({
    name: "bench",
    bundle: readFileSync(join(fx, "bench.vbundle")).toString("base64"),
    key: readFileSync(join(fx, "bench.key"), "utf8").trim(),
    snapshots: lines("bench-snapshots.jsonl"),
    base: (({ snapshot, ...r }) => r)(JSON.parse(readFileSync(join(fx, "bench-request.json"), "utf8"))),
  });

  const request = async (fixture, path, n, start) => {
    const t = process.hrtime.bigint();
    const r = await fetch(`${base}/run?fixture=${fixture}&path=${path}&n=${n}&start=${start}`, { method: "POST" });
    const body = await r.json();
    if (!r.ok) throw new Error(JSON.stringify(body));
    return [Number(process.hrtime.bigint() - t) / 1000, body];
  };
  const PATHS = {
    cached: "decide(object), cached",
    hundred: "decide(object), 100 clients cycling (cached)",
    text: "decideJson(text), cached",
    cycling: "decide(object), 10,000 clients cycling",
    fresh: "decide(object), fresh (Wasm Ed25519)",
    freshAsync: "decideAsync(object), fresh (WebCrypto Ed25519)",
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const results = {};
  for (const fixture of ["demo", "bench"]) {
    const empty = [];
    for (let i = 0; i < 50; i++) empty.push((await request(fixture, "cached", 0, 0))[0]);
    const overhead = median(empty);
    const per = Object.fromEntries(Object.keys(PATHS).map((p) => [p, []]));
    for (const p of Object.keys(PATHS)) await request(fixture, p, BATCH, 0); // warm-up
    let last;
    for (let r = 0; r < ROUNDS; r++) {
      for (const p of Object.keys(PATHS)) {
        for (let b = 0; b < BATCHES; b++) {
          const [us, body] = await request(fixture, p, BATCH, (r * BATCHES + b) * BATCH);
          per[p].push(Math.max(0, us - overhead) / BATCH);
          last = body;
        }
      }
    }
    results[fixture] = { overhead_us: overhead, cache: last.cache, async_misses: last.async_misses };
    for (const [p, xs] of Object.entries(per)) {
      const s = [...xs].sort((a, b) => a - b);
      results[fixture][PATHS[p]] = { p50: s[s.length >> 1], p99: s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] };
    }
  }
  writeFileSync(join(fx, "workerd.json"), JSON.stringify({ rounds: ROUNDS, batches: BATCHES, batch: BATCH, results }, null, 2));
  console.log(`workerd, ${ROUNDS} rounds × ${BATCHES} batches of ${BATCH} decisions per path; µs per decision (batch means, an empty request's time subtracted)\n`);
  for (const [fixture, r] of Object.entries(results)) {
    console.log(`| ${fixture} | p50 µs | p99 µs |\n|---|---:|---:|`);
    for (const name of Object.values(PATHS)) console.log(`| ${name} | ${r[name].p50.toFixed(1)} | ${r[name].p99.toFixed(1)} |`);
    console.log(`\nempty request ${r.overhead_us.toFixed(0)} µs; cycling cache ${JSON.stringify(r.cache)}; decideAsync Wasm verifications: ${r.async_misses}\n`);
  }
} finally {
  workerd.kill();
}
