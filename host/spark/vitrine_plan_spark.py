"""Campaign planning on Spark with the very engine the edge runs.

Every executor loads `engine-abi.wasm` through the Python `wasmtime` package and
decides its partitions of the feature table (`mapInPandas`): the same plan requests
as `vitrine plan` (profile + decide request, `vitrine_plan` on the raw ABI). The
proposals then stream to the driver (`toLocalIterator`) into one CSV, and the driver's
`vitrine plan --proposals` allocates them: the same allocation as `vitrine plan`, under
every constraint of plan.toml (optimal or greedy, daily capacities, volumes, shares,
budget, send hours). Output: one Parquet folder per channel and one for the uncontacted
clients, with the columns of `vitrine plan`, and its summary.json.

    spark-submit --files dist/engine-abi.wasm,plan.vbnd,bundle.pub,plan.toml \
        host/spark/vitrine_plan_spark.py --features s3://bucket/clients.parquet \
        --wasm engine-abi.wasm --bundle plan.vbnd --bundle-key bundle.pub \
        --config plan.toml --out s3://bucket/plans/w48 --vitrine /usr/local/bin/vitrine

The input is `vitrine features export` (Parquet): client_id, subject, consent_*,
one column per feature.
"""
import argparse
import datetime as dt
import hashlib
import json
import math
import os
import struct
import sys
import tomllib

MAX_SEED = (1 << 53) - 1
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class WasmEngine:
    """engine-abi.wasm under wasmtime-py: load a bundle, decide plan requests."""

    def __init__(self, wasm: bytes, bundle: bytes, key: bytes):
        import wasmtime

        self.store = wasmtime.Store(wasmtime.Engine())
        module = wasmtime.Module(self.store.engine, wasm)
        if module.imports:
            raise ValueError("engine-abi.wasm must import nothing")
        inst = wasmtime.Instance(self.store, module, [])
        ex = inst.exports(self.store)
        self.memory, self.alloc, self.free = ex["memory"], ex["vitrine_alloc"], ex["vitrine_free"]
        self._decide, self._plan, self._last_error = ex["vitrine_decide"], ex["vitrine_plan"], ex["vitrine_last_error"]
        self._info = ex["vitrine_info"]
        if ex["vitrine_abi_version"](self.store) != 1:
            raise ValueError("engine-abi.wasm speaks another ABI version")
        bp, bl = self._put(bundle)
        kp, kl = self._put(key)
        self.handle = ex["vitrine_load"](self.store, bp, bl, kp, kl)
        self.free(self.store, bp, bl)
        self.free(self.store, kp, kl)
        if self.handle <= 0:
            raise ValueError("bundle refused: " + self._take(self._last_error(self.store)).decode())

    def _put(self, data: bytes):
        ptr = self.alloc(self.store, len(data))
        self.memory.write(self.store, data, ptr)
        return ptr, len(data)

    def _take(self, packed: int) -> bytes:
        packed &= (1 << 64) - 1
        ptr, ln = packed >> 32, packed & 0xFFFFFFFF
        if ln == 0:
            return b""
        out = bytes(self.memory.read(self.store, ptr, ptr + ln))
        self.free(self.store, ptr, ln)
        return out

    def _call(self, fn, request: bytes) -> dict:
        rp, rl = self._put(request)
        out = self._take(fn(self.store, self.handle, rp, rl))
        self.free(self.store, rp, rl)
        return json.loads(out)

    def plan(self, request: dict) -> dict:
        return self._call(self._plan, json.dumps(request, separators=(",", ":")).encode())

    def decide(self, request: dict) -> dict:
        return self._call(self._decide, json.dumps(request, separators=(",", ":")).encode())

    def info(self) -> dict:
        return json.loads(self._take(self._info(self.store, self.handle)))


def read_public_key(path: str) -> bytes:
    """A `vitrine keys new` public key file (JSON with the key in hex)."""
    with open(path) as f:
        doc = json.load(f)
    hexkey = doc.get("public_key") or doc.get("public")
    return bytes.fromhex(hexkey)


def client_seed(seed: int, client: str) -> int:
    """The planner's per-client exploration seed (see `plan::client_seed`)."""
    d = hashlib.sha256(b"vitrine/plan-seed/v1\0" + struct.pack("<Q", seed) + client.encode()).digest()
    return struct.unpack("<Q", d[:8])[0] & MAX_SEED


def resolve_config(path: str, engine: WasmEngine) -> dict:
    """plan.toml, resolved like `vitrine plan` (the slot of each channel asked of the bundle)."""
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    start = dt.date.fromisoformat(raw["start"])
    days = int(raw["days"])
    quiet = 0
    for q in raw.get("quiet_days", []):
        if q.lower() in WEEKDAYS:
            for d in range(days):
                if (start + dt.timedelta(days=d)).weekday() == WEEKDAYS.index(q.lower()):
                    quiet |= 1 << d
        else:
            d = (dt.date.fromisoformat(q) - start).days
            if 0 <= d < days:
                quiet |= 1 << d
    max_contacts = int(raw["max_contacts"])
    channels = []
    known = engine.info()["channels"]
    for c in raw["channels"]:
        if c["name"] not in known:
            raise ValueError(f"channel `{c['name']}` is not a channel of the bundle's schema (channels: {', '.join(known)})")
        if c["capacity"] < 0:
            raise ValueError(f"channel `{c['name']}`: capacity {c['capacity']} is negative")
        slot = c.get("slot")
        if slot is None:
            slot = slot_of_channel(engine, c["name"])
        channels.append({"name": c["name"], "slot": slot, "k": int(c.get("k", min(max_contacts, 255)))})
    epoch = dt.date(1970, 1, 1)
    return {
        "start_day": (start - epoch).days,
        "days": days,
        "seed": int(raw.get("seed", 0)),
        "max_contacts": max_contacts,
        "min_gap_days": int(raw.get("min_gap_days", 0)),
        "quiet": quiet,
        "context": raw.get("context", {}),
        "channels": channels,
    }


def slot_of_channel(engine: WasmEngine, channel: str) -> str:
    """The bundle's first slot on `channel` (asked with an anonymous decide per slot)."""
    for slot in engine.info()["slots"]:
        r = engine.decide({"now": 0, "seed": 0, "slots": [{"slot": slot}]})
        if "error" not in r and r["slots"][0]["channel"] == channel:
            return slot
    raise ValueError(f"channel `{channel}`: the bundle has no slot on this channel")


def plan_request(cfg: dict, channels: list, features: dict, row: dict) -> dict:
    """The plan request `vitrine plan` makes for this export row."""
    consent = ["profiling"] if row["consent_profiling"] else []
    consent += [c for c in channels if row.get("consent_" + c)]
    values = {}
    for name, kind in features.items():
        v = row.get(name)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        values[name] = bool(v) if kind == "boolean" else (str(v) if kind == "categorical" else float(v))
    return {
        "profile": {"subject": row["subject"], "consent": consent, "features": values},
        "request": {
            "now": cfg["start_day"] * 86400,
            "seed": client_seed(cfg["seed"], row["client_id"]),
            "context": cfg["context"],
            "slots": [{"slot": c["slot"], "k": c["k"]} for c in cfg["channels"]],
        },
    }


PROPOSALS = (
    "client_id string, decision_id string, status string, pref int, rank int, "
    "offer string, treatment string, priority double, selection_probability double, uplift double"
)
PROPOSAL_COLUMNS = ["client_id", "decision_id", "status", "pref", "rank", "offer", "treatment", "priority", "selection_probability", "uplift"]


def decide_partitions(wasm: bytes, bundle: bytes, key: bytes, cfg: dict, features: dict, channels: list):
    """mapInPandas: one engine per partition, one plan request per client."""

    def run(frames):
        import pandas as pd

        engine = WasmEngine(wasm, bundle, key)
        planned = [c["name"] for c in cfg["channels"]]
        for frame in frames:
            out = []
            for row in frame.to_dict("records"):
                r = engine.plan(plan_request(cfg, channels, features, row))
                if "error" in r:
                    e = r["error"]
                    raise ValueError(f"client `{row['client_id']}`: the engine refused the decision: {e['code']}: {e['message']}")
                props = []
                # A no_contact decision holds service actions only: whatever it proposes may be sent.
                for pref, slot in enumerate(r["slots"]):
                    for o in slot["offers"]:
                        props.append((pref, o["rank"], o["offer"], o["treatment"], o["priority"], o["selection_probability"], o.get("uplift")))
                if r["mode"] == "no_contact" and not props:
                    status = "no_contact"
                elif not any(c in r["record"]["consent"]["channels"] for c in planned):
                    status = "no_channel_consent"
                elif not props:
                    status = "no_eligible_offer"
                else:
                    status = "candidates"
                # One row per proposal; a client without any keeps one row (pref -1) for the uncontacted list.
                for p in props or [(-1, 0, None, None, None, None, None)]:
                    out.append((row["client_id"], r["decision_id"], status) + p)
            yield pd.DataFrame(out, columns=PROPOSAL_COLUMNS)

    return run


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", required=True, help="Parquet export of the feature store")
    ap.add_argument("--wasm", required=True, help="engine-abi.wasm")
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--bundle-key", required=True)
    ap.add_argument("--config", required=True, help="plan.toml")
    ap.add_argument("--out", required=True)
    ap.add_argument("--master", default=None, help="e.g. local[2]; spark-submit sets it otherwise")
    ap.add_argument("--vitrine", default="vitrine", help="the vitrine binary on the driver (allocates the proposals)")
    a = ap.parse_args(argv)

    from pyspark.sql import SparkSession

    wasm, bundle, key = open(a.wasm, "rb").read(), open(a.bundle, "rb").read(), read_public_key(a.bundle_key)
    local = WasmEngine(wasm, bundle, key)  # checks the bundle and resolves slots before any executor starts
    cfg = resolve_config(a.config, local)
    info = local.info()
    builder = SparkSession.builder.appName("vitrine-plan")
    if a.master:
        builder = builder.master(a.master)
    spark = builder.getOrCreate()
    # Executors import this module to run `decide_partitions` (spark-submit ships it too).
    spark.sparkContext.addPyFile(__file__)
    table = spark.read.parquet(a.features)
    parallelism = spark.sparkContext.defaultParallelism
    if table.rdd.getNumPartitions() < parallelism:
        table = table.repartition(parallelism)
    schema_channels = info["channels"]
    kinds = {f.name: f.dataType.simpleString() for f in table.schema.fields}
    reserved = {"client_id", "subject", "consent_profiling"} | {"consent_" + c for c in schema_channels}
    features = {n: ("boolean" if t == "boolean" else "categorical" if t == "string" else "numeric") for n, t in kinds.items() if n not in reserved}
    if len(features) != info["features"]:
        raise ValueError(f"the export has {len(features)} feature columns, the bundle's schema {info['features']}")

    proposals = table.mapInPandas(decide_partitions(wasm, bundle, key, cfg, features, schema_channels), PROPOSALS)

    # The allocation on the driver, by `vitrine plan` itself: the proposals stream to one
    # local CSV (the driver holds no more than the CSV writer's buffer), the binary
    # allocates them under every constraint of plan.toml, and its files become the job's.
    import csv
    import shutil
    import subprocess
    import tempfile

    work = tempfile.mkdtemp(prefix="vitrine-spark-")
    try:
        local = os.path.join(work, "proposals.csv")
        with open(local, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(PROPOSAL_COLUMNS)
            for r in proposals.toLocalIterator():
                offer = r.offer if r.pref >= 0 else None
                w.writerow([
                    r.client_id, r.decision_id, r.status, max(r.pref, 0), r.rank, offer or "", r.treatment or "",
                    "" if offer is None else repr(r.priority), "" if offer is None else repr(r.selection_probability),
                    "" if r.uplift is None or (isinstance(r.uplift, float) and math.isnan(r.uplift)) else repr(r.uplift),
                ])
        out = os.path.join(work, "plan")
        run = subprocess.run(
            [a.vitrine, "plan", "--proposals", local, "--bundle", a.bundle, "--bundle-key", a.bundle_key, "--config", a.config, "--out", out, "--json"],
            capture_output=True, text=True,
        )
        if run.returncode != 0:
            raise ValueError("vitrine plan --proposals: " + run.stderr.strip())
        summary = json.loads(run.stdout)
        for name in [c["name"] for c in cfg["channels"]] + ["uncontacted"]:
            spark.read.parquet(os.path.join(out, f"{name}.parquet")).coalesce(1).write.mode("overwrite").parquet(f"{a.out}/{name}")
        if "://" not in a.out:
            shutil.copy(os.path.join(out, "summary.json"), os.path.join(a.out, "summary.json"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps({"clients": summary["clients"], "contacts": summary["contacts"], "objective": summary["objective"]}))
    spark.stop()
    return summary


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
