// Runs one golden vector per request inside workerd.
import { initSync, Engine } from "./vitrine_engine.js";
import wasm from "./vitrine_engine_bg.wasm";

initSync({ module: wasm });
const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

export default {
  async fetch(req) {
    const { bundle, key, request } = await req.json();
    let engine;
    try {
      engine = Engine.load(b64(bundle), hex(key));
    } catch (e) {
      return new Response(JSON.stringify({ error: e }));
    }
    try {
      return new Response(engine.decideJson(request));
    } finally {
      engine.free();
    }
  },
};
