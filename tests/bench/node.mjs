// The JS face's latency in node, next to the peer stack, in one process:
//   node tests/bench/node.mjs FIXTURES   (`cargo xtask bench js` makes FIXTURES and runs it)
// Paths are timed call by call in interleaved rounds (ROUNDS × CALLS), so that a drift of
// the machine hits every path alike; each figure is the median over rounds of the
// round's p50 (and p99), with the range of round p50s. Results: FIXTURES/node.json and a
// Markdown table on stdout for BENCHMARKS.md.
import { readFileSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { Peer } from "./peer.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const fx = process.argv[2] ?? join(root, "target", "bench-js");
const ROUNDS = Number(process.env.ROUNDS ?? 8);
const CALLS = Number(process.env.CALLS ?? 2000);
const NOW = 1_800_000_060;

const { default: init, Engine } = await import(join(root, "dist", "engine-js", "vitrine_engine.js"));
await init();

const lines = (file) => readFileSync(join(fx, file), "utf8").trim().split("\n").map((l) => JSON.parse(l).snapshot);
const demoKey = readFileSync(join(fx, "keys", "bench-bundle.pub"), "utf8"); // the key file's JSON, as is
const demoSlots = [{ slot: "home_hero" }, { slot: "offer_cards" }, { slot: "notifications" }];
const fixtures = {
  demo: {
    bundle: readFileSync(join(fx, "demo.vbundle")),
    key: demoKey,
    snapshots: lines("demo-snapshots.jsonl"),
    request: (snapshot, seed) => ({ snapshot, now: NOW, seed, context: { page: "home" }, slots: demoSlots }),
  },
  bench: {
    bundle: readFileSync(join(fx, "bench.vbundle")),
    key: readFileSync(join(fx, "bench.key"), "utf8").trim(),
    snapshots: lines("bench-snapshots.jsonl"),
    request: (() => {
      const base = JSON.parse(readFileSync(join(fx, "bench-request.json"), "utf8"));
      return (snapshot, seed) => ({ ...base, snapshot, seed, now: 1_800_000_000 });
    })(),
  },
};

const hr = () => process.hrtime.bigint();
/** Times `calls` calls of f(i) (sync or async); returns the per-call µs. */
async function time(calls, f, start) {
  const us = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const t = hr();
    const r = f(start + i);
    if (r instanceof Promise) await r;
    us[i] = Number(hr() - t) / 1000;
  }
  return us.sort();
}
const pct = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Runs every path round by round; returns {name: {p50, p99, lo, hi}}. */
async function measure(paths) {
  const rounds = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
  for (const f of Object.values(paths)) await time(Math.min(CALLS, 500), f, 0); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, f] of Object.entries(paths)) {
      const us = await time(CALLS, f, r * CALLS);
      rounds[name].push([pct(us, 0.5), pct(us, 0.99)]);
    }
  }
  return Object.fromEntries(
    Object.entries(rounds).map(([name, rs]) => {
      const p50s = rs.map((x) => x[0]);
      return [name, { p50: median(p50s), p99: median(rs.map((x) => x[1])), lo: Math.min(...p50s), hi: Math.max(...p50s) }];
    }),
  );
}

// Sync paths first: node's WebCrypto runs on its thread pool, and its threads slow what
// runs after them on a 2-core machine, so the WebCrypto paths come last.
const results = {};
const engines = {};
for (const [name, f] of Object.entries(fixtures)) {
  const cached = Engine.load(f.bundle, f.key);
  const text = JSON.stringify(f.request(f.snapshots[0], 1));
  const cycling = Engine.load(f.bundle, f.key);
  const n = f.snapshots.length;
  for (let i = 0; i < n; i++) cycling.decide(f.request(f.snapshots[i], i)); // every client seen once
  // A small cache and 10,000 clients in turn: every decision verifies a snapshot.
  const freshWasm = Engine.load(f.bundle, f.key, { snapshotCacheEntries: 16 });
  const cycled = cycling.info().snapshot_cache;
  results[name] = await measure({
    "decide(object), cached": (i) => cached.decide(f.request(f.snapshots[0], i)),
    "decide(object), 100 clients cycling (cached)": (i) => cached.decide(f.request(f.snapshots[i % 100], i)),
    "decideJson(text), cached": () => cached.decideJson(text),
    "decide(object), 10,000 clients cycling": (i) => cycling.decide(f.request(f.snapshots[i % n], i)),
    "decide(object), fresh (Wasm Ed25519)": (i) => freshWasm.decide(f.request(f.snapshots[i % n], i)),
  });
  const after = cycling.info().snapshot_cache;
  results[name].cache = { capacity: after.capacity, hit_rate_after_first_round: (after.hits - cycled.hits) / (after.hits + after.misses - cycled.hits - cycled.misses) };
  engines[name] = Engine.load(f.bundle, f.key, { snapshotCacheEntries: 16, webCrypto: true });
}

// The peer stack on the greedy demo bundle, next to the engine on the same bundle.
const snapshots = fixtures.demo.snapshots;
const snapKey = JSON.parse(readFileSync(join(fx, "demo-src", "keys", "snap-demo.pub"), "utf8")).public_key;
const peer = await Peer.create(readFileSync(join(root, "web-demo", "bundle", "models", "offers.onnx")), Uint8Array.from(snapKey.match(/../g), (h) => parseInt(h, 16)));
const greedy = Engine.load(readFileSync(join(fx, "demo-greedy.vbundle")), demoKey);
const greedyFresh = Engine.load(readFileSync(join(fx, "demo-greedy.vbundle")), demoKey, { snapshotCacheEntries: 16 });
const slots = demoSlots.map(({ slot }) => ({ slot, k: { home_hero: 1, offer_cards: 3, notifications: 2 }[slot] }));
const differ = [];
for (let i = 0; i < snapshots.length; i++) {
  const d = greedy.decide(fixtures.demo.request(snapshots[i], i));
  const mine = JSON.stringify(d.slots.map((s) => [s.slot, s.offers.map((o) => o.offer)]));
  const theirs = JSON.stringify(await peer.decide(snapshots[i], NOW, slots));
  if (mine !== theirs) differ.push(`${i}: engine ${mine} peer ${theirs}`);
}
console.error(`peer agreement: ${snapshots.length - differ.length} of ${snapshots.length} decisions pick the same offers in every slot`);
if (differ.length) console.error(differ.slice(0, 5).join("\n"));
const n = snapshots.length;
results.peer = await measure({
  "engine decide(object), cached": (i) => greedy.decide(fixtures.demo.request(snapshots[0], i)),
  "peer, cached": () => peer.decide(snapshots[0], NOW, slots),
  "engine decide(object), fresh (Wasm Ed25519)": (i) => greedyFresh.decide(fixtures.demo.request(snapshots[i % n], i)),
  "peer, fresh (WebCrypto)": (i) => peer.decide(snapshots[i % n], NOW, slots, { cache: false }),
});
results.peer.agreement = { decisions: snapshots.length, same_picks: snapshots.length - differ.length };

// Last: decideAsync with node's WebCrypto (not its default in node), for the record.
results.webcrypto = await measure(
  Object.fromEntries(
    Object.entries(fixtures).map(([name, f]) => [`${name}: decideAsync(object), fresh (WebCrypto Ed25519)`, (i) => engines[name].decideAsync(f.request(f.snapshots[i % f.snapshots.length], i))]),
  ),
);
for (const [name, e] of Object.entries(engines)) assert.equal(e.info().snapshot_cache.misses, 0, `${name}: decideAsync verified every fresh snapshot with WebCrypto`);

writeFileSync(join(fx, "node.json"), JSON.stringify({ node: process.version, rounds: ROUNDS, calls: CALLS, results }, null, 2));
const f1 = (x) => x.toFixed(1);
console.log(`node ${process.version}, ${ROUNDS} rounds × ${CALLS} calls per path; µs per decision (median of round p50 [range], median of round p99)\n`);
for (const [name, paths] of Object.entries(results)) {
  console.log(`| ${name} | p50 µs | p50 range | p99 µs |\n|---|---:|---:|---:|`);
  for (const [path, r] of Object.entries(paths)) if (r.p50 !== undefined) console.log(`| ${path} | ${f1(r.p50)} | ${f1(r.lo)}–${f1(r.hi)} | ${f1(r.p99)} |`);
  if (paths.cache) console.log(`\ncache: ${paths.cache.capacity} entries, ${(100 * paths.cache.hit_rate_after_first_round).toFixed(2)}% hits cycling 10,000 clients after the first round`);
  console.log("");
}
const p = results.peer;
console.log(`peer agrees on ${p.agreement.same_picks} of ${p.agreement.decisions} decisions; engine is ${f1(p["peer, cached"].p50 / p["engine decide(object), cached"].p50)}× faster cached, ${f1(p["peer, fresh (WebCrypto)"].p50 / p["engine decide(object), fresh (Wasm Ed25519)"].p50)}× fresh (p50 ratios, same run)`);
