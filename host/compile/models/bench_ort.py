#!/usr/bin/env python3
"""Engine vs onnxruntime, per row at batch 1, on the committed test models and their
reference rows, in one command (from the repository root, with the venv of
generate.py):

    /tmp/venv-models/bin/python host/compile/models/bench_ort.py

The engine side is `cargo run --release -p vitrine-compile --example score_rows` (run
with RUST_BACKTRACE unset); onnxruntime runs single-threaded on the CPU provider,
one `InferenceSession.run` per row, as a server scoring one client would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MODELS = ["scaled_logit", "offers_logit", "with_scaler_op", "gbdt_lgbm", "rf_regressor", "mlp", "prep_pipeline"]


def ort_ns_per_row(stem: str) -> float:
    ref = json.loads((HERE / "out" / f"{stem}.reference.json").read_text())
    rows = [np.array([[np.nan if v is None else v for v in r]], dtype=np.float32) for r in ref["rows"]]
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(str(HERE / "out" / f"{stem}.onnx"), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    feed = sess.get_inputs()[0].name
    for r in rows * 50:  # warm up
        sess.run(names, {feed: r})
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < 1.0:
        for r in rows:
            sess.run(names, {feed: r})
        n += len(rows)
    return (time.perf_counter() - start) * 1e9 / n


def main() -> int:
    env = {k: v for k, v in os.environ.items() if k != "RUST_BACKTRACE"}
    out = subprocess.run(
        ["cargo", "run", "--quiet", "--release", "-p", "vitrine-compile", "--example", "score_rows", "--", *MODELS],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout
    engine = {d["model"]: d["ns_per_row"] for d in map(json.loads, out.splitlines())}
    print(f"onnxruntime {ort.__version__}, 1 thread, batch 1, per row (ns)\n")
    print("| model | engine | onnxruntime | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for stem in MODELS:
        o = ort_ns_per_row(stem)
        e = engine[stem]
        print(f"| `{stem}` | {e:,.0f} | {o:,.0f} | {o / e:,.0f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
