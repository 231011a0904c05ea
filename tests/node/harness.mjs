// Shared by the node tests: a real `vitrine serve` and real Chromium, on 127.0.0.1.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

export const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** `vitrine serve` (the binary `cargo test` built) on a free port with the web demo's
 * static files; `extra` are more flags. Resolves to { base, stop }. */
export async function startHost(extra = []) {
  const state = mkdtempSync(join(tmpdir(), "vitrine-node-"));
  const host = spawn(join(root, "target/debug/vitrine"), [
    "serve", "--state", state, "--listen", "127.0.0.1:0", "--engine", join(root, "dist/engine-abi.wasm"),
    "--static-dir", join(root, "web-demo/site"), "--engine-js", join(root, "dist/engine-js"), ...extra,
  ], { env: { ...process.env, RUST_LOG: "warn" }, stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: host.stdout }).once("line", resolve);
    host.once("exit", (code) => reject(new Error(`vitrine serve exited with ${code}`)));
  });
  return {
    base: line.replace("listening on ", "").trim(),
    stop() {
      host.kill("SIGTERM");
      rmSync(state, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with the flags an offline CI box needs. */
export const launchChromium = () => chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

/** A port nothing listens on right now. */
export const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
