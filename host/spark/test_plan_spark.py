"""The Spark job plans exactly like `vitrine plan`: same input, same contacts (offer,
treatment, channel, send date and hour, priority, probability, decision id), same
uncontacted clients and reasons, under the optimal allocation with a budget, a daily
capacity, offer volumes and a category share. Runs Spark in local[2] mode.

    python host/spark/test_plan_spark.py --vitrine target/debug/vitrine --wasm dist/engine-abi.wasm
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import vitrine_plan_spark  # noqa: E402

CONFIG = """
start = "2026-11-23"
days = 7
seed = 7
max_contacts = 2
min_gap_days = 2
quiet_days = ["sunday"]
budget = 60.0

[[channels]]
name = "email"
capacity = 900
[[channels]]
name = "push"
capacity = 300
capacity_per_day = 60
[[channels]]
name = "sms"
capacity = 120
quiet_hours = [21, 11]

[[offers]]
id = "fibre_upgrade"
max = 150
[[offers]]
id = "data_20gb"
min = 40
[[categories]]
id = "mobile"
max_share = 0.5
"""


def rows(path: Path):
    t = pq.read_table(path)
    cols = t.column_names
    return sorted(tuple(r[c] for c in cols) for r in t.to_pylist()), cols


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vitrine", required=True)
    ap.add_argument("--wasm", required=True)
    ap.add_argument("--clients", type=int, default=2000)
    a = ap.parse_args()
    root = HERE.parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        v = lambda *args: subprocess.run([a.vitrine, *map(str, args)], check=True, capture_output=True)  # noqa: E731
        v("keys", "new", "--kid", "spark-bundle", "--role", "bundle", "--out", tmp / "keys")
        v("bundle", "build", "--key", tmp / "keys/spark-bundle.key", "--out", tmp / "demo.vbnd", root / "web-demo/bundle")
        v("demo", "seed", "--clients", a.clients, "--out", tmp / "clients.csv")
        v("features", "import", tmp / "clients.csv", "--schema", root / "web-demo/bundle", "--db", tmp / "f.sqlite")
        v("features", "export", "--db", tmp / "f.sqlite", "--out", tmp / "clients.parquet")
        (tmp / "plan.toml").write_text(CONFIG)
        common = ["--bundle", tmp / "demo.vbnd", "--bundle-key", tmp / "keys/spark-bundle.pub", "--config", tmp / "plan.toml"]
        v("plan", "--features", tmp / "clients.parquet", "--out", tmp / "native", *common)
        summary = vitrine_plan_spark.main(
            ["--features", str(tmp / "clients.parquet"), "--wasm", a.wasm, "--out", str(tmp / "spark"), "--master", "local[2]", "--vitrine", a.vitrine]
            + [str(x) for x in common]
        )
        failures = []
        total = 0
        for name in ["email", "push", "sms", "uncontacted"]:
            native, ncols = rows(tmp / "native" / f"{name}.parquet")
            spark, scols = rows(tmp / "spark" / name)
            if ncols != scols:
                failures.append(f"{name}: columns {scols} != {ncols}")
            elif native != spark:
                diff = sorted(set(native) ^ set(spark))[:5]
                failures.append(f"{name}: {len(native)} rows natively, {len(spark)} on Spark; first differences {diff}")
            total += len(native)
            print(f"{name}: {len(native)} rows natively, {len(spark)} on Spark")
        native_summary = json.loads((tmp / "native" / "summary.json").read_text())
        if summary["objective"] != {**native_summary["objective"], "seconds": summary["objective"]["seconds"]}:
            failures.append(f"objective {summary['objective']} != {native_summary['objective']}")
        if not native_summary["objective"]["spent"] <= 60.0 or native_summary["refused"]["budget"] == 0:
            failures.append(f"the budget should bind: {native_summary['objective']}, {native_summary['refused']}")
        if summary["clients"] != a.clients:
            failures.append(f"Spark planned {summary['clients']} clients of {a.clients}")
        if total <= a.clients // 2:
            failures.append(f"only {total} rows: the comparison would prove little")
        if failures:
            print("FAIL\n" + "\n".join(failures))
            return 1
        print(f"ok: Spark (local[2], engine-abi.wasm via wasmtime-py) equals vitrine plan on {a.clients} clients")
        return 0


if __name__ == "__main__":
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    sys.exit(main())
