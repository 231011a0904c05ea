// The JS face as a JS developer meets it (dist/engine-js/vitrine_engine.js): one semantics
// with the raw ABI (tests/faces/malformed.json, also run natively and under Wasmtime by
// tests/tests/it/faces.rs), typed errors and never a trap, what `Engine.load` accepts,
// BigInt seeds, `undefined` as absent, the cache's option and counters, `init()` with no
// argument in node, and `decideAsync` (WebCrypto Ed25519) deciding every golden vector
// exactly as the engine does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, dirname } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const vectors = join(root, "tests", "vectors");
const { default: init, Engine, VitrineError, webCryptoStatus } = await import(join(root, "dist", "engine-js", "vitrine_engine.js"));
// No argument: in node the module reads its packaged .wasm itself.
await init();

const cases = readdirSync(join(vectors, "cases")).sort().map((f) => JSON.parse(readFileSync(join(vectors, "cases", f), "utf8")));
const byName = (name) => cases.find((c) => c.name === name);
const bundleBytes = (name) => readFileSync(join(vectors, "bundles", `${name}.vbundle`));
const faces = JSON.parse(readFileSync(join(root, "tests", "faces", "malformed.json"), "utf8"));
const base = byName(faces.base);
const load = () => Engine.load(bundleBytes(base.bundle), base.bundle_public_key);

/** The case's request as an object (null for text-only cases) and as text. */
function request(c) {
  if (c.text !== undefined) return { object: null, text: c.text };
  const r = { ...base.request, ...(c.set ?? {}) };
  for (const k of c.delete ?? []) delete r[k];
  return { object: r, text: JSON.stringify(r) };
}

/** The code a call threw, insisting on a VitrineError. */
function thrown(f) {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof VitrineError && e instanceof Error, `not a VitrineError: ${e}`);
    assert.equal(typeof e.stack, "string");
    assert.deepEqual(Object.keys(e.toJSON()), ["code", "stage", "message"]);
    return e.code;
  }
  return "<no error>";
}

test("every malformed request gets the same code from decide, decideAsync and decideJson", async () => {
  assert.ok(faces.cases.length >= 25);
  const engine = load();
  const wrong = [];
  for (const c of faces.cases) {
    const { object, text } = request(c);
    const fromText = JSON.parse(engine.decideJson(text)).error?.code ?? "<no error>";
    if (fromText !== c.code) wrong.push(`${c.name}: decideJson gave ${fromText}`);
    if (object === null) continue;
    const fromObject = thrown(() => engine.decide(object));
    if (fromObject !== c.code) wrong.push(`${c.name}: decide gave ${fromObject}`);
    const fromAsync = await engine.decideAsync(object).then(() => "<no error>", (e) => e.code);
    if (fromAsync !== c.code) wrong.push(`${c.name}: decideAsync gave ${fromAsync}`);
  }
  assert.deepEqual(wrong, []);
});

test("undefined fields are absent, as in the TypeScript types", () => {
  const engine = load();
  const plain = engine.decide(base.request);
  const withUndefined = { ...base.request, history: undefined, explain: undefined, context: { ...base.request.context, device: undefined } };
  const { device, ...context } = base.request.context;
  assert.deepEqual(engine.decide(withUndefined), engine.decide({ ...base.request, history: undefined, explain: undefined, context }));
  assert.deepEqual(engine.decide({ ...base.request, snapshot: undefined }).mode, "anonymous");
  assert.ok(plain.decision_id);
  assert.equal(device, "desktop", "the base request has a device to drop");
});

test("a BigInt seed decides as the same number; out of range or elsewhere it is a typed error", () => {
  const engine = load();
  const seed = 2 ** 53 - 1;
  const asNumber = engine.decide({ ...base.request, seed });
  assert.deepEqual(engine.decide({ ...base.request, seed: BigInt(seed) }), asNumber);
  assert.equal(asNumber.record.seed, seed);
  assert.equal(thrown(() => engine.decide({ ...base.request, seed: 2n ** 53n })), "request_bad_value");
  // Past u64 the JSON number itself does not parse: the same code as decideJson's.
  const text = JSON.stringify({ ...base.request, seed: 0 }).replace('"seed":0', `"seed":${2n ** 70n}`);
  assert.equal(thrown(() => engine.decide({ ...base.request, seed: 2n ** 70n })), JSON.parse(engine.decideJson(text)).error.code);
  assert.equal(thrown(() => engine.decide({ ...base.request, seed: -1n })), "request_malformed");
  assert.equal(thrown(() => engine.decide({ ...base.request, context: { hour: 3n } })), "request_malformed");
  assert.equal(thrown(() => engine.decide({ ...base.request, seed: 5n, context: { hour: 3n } })), "request_malformed", "only the seed may be a BigInt");
});

test("wrong argument types are typed errors, never traps, and the engine still works", () => {
  const engine = load();
  for (const bad of [undefined, null, "{}", 42, [base.request]]) {
    assert.equal(thrown(() => engine.decide(bad)), "argument_type", String(bad));
  }
  for (const bad of [{}, undefined, 42, null, new Uint8Array(3)]) {
    const out = JSON.parse(engine.decideJson(bad));
    assert.equal(out.error.code, "argument_type", String(bad));
    assert.equal(out.error.stage, "face");
  }
  const cyclic = { ...base.request };
  cyclic.context = { self: cyclic };
  assert.equal(thrown(() => engine.decide(cyclic)), "request_malformed");
  assert.deepEqual(engine.decide(base.request), JSON.parse(base.expected));
});

test("Engine.load takes the bundle as Uint8Array, ArrayBuffer, Buffer or DataView, the key as bytes, hex or a .pub file", () => {
  const buf = bundleBytes(base.bundle);
  const bytes = new Uint8Array(buf);
  const key = Uint8Array.from(base.bundle_public_key.match(/../g), (h) => parseInt(h, 16));
  const pub = JSON.stringify({ kid: "bundle-test", role: "bundle", public_key: base.bundle_public_key }, null, 2);
  const expected = JSON.parse(base.expected);
  for (const [what, bundle, k] of [
    ["Buffer + bytes", buf, key],
    ["ArrayBuffer + hex", bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), base.bundle_public_key],
    ["DataView + .pub JSON", new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), pub],
    ["Uint8Array + upper-case hex", bytes, base.bundle_public_key.toUpperCase()],
    ["Uint8Array + ArrayBuffer key", bytes, key.buffer],
  ]) {
    const engine = Engine.load(bundle, k);
    assert.deepEqual(engine.decide(base.request), expected, what);
    engine.free();
  }
  assert.equal(thrown(() => Engine.load(bytes, pub.replace('"bundle"', '"snapshot"'))), "bundle_bad_key");
  assert.equal(thrown(() => Engine.load(bytes, "abcd")), "bundle_bad_key");
  assert.equal(thrown(() => Engine.load("bundle", key)), "argument_type");
  assert.equal(thrown(() => Engine.load(bytes, 42)), "argument_type");
  assert.equal(thrown(() => Engine.load(bytes, key, { snapshotCache: 10 })), "argument_type");
  assert.equal(thrown(() => Engine.load(bytes, key, { webCrypto: "yes" })), "argument_type");
  assert.equal(thrown(() => Engine.load(bytes, key, { snapshotCacheEntries: 2 ** 21 })), "request_bad_value");
  for (const bad of [1.5, -1, NaN, Infinity]) {
    assert.equal(thrown(() => Engine.load(bytes, key, { snapshotCacheEntries: bad })), "argument_type", String(bad));
  }
  assert.equal(thrown(() => Engine.load(new Uint8Array([1, 2, 3]), key)), "bundle_truncated");
  assert.throws(() => new Engine({}), VitrineError, "an Engine comes only from Engine.load");
});

test("the verified-snapshot cache: its size is an option, its counters are in info()", () => {
  const engine = Engine.load(bundleBytes(base.bundle), base.bundle_public_key, { snapshotCacheEntries: 100 });
  assert.deepEqual(engine.info().snapshot_cache, { capacity: 112, entries: 0, hits: 0, misses: 0, evictions: 0 });
  for (let i = 0; i < 3; i++) engine.decide({ ...base.request, seed: i });
  assert.deepEqual(engine.info().snapshot_cache, { capacity: 112, entries: 1, hits: 2, misses: 1, evictions: 0 });
  const off = Engine.load(bundleBytes(base.bundle), base.bundle_public_key, { snapshotCacheEntries: 0 });
  for (let i = 0; i < 2; i++) off.decide(base.request);
  assert.deepEqual(off.info().snapshot_cache, { capacity: 0, entries: 0, hits: 0, misses: 2, evictions: 0 });
});

test("in node, decideAsync verifies with the engine unless webCrypto is asked for", async () => {
  const plain = load();
  await plain.decideAsync(base.request);
  assert.equal(plain.info().snapshot_cache.misses, 1, "the engine verified it (a miss, then cached)");
  const asked = Engine.load(bundleBytes(base.bundle), base.bundle_public_key, { webCrypto: true });
  await asked.decideAsync(base.request);
  assert.equal(asked.info().snapshot_cache.misses, 0, "WebCrypto verified it before the decision");
});

test("an empty snapshot string is an anonymous visitor", () => {
  const engine = load();
  const { snapshot, ...anonymous } = base.request;
  assert.deepEqual(engine.decide({ ...base.request, snapshot: "" }), engine.decide(anonymous));
  assert.equal(engine.decide({ ...base.request, snapshot: "" }).mode, "anonymous");
});

test("decideAsync verifies new snapshots with WebCrypto and decides every golden vector as the engine does", async () => {
  const failures = [];
  let admitted = 0;
  for (const c of cases.filter((c) => c.request && c.request_text === undefined)) {
    let engine;
    try {
      engine = Engine.load(bundleBytes(c.bundle), c.bundle_public_key, { webCrypto: true });
    } catch {
      continue; // a load error vector: no decision to make
    }
    const got = await engine.decideAsync(c.request).then((r) => JSON.stringify(r), (e) => JSON.stringify({ error: e }));
    if (JSON.stringify(JSON.parse(c.expected)) !== got) failures.push(c.name);
    // A snapshot WebCrypto accepted was admitted before the decision: a hit, no miss.
    const stats = engine.info().snapshot_cache;
    if (stats.entries === 1 && stats.misses === 0) admitted++;
    engine.free();
  }
  assert.deepEqual(failures, []);
  assert.equal(webCryptoStatus(), true, "node's WebCrypto has Ed25519");
  assert.ok(admitted >= 20, `${admitted} vectors decided on a WebCrypto verification`);
});

test("decideAsync refuses a tampered snapshot exactly as decide does", async () => {
  const engine = Engine.load(bundleBytes(base.bundle), base.bundle_public_key, { webCrypto: true });
  const s = base.request.snapshot;
  const i = s.length - 10; // inside the signature
  const tampered = { ...base.request, snapshot: s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1) };
  const sync = thrown(() => engine.decide(tampered));
  await assert.rejects(engine.decideAsync(tampered), (e) => e instanceof VitrineError && e.code === sync && sync === "snapshot_bad_signature");
  assert.equal(engine.info().snapshot_cache.entries, 0, "nothing admitted");
});
