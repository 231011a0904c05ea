// Every golden vector under node through dist/engine-js (wasm-bindgen, --target web),
// byte for byte with the native engine; plus the object face and its thrown errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = join(root, 'dist', 'engine-js');
const vectors = join(root, 'tests', 'vectors');

const mod = await import(join(dist, 'vitrine_engine.js'));
await mod.default({ module_or_path: readFileSync(join(dist, 'vitrine_engine_bg.wasm')) });
const { Engine } = mod;

const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const cases = readdirSync(join(vectors, 'cases')).sort().map((f) => JSON.parse(readFileSync(join(vectors, 'cases', f), 'utf8')));
const bundle = (name) => readFileSync(join(vectors, 'bundles', `${name}.vbundle`));
const requestText = (c) => c.request_text ?? JSON.stringify(c.request);

function run(c) {
  let engine;
  try {
    engine = Engine.load(bundle(c.bundle), hex(c.bundle_public_key));
  } catch (e) {
    return JSON.stringify({ error: e });
  }
  try {
    return engine.decideJson(requestText(c));
  } finally {
    engine.free();
  }
}

test('at least 40 vectors are present', () => {
  assert.ok(cases.length >= 40, `${cases.length} cases`);
});

test('node output is byte-identical to every vector', () => {
  const failures = cases.filter((c) => run(c) !== c.expected).map((c) => c.name);
  assert.deepEqual(failures, []);
});

// f32 fields reach JS as the nearest double; compare numbers at f32 precision.
function close(a, b, path) {
  if (typeof a === 'number' && typeof b === 'number') {
    assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${path}: ${a} vs ${b}`);
  } else if (a && typeof a === 'object') {
    assert.deepEqual(Object.keys(a), Object.keys(b), path);
    for (const k of Object.keys(a)) close(a[k], b[k], `${path}.${k}`);
  } else {
    assert.equal(a, b, path);
  }
}

test('decide(object) returns the same decision as decideJson', () => {
  for (const c of cases.filter((c) => c.request && !c.expected.startsWith('{"error"'))) {
    const engine = Engine.load(bundle(c.bundle), hex(c.bundle_public_key));
    close(engine.decide(c.request), JSON.parse(c.expected), c.name);
    engine.free();
  }
});

test('errors are thrown as { code, stage, message } objects', () => {
  const c = cases.find((c) => c.name === 'snapshot-expired');
  const engine = Engine.load(bundle(c.bundle), hex(c.bundle_public_key));
  assert.throws(() => engine.decide(c.request), (e) => e.code === 'snapshot_expired' && e.stage === 'snapshot' && typeof e.message === 'string');
  assert.throws(() => engine.decide({ now: 'x' }), (e) => e.code === 'request_malformed');
  assert.throws(() => Engine.load(new Uint8Array([1, 2, 3]), hex(c.bundle_public_key)), (e) => e.code === 'bundle_truncated');
  const info = engine.info();
  assert.equal(info.bundle, 'telco-fixture');
  assert.equal(info.offers, 12);
  engine.free();
});
