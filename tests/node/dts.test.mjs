// dist/engine-js/vitrine_engine.d.ts is written by hand (engine/js/js/vitrine_engine.d.ts)
// while the wire types are Rust structs: this holds the one to the other. Every JSON the
// Rust engine produced for the golden vectors (and `engine.info()`) must use exactly the
// declared fields, recursively, so a field renamed, added or dropped in Rust fails here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { checkShape, parseInterfaces } from "./dts-shape.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dist = join(root, "dist", "engine-js");
const vectors = join(root, "tests", "vectors");

const WIRE = ["DecideResponse", "Chosen", "DecisionRecord", "Creative", "EngineInfo", "EngineError"];
const interfaces = parseInterfaces(readFileSync(join(dist, "vitrine_engine.d.ts"), "utf8"), [...WIRE, "DecideRequest"]);
const ref = (name) => ({ kind: "ref", name });
// The error JSON is `{"error": EngineError}`; nothing else may sit beside it.
const errorEnvelope = { kind: "object", fields: new Map([["error", { optional: false, type: ref("EngineError") }]]) };

const cases = readdirSync(join(vectors, "cases")).sort().map((f) => JSON.parse(readFileSync(join(vectors, "cases", f), "utf8")));
const outputs = cases.map((c) => ({ name: c.name, json: JSON.parse(c.expected) }));
const decisions = outputs.filter((o) => !("error" in o.json));
const errors = outputs.filter((o) => "error" in o.json);

const mod = await import(join(dist, "vitrine_engine.js"));
await mod.default({ module_or_path: readFileSync(join(dist, "vitrine_engine_bg.wasm")) });
const telco = cases.find((c) => c.bundle === "telco");
const engine = mod.Engine.load(readFileSync(join(vectors, "bundles", "telco.vbundle")), Buffer.from(telco.bundle_public_key, "hex"));
const info = engine.info();
engine.free();

/** Checks every output, and fails with one line per mismatch: case, interface.field, what. */
function assertShapes(items, type, seen) {
  const problems = items.flatMap(({ name, json }) => checkShape(interfaces, json, type, { seen }).map((p) => `${name}: ${p}`));
  assert.deepEqual(problems, [], `the .d.ts does not match the Rust JSON:\n${problems.join("\n")}`);
}

/** "Interface.field" for every field declared in `name`, through inline objects and arrays. */
function declaredPaths(name) {
  const paths = [];
  const visit = (type, prefix) => {
    if (type.kind === "array") return visit(type.of, `${prefix}[]`);
    if (type.kind === "union") return type.of.forEach((t) => visit(t, prefix));
    if (type.kind !== "object") return;
    for (const [key, f] of type.fields) {
      const path = prefix ? `${prefix}.${key}` : key;
      paths.push(`${name}.${path}`);
      visit(f.type, path);
    }
  };
  visit(interfaces.get(name), "");
  return paths;
}

test("the parser reads every field of the wire interfaces", () => {
  // Guards against passing vacuously: an interface read as empty would accept nothing and
  // be caught below, but one read as `{}` with missing fields must be caught here.
  const counts = Object.fromEntries(WIRE.map((n) => [n, interfaces.get(n).fields.size]));
  assert.deepEqual(counts, { DecideResponse: 5, Chosen: 17, DecisionRecord: 15, Creative: 5, EngineInfo: 11, EngineError: 3 }, "fields per interface: update these counts with the .d.ts");
  assert.ok(declaredPaths("DecideResponse").includes("DecideResponse.slots[].offers"), "nested inline object types are read");
  assert.ok(declaredPaths("DecisionRecord").includes("DecisionRecord.consent.channels"));
  assert.ok(declaredPaths("DecideResponse").includes("DecideResponse.explain[].reason"));
});

test("the parser reads the TypeScript the interfaces use, and refuses what it cannot read", () => {
  const text = `/** doc */ export interface A { a: string; /* c */ b?: number | null;
    c: { d: "x" | "y"; e: B[] }[]; f: Record<string, boolean> }
    export interface B { g: true }`;
  const parsed = parseInterfaces(text, ["A", "B"]);
  assert.deepEqual([...parsed.get("A").fields.keys()], ["a", "b", "c", "f"]);
  assert.equal(parsed.get("A").fields.get("b").optional, true);
  assert.deepEqual(checkShape(parsed, { a: "s", c: [{ d: "y", e: [{ g: true }] }], f: { k: false } }, ref("A")), []);
  assert.deepEqual(checkShape(parsed, { a: "s", c: [{ d: "z", e: [{ g: true, h: 1 }] }], f: {} }, ref("A")), [
    'A.c[].d: "z" is not "x" | "y" (at $.c[0].d)',
    "B.h: in the JSON but not declared in the .d.ts (at $.c[0].e[0])",
  ]);
  assert.throws(() => parseInterfaces("export interface C { m(): void }", ["C"]), /interface C: unsupported member "m"/);
  assert.throws(() => parseInterfaces("export interface C { a: Map<string, number> }", ["C"]), /unsupported generic/);
  assert.throws(() => parseInterfaces("export interface C { a: string }", ["D"]), /no "export interface" for D/);
});

test("every decide response in the vectors has exactly the fields of DecideResponse", () => {
  assert.ok(decisions.length >= 25, `${decisions.length} decisions`);
  assert.ok(decisions.some((d) => d.json.explain?.length > 0), "a vector with explain entries");
  assertShapes(decisions, ref("DecideResponse"), new Set());
});

test("every error in the vectors is {error: EngineError}", () => {
  assert.ok(errors.length >= 25, `${errors.length} errors`);
  assertShapes(errors, errorEnvelope, new Set());
});

test("engine.info() has exactly the fields of EngineInfo", () => {
  assertShapes([{ name: "engine.info()", json: info }], ref("EngineInfo"), new Set());
});

test("every request the vectors decide has only fields of DecideRequest", () => {
  // Requests flow the other way (the engine rejects unknown fields), so the error cases,
  // some of which send unknown fields on purpose, are left out.
  const requests = cases.filter((c) => c.request && !c.expected.startsWith('{"error"')).map((c) => ({ name: c.name, json: c.request }));
  assert.ok(requests.length >= 25, `${requests.length} requests`);
  assertShapes(requests, ref("DecideRequest"), new Set());
});

test("every field the .d.ts declares appears in the Rust JSON", () => {
  // An optional field the engine no longer sends (renamed in Rust) would pass the checks
  // above; here it must show up in at least one vector.
  const seen = new Set();
  for (const { json } of decisions) checkShape(interfaces, json, ref("DecideResponse"), { seen });
  for (const { json } of errors) checkShape(interfaces, json, errorEnvelope, { seen });
  checkShape(interfaces, info, ref("EngineInfo"), { seen });
  const never = WIRE.flatMap(declaredPaths).filter((p) => !seen.has(p));
  assert.deepEqual(never, [], `declared but never in the vectors: ${never.join(", ")}`);
});

test("a field renamed in the JSON fails, naming the interface and the field", () => {
  const d = structuredClone(decisions.find((x) => x.json.slots.some((s) => s.offers.length > 0)).json);
  const slot = d.slots.find((s) => s.offers.length > 0);
  slot.offers[0].position = slot.offers[0].rank;
  delete slot.offers[0].rank;
  slot.chan = slot.channel;
  delete slot.channel;
  d.record.consent.profiling = "yes";
  d.mode = "explore";
  const problems = checkShape(interfaces, d, ref("DecideResponse")).map((p) => p.replace(/ \(at .*\)$/, ""));
  for (const expected of [
    "Chosen.position: in the JSON but not declared in the .d.ts",
    "Chosen.rank: declared required in the .d.ts but missing from the JSON",
    "DecideResponse.slots[].chan: in the JSON but not declared in the .d.ts",
    "DecideResponse.slots[].channel: declared required in the .d.ts but missing from the JSON",
    'DecisionRecord.consent.profiling: "yes" is not boolean',
    'DecideResponse.mode: "explore" is not "personalised" | "anonymous" | "no_profiling_consent" | "bau" | "no_contact"',
  ]) assert.ok(problems.includes(expected), `${expected}\nnot in:\n${problems.join("\n")}`);
});
