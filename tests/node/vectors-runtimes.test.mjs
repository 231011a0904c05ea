// Every golden vector in real Chromium (dist/engine-js served by `vitrine serve`) and in
// real workerd, byte for byte with the committed expectations (which native and Wasmtime
// match in the Rust suite).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { root, startHost, launchChromium, freePort } from "./harness.mjs";

const vectors = join(root, "tests/vectors");
const cases = readdirSync(join(vectors, "cases")).sort().map((f) => JSON.parse(readFileSync(join(vectors, "cases", f), "utf8")));
const bundles = Object.fromEntries(readdirSync(join(vectors, "bundles")).map((f) => [f.replace(/\.vbundle$/, ""), readFileSync(join(vectors, "bundles", f)).toString("base64")]));
const jobs = cases.map((c) => ({ name: c.name, bundle: bundles[c.bundle], key: c.bundle_public_key, request: c.request_text ?? JSON.stringify(c.request) }));
// decideAsync takes objects: the vectors whose request is one, with the expected output as
// the JSON of the parsed decision (or error).
const objectJobs = jobs.filter((j, i) => cases[i].request_text === undefined && cases[i].request !== null && typeof cases[i].request === "object");
const canonical = (name) => JSON.stringify(JSON.parse(cases.find((c) => c.name === name).expected));
let host, worker, base, edge, browser;

before(async () => {
  host = await startHost();
  base = host.base;
  const port = await freePort();
  edge = `http://127.0.0.1:${port}`;
  worker = spawn(join(root, "web-demo/node_modules/.bin/workerd"), ["serve", join(root, "tests/node/workerd/vectors.capnp"), "--socket-addr", `http=127.0.0.1:${port}`], { stdio: ["ignore", "inherit", "inherit"] });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  worker?.kill("SIGTERM");
  host?.stop();
});

test("at least 40 vectors", () => assert.ok(cases.length >= 40, `${cases.length}`));

test("Chromium output is byte-identical to every vector", async () => {
  const page = await browser.newPage();
  await page.goto(base + "/");
  const outputs = await page.evaluate(async (jobs) => {
    const mod = await import("/engine-js/vitrine_engine.js");
    await mod.default();
    const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
    const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
    return jobs.map((j) => {
      let engine;
      try {
        engine = mod.Engine.load(b64(j.bundle), hex(j.key));
      } catch (e) {
        return JSON.stringify({ error: e });
      }
      try {
        return engine.decideJson(j.request);
      } finally {
        engine.free();
      }
    });
  }, jobs);
  const failures = cases.filter((c, i) => outputs[i] !== c.expected).map((c) => c.name);
  assert.deepEqual(failures, []);
  await page.close();
});

test("Chromium decideAsync (WebCrypto Ed25519) decides every object vector as the engine does", async () => {
  assert.ok(objectJobs.length >= 40, `${objectJobs.length}`);
  const page = await browser.newPage();
  await page.goto(base + "/");
  const { outputs, webCrypto } = await page.evaluate(async (jobs) => {
    const mod = await import("/engine-js/vitrine_engine.js");
    await mod.default();
    const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
    const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
    const outputs = [];
    for (const j of jobs) {
      let engine;
      try {
        engine = mod.Engine.load(b64(j.bundle), hex(j.key));
      } catch (e) {
        outputs.push(JSON.stringify({ error: e }));
        continue;
      }
      outputs.push(await engine.decideAsync(JSON.parse(j.request)).then((d) => JSON.stringify(d), (e) => JSON.stringify({ error: e })));
      engine.free();
    }
    return { outputs, webCrypto: mod.webCryptoStatus() };
  }, objectJobs);
  assert.equal(webCrypto, true, "Chromium's WebCrypto has Ed25519 and verified the snapshots");
  const failures = objectJobs.filter((j, i) => outputs[i] !== canonical(j.name)).map((j) => j.name);
  assert.deepEqual(failures, []);
  await page.close();
});

test("workerd output is byte-identical to every vector", async () => {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(edge, { method: "POST", body: JSON.stringify(jobs[0]) });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const failures = [];
  for (const [i, j] of jobs.entries()) {
    const out = await (await fetch(edge, { method: "POST", body: JSON.stringify(j) })).text();
    if (out !== cases[i].expected) failures.push(j.name);
  }
  assert.deepEqual(failures, []);
});

test("workerd decideAsync (WebCrypto Ed25519) decides every object vector as the engine does", async () => {
  const failures = [];
  const verifiedBy = new Set();
  for (const j of objectJobs) {
    const res = await fetch(edge, { method: "POST", body: JSON.stringify({ ...j, async: true }) });
    if (res.headers.get("x-webcrypto")) verifiedBy.add(res.headers.get("x-webcrypto"));
    if ((await res.text()) !== canonical(j.name)) failures.push(j.name);
  }
  assert.deepEqual(failures, []);
  assert.deepEqual([...verifiedBy], ["true"], "workerd's WebCrypto has Ed25519 and verified the snapshots");
});
