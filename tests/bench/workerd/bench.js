// The benchmark worker: POST /load sets up a fixture's engines; POST /run?fixture&path&n&start
// makes n decisions on one path and answers when done. workerd's clock does not advance
// while a request computes, so the driver (tests/bench/workerd.mjs) times the requests.
import { initSync, Engine } from "./vitrine_engine.js";
import wasm from "./vitrine_engine_bg.wasm";

initSync({ module: wasm });

/** @type {Record<string, any>} */
const fixtures = {};

const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

const PATHS = {
  cached: (f, i) => f.cached.decide({ ...f.base, snapshot: f.snapshots[0], seed: i }),
  hundred: (f, i) => f.cached.decide({ ...f.base, snapshot: f.snapshots[i % 100], seed: i }),
  text: (f) => f.cached.decideJson(f.text),
  cycling: (f, i) => f.cycling.decide({ ...f.base, snapshot: f.snapshots[i % f.snapshots.length], seed: i }),
  fresh: (f, i) => f.freshWasm.decide({ ...f.base, snapshot: f.snapshots[i % f.snapshots.length], seed: i }),
  freshAsync: (f, i) => f.freshCrypto.decideAsync({ ...f.base, snapshot: f.snapshots[i % f.snapshots.length], seed: i }),
};

export default {
  /** @param {Request} req */
  async fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/load") {
      const b = await req.json();
      const bundle = b64(b.bundle);
      const f = {
        base: b.base,
        snapshots: b.snapshots,
        text: JSON.stringify({ ...b.base, snapshot: b.snapshots[0], seed: 1 }),
        cached: Engine.load(bundle, b.key),
        cycling: Engine.load(bundle, b.key),
        freshWasm: Engine.load(bundle, b.key, { snapshotCacheEntries: 16 }),
        freshCrypto: Engine.load(bundle, b.key, { snapshotCacheEntries: 16 }),
      };
      for (let i = 0; i < f.snapshots.length; i++) f.cycling.decide({ ...f.base, snapshot: f.snapshots[i], seed: i });
      fixtures[b.name] = f;
      return Response.json({ info: f.cached.info() });
    }
    if (url.pathname === "/run") {
      const f = fixtures[url.searchParams.get("fixture") ?? ""];
      const run = PATHS[url.searchParams.get("path") ?? ""];
      const n = Number(url.searchParams.get("n"));
      const start = Number(url.searchParams.get("start"));
      let picks = 0;
      for (let i = 0; i < n; i++) {
        const r = run(f, start + i);
        const d = r instanceof Promise ? await r : r;
        picks += typeof d === "string" ? 1 : d.slots.length;
      }
      return Response.json({ picks, cache: f.cycling.info().snapshot_cache, async_misses: f.freshCrypto.info().snapshot_cache.misses });
    }
    return new Response("not found", { status: 404 });
  },
};
