# workerd config for the Vitrine edge worker:
#   workerd serve web-demo/edge-worker/config.capnp --socket-addr http=127.0.0.1:8787
# with VITRINE_HOST=http://127.0.0.1:8080 (the `vitrine serve` it proxies and reports to).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "edge", worker = .edge),
    # The host runs on loopback in the demo: allow private and local addresses.
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "edge")],
);

const edge :Workerd.Worker = (
  # Each module is named by its path in the repository (the first is the main module), so
  # worker.js imports them by their relative paths, which tsc resolves the same way. The
  # shared module is the storefront's own file (web-demo/site is what the host serves).
  modules = [
    (name = "web-demo/edge-worker/worker.js", esModule = embed "worker.js"),
    (name = "web-demo/site/shared/vitrine.js", esModule = embed "../site/shared/vitrine.js"),
    (name = "dist/engine-js/vitrine_engine.js", esModule = embed "../../dist/engine-js/vitrine_engine.js"),
    (name = "dist/engine-js/vitrine_engine_core.js", esModule = embed "../../dist/engine-js/vitrine_engine_core.js"),
    (name = "dist/engine-js/vitrine_engine_bg.wasm", wasm = embed "../../dist/engine-js/vitrine_engine_bg.wasm"),
  ],
  compatibilityDate = "2026-01-01",
  globalOutbound = "internet",
  bindings = [
    (name = "VITRINE_HOST", fromEnvironment = "VITRINE_HOST"),
  ],
);
