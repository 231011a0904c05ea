#!/usr/bin/env python3
"""Train a send-time model for the demo world: which hour of the day a client opens.

The demo world's hidden truth for opening times is this script's (documented, seeded):
each segment has its hour (youth 21:00, family 19:00, professional 12:00, senior 10:00,
UTC); a client opens a message at its segment's hour with probability 0.6, else at a
uniformly random hour. 24 binary logistic regressions (scikit-learn, one per hour: "opens
at hour h") on the 14 profile features of the demo schema are merged into one ONNX graph
`web-demo/models/send_time.onnx` with outputs `hour_HH_probabilities` (column 1 =
P(opens at HH)), plus onnxruntime reference outputs for the parity gate. A bundle
declares it with

    [timing]
    kind = "hour"
    model = "send_time"
    outputs = ["hour_00_probabilities", …, "hour_23_probabilities"]

The plan test checks the planned send hours against the truth above. Deterministic; CI
does not run it.

    target/debug/vitrine demo seed --clients 20000 --seed 7 --out /tmp/st/history.csv
    /tmp/venv-models/bin/python web-demo/models/train_send_time.py /tmp/st/history.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent / "host" / "compile" / "models"))
from generate import dump_reference, merge_parallel, run_ort, to_jsonable  # noqa: E402
from train import CATEGORICAL, FEATURES, VOCAB  # noqa: E402

# The truth: each segment's opening hour (UTC).
SEGMENT_HOUR = {"youth": 21, "family": 19, "professional": 12, "senior": 10}
P_AT_SEGMENT_HOUR = 0.6
SEED = 11


def load(clients: str) -> np.ndarray:
    import csv

    rows = []
    with open(clients) as f:
        for r in csv.DictReader(f):
            rows.append([float(VOCAB[k].index(r[k])) if k in VOCAB else (1.0 if r[k] == "true" else 0.0 if r[k] == "false" else float(r[k])) for k in FEATURES])
    return np.array(rows, dtype=np.float32)


def main() -> int:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    X = load(sys.argv[1])
    rng = np.random.default_rng(SEED)
    segment = X[:, FEATURES.index("segment")].astype(int)
    hour_of = np.array([SEGMENT_HOUR[VOCAB["segment"][s]] for s in segment])
    at_segment_hour = rng.random(len(X)) < P_AT_SEGMENT_HOUR
    opened = np.where(at_segment_hour, hour_of, rng.integers(0, 24, len(X)))
    numeric = [i for i in range(len(FEATURES)) if i not in CATEGORICAL]
    sub = {}
    for h in range(24):
        pipe = Pipeline([
            ("prep", ColumnTransformer([("num", "passthrough", numeric), ("cat", OneHotEncoder(categories=[list(range(len(VOCAB[FEATURES[i]]))) for i in CATEGORICAL], handle_unknown="ignore"), CATEGORICAL)])),
            ("lr", LogisticRegression(max_iter=5000, C=1.0)),
        ])
        pipe.fit(X, (opened == h).astype(int))
        name = f"hour_{h:02d}"
        sub[name] = convert_sklearn(pipe, name=name, initial_types=[("input", FloatTensorType([None, len(FEATURES)]))], target_opset={"": 15, "ai.onnx.ml": 3}, options={id(pipe): {"zipmap": False}})
    model = merge_parallel(sub, "demo_send_time")
    model.doc_string = ""
    path = HERE / "send_time.onnx"
    path.write_bytes(model.SerializeToString())
    rows = X[:: len(X) // 48][:48]
    outputs = run_ort(path, rows)
    probs = np.stack([outputs[f"hour_{h:02d}_probabilities"][:, 1] for h in range(24)], axis=1)
    recovered = float(np.mean(probs.argmax(axis=1) == hour_of[:: len(X) // 48][:48]))
    ref = {"model": path.name, "input": "input", "columns": FEATURES, "rows": to_jsonable(rows),
           "outputs": {k: to_jsonable(v) for k, v in outputs.items() if k.endswith("_probabilities")},
           "producer": "onnxruntime", "notes": f"24 LogisticRegression 'opens at hour h' on the demo world's synthetic opening times (segment hours {SEGMENT_HOUR}, p = {P_AT_SEGMENT_HOUR}); the best hour is the segment's on {recovered:.0%} of the reference rows"}
    (HERE / "send_time.reference.json").write_text(dump_reference(ref))
    print(f"{path}: {path.stat().st_size} bytes; best hour = segment hour on {recovered:.0%} of the reference rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
