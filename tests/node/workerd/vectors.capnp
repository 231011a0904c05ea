# A workerd service for the cross-runtime suite: POST {bundle (base64), key (hex), request}
# → the engine's output for that golden vector (decide JSON, or load error JSON).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "vectors", worker = .vectors)],
  sockets = [(name = "http", address = "127.0.0.1:8788", http = (), service = "vectors")],
);

const vectors :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "vectors.js"),
    (name = "vitrine_engine.js", esModule = embed "../../../dist/engine-js/vitrine_engine.js"),
    (name = "vitrine_engine_core.js", esModule = embed "../../../dist/engine-js/vitrine_engine_core.js"),
    (name = "vitrine_engine_bg.wasm", wasm = embed "../../../dist/engine-js/vitrine_engine_bg.wasm"),
  ],
  compatibilityDate = "2026-01-01",
);
