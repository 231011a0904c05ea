// Reads the `export interface X { … }` blocks of a .d.ts into shapes, and checks JSON
// values against them key by key: what dts.test.mjs uses to hold dist/engine-js's
// hand-written types to the JSON the Rust engine really emits.
//
// Only the TypeScript those interfaces use is understood (fields, `?`, unions, `T[]`,
// inline `{ … }`, `Record<K, V>`, literals, names of other interfaces); anything else
// throws, so that a .d.ts this parser misreads fails the test rather than passing it.

// Whitespace and comments, then one token: identifier, string, number or punctuation.
const TOKEN = /(?:\s+|\/\*[\s\S]*?\*\/|\/\/[^\n]*)*(?:([A-Za-z_$][\w$]*)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(-?\d+(?:\.\d+)?)|(.))/y;
const PRIMITIVES = new Set(["string", "number", "bigint", "boolean", "null", "undefined", "unknown", "any"]);

/** A cursor over the tokens of `text` from `at`: { kind: "ident"|"string"|"number"|"punct", value }. */
function lexer(text, at) {
  let pos = at;
  let peeked = null;
  const read = () => {
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) return { kind: "end", value: "" };
    pos = TOKEN.lastIndex;
    if (m[1] !== undefined) return { kind: "ident", value: m[1] };
    if (m[2] !== undefined) return { kind: "string", value: JSON.parse(m[2][0] === "'" ? `"${m[2].slice(1, -1).replace(/"/g, '\\"')}"` : m[2]) };
    if (m[3] !== undefined) return { kind: "number", value: Number(m[3]) };
    return { kind: "punct", value: m[4] };
  };
  return {
    peek: () => (peeked ??= read()),
    next() {
      const t = this.peek();
      peeked = null;
      return t;
    },
    expect(value) {
      const t = this.next();
      if (t.value !== value) throw new SyntaxError(`expected "${value}", found "${t.value}" near offset ${pos}`);
      return t;
    },
    accept(value) {
      if (this.peek().kind === "punct" && this.peek().value === value) return this.next();
      return null;
    },
  };
}

/** `{ name[?]: Type; … }` → { kind: "object", fields: Map(name → { optional, type }) }. */
function parseObject(lx) {
  lx.expect("{");
  const fields = new Map();
  while (!lx.accept("}")) {
    const name = lx.next();
    if (name.kind !== "ident" && name.kind !== "string") throw new SyntaxError(`unsupported member starting with "${name.value}"`);
    const optional = Boolean(lx.accept("?"));
    if (lx.peek().value !== ":") throw new SyntaxError(`unsupported member "${name.value}" (only "name: Type" fields are read)`);
    lx.expect(":");
    if (fields.has(name.value)) throw new SyntaxError(`field "${name.value}" declared twice`);
    fields.set(name.value, { optional, type: parseType(lx) });
    if (!lx.accept(";") && !lx.accept(",") && lx.peek().value !== "}") throw new SyntaxError(`expected ";" after field "${name.value}", found "${lx.peek().value}"`);
  }
  return { kind: "object", fields };
}

function parseType(lx) {
  lx.accept("|");
  const of = [parsePostfix(lx)];
  while (lx.accept("|")) of.push(parsePostfix(lx));
  return of.length === 1 ? of[0] : { kind: "union", of };
}

function parsePostfix(lx) {
  let type = parsePrimary(lx);
  while (lx.accept("[")) {
    lx.expect("]");
    type = { kind: "array", of: type };
  }
  return type;
}

function parsePrimary(lx) {
  const t = lx.peek();
  if (t.value === "{" && t.kind === "punct") return parseObject(lx);
  lx.next();
  if (t.kind === "punct" && t.value === "(") {
    const inner = parseType(lx);
    lx.expect(")");
    return inner;
  }
  if (t.kind === "string" || t.kind === "number") return { kind: "literal", value: t.value };
  if (t.kind !== "ident") throw new SyntaxError(`unsupported type starting with "${t.value}"`);
  if (t.value === "true" || t.value === "false") return { kind: "literal", value: t.value === "true" };
  if (t.value === "Record") {
    lx.expect("<");
    const key = parseType(lx);
    lx.expect(",");
    const value = parseType(lx);
    lx.expect(">");
    return { kind: "record", key, value };
  }
  if (lx.peek().value === "<") throw new SyntaxError(`unsupported generic type ${t.value}<…>`);
  if (PRIMITIVES.has(t.value)) return { kind: "primitive", name: t.value };
  return { kind: "ref", name: t.value };
}

/** The `export interface Name { … }` blocks of `text` for each of `names` → Map(Name →
 * object shape). The others (wasm-bindgen's own, with methods) are not read. */
export function parseInterfaces(text, names) {
  const interfaces = new Map();
  for (const m of text.matchAll(/export\s+interface\s+([A-Za-z_$][\w$]*)\s*\{/g)) {
    if (!names.includes(m[1])) continue;
    const lx = lexer(text, m.index + m[0].length - 1);
    try {
      interfaces.set(m[1], parseObject(lx));
    } catch (e) {
      throw new SyntaxError(`interface ${m[1]}: ${e.message}`);
    }
  }
  const missing = names.filter((n) => !interfaces.has(n));
  if (missing.length > 0) throw new SyntaxError(`no "export interface" for ${missing.join(", ")}`);
  return interfaces;
}

/** A type written back as TypeScript, for messages. */
export function typeText(type) {
  switch (type.kind) {
    case "object": return `{ ${[...type.fields].map(([k, f]) => `${k}${f.optional ? "?" : ""}: ${typeText(f.type)}`).join("; ")} }`;
    case "union": return type.of.map(typeText).join(" | ");
    case "array": return `${type.of.kind === "union" ? `(${typeText(type.of)})` : typeText(type.of)}[]`;
    case "record": return `Record<${typeText(type.key)}, ${typeText(type.value)}>`;
    case "literal": return JSON.stringify(type.value);
    case "primitive": return type.name;
    case "ref": return type.name;
  }
  throw new Error(`unknown type kind ${type.kind}`);
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Checks `value` against `type` (a shape from parseInterfaces, or { kind: "ref", name }).
 * Returns a list of messages, each naming the interface and field: a JSON key the .d.ts
 * does not declare, a required field the JSON lacks, or a value of another type.
 * `seen` (optional Set) collects every "Interface.field" path that was checked.
 */
export function checkShape(interfaces, value, type, { where = "$", seen = new Set() } = {}) {
  const errors = [];
  walk(interfaces, value, type, { iface: type.name ?? "(inline)", field: "", where }, errors, seen);
  return errors;
}

function walk(interfaces, value, type, at, errors, seen) {
  const label = at.field ? `${at.iface}.${at.field}` : at.iface;
  const fail = (what) => errors.push(`${label}: ${what} (at ${at.where})`);
  switch (type.kind) {
    case "ref": {
      const shape = interfaces.get(type.name);
      if (!shape) return fail(`refers to ${type.name}, which the .d.ts does not declare`);
      return walk(interfaces, value, shape, { iface: type.name, field: "", where: at.where }, errors, seen);
    }
    case "object": {
      if (!isObject(value)) return fail(`expected an object, got ${JSON.stringify(value)}`);
      for (const key of Object.keys(value)) {
        if (!type.fields.has(key)) errors.push(`${at.iface}.${at.field ? `${at.field}.` : ""}${key}: in the JSON but not declared in the .d.ts (at ${at.where})`);
      }
      for (const [key, f] of type.fields) {
        const field = at.field ? `${at.field}.${key}` : key;
        if (!(key in value)) {
          if (!f.optional) errors.push(`${at.iface}.${field}: declared required in the .d.ts but missing from the JSON (at ${at.where})`);
          continue;
        }
        seen.add(`${at.iface}.${field}`);
        walk(interfaces, value[key], f.type, { iface: at.iface, field, where: `${at.where}.${key}` }, errors, seen);
      }
      return;
    }
    case "array":
      if (!Array.isArray(value)) return fail(`expected an array, got ${JSON.stringify(value)}`);
      value.forEach((v, i) => walk(interfaces, v, type.of, { ...at, field: `${at.field}[]`, where: `${at.where}[${i}]` }, errors, seen));
      return;
    case "record":
      if (!isObject(value)) return fail(`expected an object, got ${JSON.stringify(value)}`);
      for (const [k, v] of Object.entries(value)) walk(interfaces, v, type.value, { ...at, where: `${at.where}.${k}` }, errors, seen);
      return;
    case "union": {
      // The value fits if one member takes it; else report the member that fits it best
      // (fewest complaints), so a renamed field inside `X | null` still names that field.
      const tries = type.of.map((member) => {
        const sub = [];
        walk(interfaces, value, member, at, sub, new Set());
        return sub;
      });
      if (tries.some((sub) => sub.length === 0)) {
        type.of.forEach((member, i) => tries[i].length === 0 && walk(interfaces, value, member, at, [], seen));
        return;
      }
      const structural = type.of.map((m, i) => [m, tries[i]]).filter(([m]) => !["primitive", "literal"].includes(m.kind));
      if (value !== null && typeof value === "object" && structural.length > 0) {
        errors.push(...structural.reduce((a, b) => (b[1].length < a[1].length ? b : a))[1]);
        return;
      }
      return fail(`${JSON.stringify(value)} is not ${typeText(type)}`);
    }
    case "literal":
      if (value !== type.value) fail(`${JSON.stringify(value)} is not ${JSON.stringify(type.value)}`);
      return;
    case "primitive":
      if (type.name === "unknown" || type.name === "any") return;
      if (type.name === "null" ? value !== null : typeof value !== type.name) fail(`${JSON.stringify(value)} is not ${type.name}`);
      return;
  }
  throw new Error(`unknown type kind ${type.kind}`);
}
