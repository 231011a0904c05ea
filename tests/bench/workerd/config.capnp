# workerd service for the JS face's benchmark (tests/bench/workerd.mjs drives it):
#   workerd serve tests/bench/workerd/config.capnp --socket-addr http=127.0.0.1:PORT
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "bench", worker = .bench)],
  sockets = [(name = "http", address = "127.0.0.1:8789", http = (), service = "bench")],
);

const bench :Workerd.Worker = (
  modules = [
    (name = "bench.js", esModule = embed "bench.js"),
    (name = "vitrine_engine.js", esModule = embed "../../../dist/engine-js/vitrine_engine.js"),
    (name = "vitrine_engine_core.js", esModule = embed "../../../dist/engine-js/vitrine_engine_core.js"),
    (name = "vitrine_engine_bg.wasm", wasm = embed "../../../dist/engine-js/vitrine_engine_bg.wasm"),
  ],
  compatibilityDate = "2026-01-01",
);
