// `httpStatus` as engine/js exports it (the core's error-code → HTTP status rule), for a
// dist/engine-js built before it existed. Delete this file once every build has it: the
// rebuilt vitrine_engine.d.ts declares the same function, and the two merge harmlessly.
export {};

declare module "../../dist/engine-js/vitrine_engine.js" {
  /** 500 for `internal` (or no code), else 400. */
  export function httpStatus(code: string): number;
}
