// The JS face of the Vitrine engine (browsers, node, workerd): `Engine.load`, `decide`,
// `decideAsync`, `decideJson`, `info`, `VitrineError`, `init` / `initSync`, `httpStatus`.
//
// A thin layer over `EngineCore` (vitrine_engine_core.js, made by wasm-bindgen from
// engine/js/src/lib.rs). Requests cross into Wasm as JSON text and answers come back as
// JSON text: one parser (the core's) for every face, so `decide(object)` and
// `decideJson(text)` accept and refuse exactly what the raw ABI does, and `JSON.parse` in
// V8 is cheaper than building objects field by field from Wasm (BENCHMARKS.md). Every
// answer and every error message is the core's; this file only moves text, throws, and
// runs WebCrypto for `decideAsync`.
import coreInit, { initSync as coreInitSync, EngineCore, argumentJson, httpStatus, malformedJson } from "./vitrine_engine_core.js";

export { httpStatus };

/** What every method throws: an `Error` with the engine's stable `code` and `stage`. */
export class VitrineError extends Error {
  /**
   * @param {string} code
   * @param {string} stage
   * @param {string} message
   */
  constructor(code, stage, message) {
    super(message);
    this.name = "VitrineError";
    this.code = code;
    this.stage = stage;
  }

  /** `{code, stage, message}`, the error object of every face. */
  toJSON() {
    return { code: this.code, stage: this.stage, message: this.message };
  }
}

/** @param {string} json the core's `{"error":{…}}` */
function errorFrom(json) {
  const e = JSON.parse(json).error;
  return new VitrineError(e.code, e.stage, e.message);
}

/** @param {unknown} e what EngineCore threw: the error JSON, or a JS exception */
function rethrow(e) {
  return typeof e === "string" && e.startsWith('{"error"') ? errorFrom(e) : e;
}

/** @param {unknown} v */
const typeName = (v) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "object" ? (v.constructor?.name ?? "object") : typeof v);

/**
 * A `VitrineError` with code `argument_type` (an argument of the wrong type).
 * @param {string} message
 */
const argumentError = (message) => errorFrom(argumentJson(message));

/**
 * The bytes of a `Uint8Array`, `ArrayBuffer` (what `fetch().arrayBuffer()` gives), any
 * other typed array or DataView, or a node `Buffer`.
 * @param {unknown} value
 * @param {string} what
 */
function bytesOf(value, what) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && value instanceof SharedArrayBuffer)) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw argumentError(`Engine.load: ${what} must be a Uint8Array or an ArrayBuffer, got ${typeName(value)}`);
}

/**
 * The request as the JSON text the core parses. `undefined` fields vanish (absent), a
 * BigInt seed is written as the integer it is (the core checks its range).
 * @param {unknown} request
 */
function requestText(request) {
  if (request === null || typeof request !== "object" || Array.isArray(request)) {
    throw argumentError(`decide: the request must be an object, got ${typeName(request)} (decideJson takes JSON text)`);
  }
  try {
    if (typeof (/** @type {{seed?: unknown}} */ (request).seed) !== "bigint") return JSON.stringify(request);
    const { seed, ...rest } = /** @type {{seed: bigint}} */ (request);
    // The seed first, as a placeholder, then its exact digits in its place.
    const text = JSON.stringify({ seed: 0, ...rest });
    return `{"seed":${seed}${text.slice('{"seed":0'.length)}`;
  } catch (e) {
    // A BigInt outside `seed`, a cycle: not JSON, so not a request.
    throw errorFrom(malformedJson(`the request is not JSON: ${e instanceof Error ? e.message : String(e)}`));
  }
}

/** @param {string} out the core's answer: the response JSON, or the error JSON */
function answer(out) {
  // The response JSON starts `{"decision_id"`, the error JSON `{"error"`.
  if (out.charCodeAt(2) === 101 /* e */) throw errorFrom(out);
  return JSON.parse(out);
}

// WebCrypto Ed25519: in workerd and current Chromium it verifies in-thread, ~1.5× faster
// than the Wasm verifier (BENCHMARKS.md); node's runs on its thread pool, no faster than
// Wasm and with threads that slow everything else on a small machine, so `decideAsync`
// uses it by default everywhere but node (`Engine.load` option `webCrypto` overrides).
// `null` until known, then true or false for this realm.
/** @type {boolean | null} */
let webCryptoEd25519 = typeof globalThis.crypto?.subtle?.verify === "function" ? null : false;
/** @type {Map<string, Promise<CryptoKey>>} */
const cryptoKeys = new Map();

/**
 * Verifies the core's signing input (key ‖ signature ‖ message) with WebCrypto; `null`
 * when this runtime's WebCrypto has no Ed25519 (the engine's own verifier then runs).
 * @param {Uint8Array} input
 * @returns {Promise<boolean | null>}
 */
async function webCryptoVerify(input) {
  if (webCryptoEd25519 === false) return null;
  const raw = input.subarray(0, 32);
  const id = String.fromCharCode(...raw);
  try {
    let key = cryptoKeys.get(id);
    if (!key) {
      key = crypto.subtle.importKey("raw", raw.slice(), { name: "Ed25519" }, false, ["verify"]);
      cryptoKeys.set(id, key);
    }
    const ok = await crypto.subtle.verify({ name: "Ed25519" }, await key, input.subarray(32, 96), input.subarray(96));
    webCryptoEd25519 = true;
    return ok;
  } catch (e) {
    cryptoKeys.delete(id);
    if (webCryptoEd25519 === null) webCryptoEd25519 = false;
    return null;
  }
}

/** Whether `decideAsync` verifies with WebCrypto here (`null`: not tried yet). */
export const webCryptoStatus = () => webCryptoEd25519;

const LOAD_OPTIONS = ["snapshotCacheEntries", "webCrypto"];
// Node (20 has no `navigator`; 21+ says "Node.js/…"), not workerd ("Cloudflare-Workers",
// even with nodejs_compat's `process`) nor a browser.
const IN_NODE =
  typeof navigator === "object" && navigator !== null
    ? /^Node\.js\//.test(String(navigator.userAgent))
    : typeof process === "object" && typeof process.versions?.node === "string";

/** A loaded, verified bundle. */
export class Engine {
  /** @type {EngineCore} */
  #core;
  /** Whether `decideAsync` verifies new snapshots with WebCrypto. */
  #webCrypto = !IN_NODE;

  /** @param {EngineCore} core use `Engine.load` */
  constructor(core) {
    if (!(core instanceof EngineCore)) throw argumentError("use Engine.load(bundle, publicKey) to make an Engine");
    this.#core = core;
  }

  /**
   * Verifies the signed bundle and loads it.
   * @param {Uint8Array | ArrayBuffer | ArrayBufferView} bundle
   * @param {Uint8Array | ArrayBuffer | ArrayBufferView | string} publicKey 32 raw bytes, 64 hex
   *   digits, or the JSON text of the bundle key file (`KID.pub`)
   * @param {{ snapshotCacheEntries?: number, webCrypto?: boolean }} [options]
   */
  static load(bundle, publicKey, options = {}) {
    if (options === null || typeof options !== "object") throw argumentError(`Engine.load: options must be an object, got ${typeName(options)}`);
    const unknown = Object.keys(options).filter((k) => !LOAD_OPTIONS.includes(k) && options[k] !== undefined);
    if (unknown.length) throw argumentError(`Engine.load: unknown option \`${unknown[0]}\` (known: ${LOAD_OPTIONS.join(", ")})`);
    if (options.webCrypto !== undefined && typeof options.webCrypto !== "boolean") {
      throw argumentError(`Engine.load: webCrypto must be a boolean, got ${typeName(options.webCrypto)}`);
    }
    const entries = options.snapshotCacheEntries;
    if (entries !== undefined && typeof entries !== "number") {
      throw argumentError(`Engine.load: snapshotCacheEntries must be a number, got ${typeName(entries)}`);
    }
    const bytes = bytesOf(bundle, "the bundle");
    const key = typeof publicKey === "string" ? publicKey : bytesOf(publicKey, "the public key");
    let core;
    try {
      core = typeof key === "string" ? EngineCore.loadKeyText(bytes, key) : EngineCore.load(bytes, key);
      if (entries !== undefined) core.setSnapshotCacheEntries(entries);
    } catch (e) {
      core?.free();
      throw rethrow(e);
    }
    const engine = new Engine(core);
    if (options.webCrypto !== undefined) engine.#webCrypto = options.webCrypto;
    return engine;
  }

  /**
   * Decides a request; the snapshot, if any, is verified by the engine (Wasm).
   * @param {import("./vitrine_engine.d.ts").DecideRequest} request
   * @returns {import("./vitrine_engine.d.ts").DecideResponse}
   */
  decide(request) {
    return answer(this.#core.decideJson(requestText(request)));
  }

  /**
   * The same decision, with a snapshot not yet verified by this engine checked by
   * WebCrypto's Ed25519 where that pays (workerd, browsers; not node unless the `webCrypto`
   * load option says so) and the runtime has it, by the engine otherwise. Same answers as
   * `decide`, byte for byte.
   * @param {import("./vitrine_engine.d.ts").DecideRequest} request
   * @returns {Promise<import("./vitrine_engine.d.ts").DecideResponse>}
   */
  async decideAsync(request) {
    const text = requestText(request);
    const snapshot = /** @type {{snapshot?: unknown}} */ (request).snapshot;
    if (this.#webCrypto && typeof snapshot === "string" && snapshot !== "" && webCryptoEd25519 !== false) {
      const input = this.#core.signingInput(snapshot);
      // Admitted only right after WebCrypto accepted exactly what the core asked for; a
      // refusal (or no Ed25519 here) leaves the engine's own verifier to answer.
      if (input && (await webCryptoVerify(input)) === true) this.#core.admitVerified(snapshot);
    }
    return answer(this.#core.decideJson(text));
  }

  /**
   * Decides a JSON request; returns the response JSON (byte-identical to the raw ABI's)
   * or the error JSON `{"error":{code,stage,message}}`. Never throws.
   * @param {string} request
   * @returns {string}
   */
  decideJson(request) {
    if (typeof request !== "string") {
      return argumentJson(`decideJson takes the request as JSON text, got ${typeName(request)} (decide takes an object)`);
    }
    return this.#core.decideJson(request);
  }

  /**
   * The loaded bundle and the verified-snapshot cache's counters.
   * @returns {import("./vitrine_engine.d.ts").EngineInfo}
   */
  info() {
    return JSON.parse(this.#core.infoJson());
  }

  /** Frees the engine's Wasm memory; the engine cannot be used afterwards. */
  free() {
    this.#core.free();
  }
}

/** In node, with no argument: the packaged .wasm read from disk (fetch cannot read files). */
async function defaultInput() {
  const url = new URL("vitrine_engine_bg.wasm", import.meta.url);
  if (url.protocol === "file:" && typeof process === "object" && process.versions?.node) {
    const { readFile } = await import("node:fs/promises");
    return { module_or_path: await readFile(url) };
  }
  return { module_or_path: url };
}

/**
 * Instantiates the engine's Wasm once (again: no-op). In browsers and node with no
 * argument it loads the packaged `vitrine_engine_bg.wasm`; or pass
 * `{ module_or_path }` (bytes, a `WebAssembly.Module`, a URL or a `Response`).
 * @param {{ module_or_path?: unknown } | undefined} [input]
 */
export default async function init(input) {
  return coreInit(input ?? (await defaultInput()));
}

/**
 * Instantiates synchronously from `{ module }` (a `WebAssembly.Module`, as workerd's
 * Wasm imports give, or the .wasm bytes).
 * @param {{ module: unknown }} input
 */
export function initSync(input) {
  return coreInitSync(input);
}
