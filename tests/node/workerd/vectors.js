// Runs one golden vector per request inside workerd: `decideJson` on the request text, or
// with `async: true` `decideAsync` on the parsed request (WebCrypto Ed25519), answered as
// the JSON of the decision or of the error, with `x-webcrypto` saying what verified.
import { initSync, Engine, webCryptoStatus } from "./vitrine_engine.js";
import wasm from "./vitrine_engine_bg.wasm";

initSync({ module: wasm });
const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

export default {
  async fetch(req) {
    const { bundle, key, request, async: useAsync } = await req.json();
    let engine;
    try {
      engine = Engine.load(b64(bundle), hex(key));
    } catch (e) {
      return new Response(JSON.stringify({ error: e }));
    }
    try {
      if (!useAsync) return new Response(engine.decideJson(request));
      const out = await engine.decideAsync(JSON.parse(request)).then((d) => JSON.stringify(d), (e) => JSON.stringify({ error: e }));
      return new Response(out, { headers: { "x-webcrypto": String(webCryptoStatus()) } });
    } finally {
      engine.free();
    }
  },
};
