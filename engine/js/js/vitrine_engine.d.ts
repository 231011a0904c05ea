// Types of the Vitrine engine's JS face (vitrine_engine.js). The wire interfaces are
// held to the JSON the Rust engine emits by tests/node/dts.test.mjs, field by field.

/**
 * A decide request; see engine/abi/README.md for every field. Unknown fields are refused
 * (`request_malformed`), as by `decideJson` and the raw ABI; a field set to `undefined`
 * is absent.
 */
export interface DecideRequest {
  /** The client's signed snapshot (base64url); absent, null or "" for an anonymous visitor. */
  snapshot?: string | null;
  /** Unix **seconds** (`Math.floor(Date.now() / 1000)`); milliseconds are refused (`request_now_in_milliseconds`). */
  now: number;
  /** Any integer in 0..=2^53−1, as a number or a BigInt. */
  seed: number | bigint;
  context?: Record<string, number | string | boolean>;
  slots: { slot: string; k?: number | null }[];
  history?: { offer: string; channel?: string | null; kind: "impression" | "contact" | "click" | "conversion" | "dismiss"; at: number }[];
  explain?: boolean;
}
export interface Creative { title: string; text: string; image: string; url: string; price: number | null }
export interface Chosen {
  rank: number; offer: string; kind: "offer" | "service"; category: string; treatment: string; creative: Creative;
  /** The score: a propensity; for an uplift-scored offer P(sale | contacted) (or the uplift); 1 in the BAU ranking. */
  p: number; c: number; v: number; l: number;
  /** score × C × V × L − cost, or the fixed BAU priority. */
  priority: number;
  /** The contact's cost on this slot's channel (absent when 0). */
  cost?: number;
  /** Uplift-scored offers: P(sale | contacted), P(sale | not contacted) (when the model gives them) and their difference. */
  p_treated?: number; p_control?: number; uplift?: number;
  selection_probability: number; probability_kind: "exact" | "estimated";
}
export interface DecisionRecord {
  decision_id: string; bundle: string; bundle_version: number; bundle_hash: string;
  snapshot_hash: string | null; subject: string | null; seed: number; now: number;
  context: Record<string, number | string | boolean>; slots: { slot: string; k: number | null }[]; history_hash: string;
  consent: { profiling: boolean; channels: string[] };
  /** The experiment arm, a salted hash of the subject (recomputable from the pseudonym and the bundle's salt); null when anonymous. */
  arm: "personalised" | "bau" | "no_contact" | null;
  /** A no_contact client: the uplift-scored offers the personalised ranking would have shown. */
  withheld?: { slot: string; channel: string; offer: string; uplift: number }[];
  engine_version: string;
}
export interface DecideResponse {
  decision_id: string;
  mode: "personalised" | "anonymous" | "no_profiling_consent" | "bau" | "no_contact";
  slots: { slot: string; channel: string; offers: Chosen[] }[];
  record: DecisionRecord;
  explain?: { slot: string; offer: string; reason: string }[];
}
export interface EngineInfo {
  bundle: string; version: number; hash: string; schema_hash: string; offers: number;
  slots: string[]; channels: string[]; features: number; models: number; engine_version: string;
  /** The verified-snapshot cache: entries it can hold and holds, and its counters since load. */
  snapshot_cache: { capacity: number; entries: number; hits: number; misses: number; evictions: number };
}
/** The error object of every face: `decideJson` returns `{"error": EngineError}` as text. */
export interface EngineError { code: string; stage: string; message: string }

/** What every method but `decideJson` throws. `code` is stable (engine/abi/README.md lists them). */
export class VitrineError extends Error implements EngineError {
  readonly name: "VitrineError";
  code: string;
  stage: string;
  constructor(code: string, stage: string, message: string);
  toJSON(): EngineError;
}

export interface LoadOptions {
  /** Entries of the verified-snapshot cache (default 32,768, at most 1,048,576; 0 disables it). */
  snapshotCacheEntries?: number;
  /** Whether `decideAsync` verifies new snapshots with WebCrypto's Ed25519 (default: yes, but not in node, where it is no faster than the engine's own verifier). */
  webCrypto?: boolean;
}

/** A loaded, verified bundle. */
export class Engine {
  private constructor();
  /**
   * Verifies the signed bundle and loads it.
   * @param publicKey the bundle key: 32 raw bytes, 64 hex digits, or the JSON text of its `KID.pub` file.
   */
  static load(bundle: Uint8Array | ArrayBuffer | ArrayBufferView, publicKey: Uint8Array | ArrayBuffer | ArrayBufferView | string, options?: LoadOptions): Engine;
  /** Decides; throws a `VitrineError`. */
  decide(request: DecideRequest): DecideResponse;
  /** Decides, verifying a new snapshot with WebCrypto's Ed25519 where that pays (same answers as `decide`). */
  decideAsync(request: DecideRequest): Promise<DecideResponse>;
  /** Decides JSON text; returns the response JSON or the error JSON (never throws). */
  decideJson(request: string): string;
  /** The loaded bundle and the verified-snapshot cache's counters. */
  info(): EngineInfo;
  /** Frees the engine's Wasm memory. */
  free(): void;
}

/** The HTTP status for an engine error code (500 for `internal`, else 400), as the server answers. */
export function httpStatus(code: string): number;
/** Whether `decideAsync` verifies with WebCrypto in this realm (`null` until first tried). */
export function webCryptoStatus(): boolean | null;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;
/** Instantiates the Wasm (once). With no argument: the packaged .wasm (in node, read from disk). */
export default function init(input?: { module_or_path: InitInput | Promise<InitInput> }): Promise<unknown>;
/** Instantiates synchronously (workerd: the imported `WebAssembly.Module`). */
export function initSync(input: { module: BufferSource | WebAssembly.Module }): unknown;
