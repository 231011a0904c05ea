#!/usr/bin/env python3
"""Train the demo bundle's propensity model on the seeded demo world.

One logistic regression per offer (scikit-learn), on the 14 profile features in the
bundle's schema order (categoricals as their vocabulary index, one-hot encoded inside the
pipeline), merged into one ONNX graph `web-demo/bundle/models/offers.onnx` with outputs
`<offer>_probabilities` (column 1 = P(click)), plus onnxruntime reference outputs on
sample rows for the parity gate. Labels are the historical responses `vitrine demo seed
--labels` draws from the world's hidden truth. Deterministic; CI does not run it.

    target/debug/vitrine demo seed --out /tmp/demo-clients.csv --labels /tmp/demo-labels.csv
    /tmp/venv-models/bin/python web-demo/models/train.py /tmp/demo-clients.csv /tmp/demo-labels.csv
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "bundle" / "models"
sys.path.insert(0, str(HERE.parent.parent / "host" / "compile" / "models"))
from generate import dump_reference, merge_parallel, run_ort, to_jsonable  # noqa: E402

FEATURES = ["tenure_months", "plan", "monthly_spend", "data_usage_gb", "overage_gb", "fiber_eligible", "fiber_owned", "lines",
            "children", "device_age_months", "indoor_coverage", "tickets_90d", "segment", "has_tv"]
VOCAB = {"plan": ["basic", "plus", "premium", "family"], "indoor_coverage": ["poor", "fair", "good"], "segment": ["youth", "family", "professional", "senior"]}
CATEGORICAL = [FEATURES.index(f) for f in VOCAB]


def load(clients: str, labels: str):
    rows, ids = [], []
    with open(clients) as f:
        for r in csv.DictReader(f):
            ids.append(r["client_id"])
            rows.append([float(VOCAB[k].index(r[k])) if k in VOCAB else (1.0 if r[k] == "true" else 0.0 if r[k] == "false" else float(r[k])) for k in FEATURES])
    with open(labels) as f:
        reader = csv.DictReader(f)
        offers = reader.fieldnames[1:]
        y = {o: [] for o in offers}
        for r in reader:
            for o in offers:
                y[o].append(int(r[o]))
    return np.array(rows, dtype=np.float32), {o: np.array(v) for o, v in y.items()}, offers


def main() -> int:
    from onnx import helper  # noqa: F401
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    X, Y, offers = load(sys.argv[1], sys.argv[2])
    numeric = [i for i in range(len(FEATURES)) if i not in CATEGORICAL]
    sub, aucs = {}, {}
    n_train = int(len(X) * 0.8)
    for o in offers:
        pipe = Pipeline([
            ("prep", ColumnTransformer([("num", "passthrough", numeric), ("cat", OneHotEncoder(categories=[list(range(len(VOCAB[FEATURES[i]]))) for i in CATEGORICAL], handle_unknown="ignore"), CATEGORICAL)])),
            ("lr", LogisticRegression(max_iter=5000, C=1.0)),
        ])
        pipe.fit(X[:n_train], Y[o][:n_train])
        aucs[o] = round(float(roc_auc_score(Y[o][n_train:], pipe.predict_proba(X[n_train:])[:, 1])), 3)
        sub[o] = convert_sklearn(pipe, name=o, initial_types=[("input", FloatTensorType([None, len(FEATURES)]))], target_opset={"": 15, "ai.onnx.ml": 3}, options={id(pipe): {"zipmap": False}})
    model = merge_parallel(sub, "demo_offers")
    model.doc_string = ""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "offers.onnx"
    path.write_bytes(model.SerializeToString())
    rows = X[:: len(X) // 48][:48]
    outputs = run_ort(path, rows)
    ref = {"model": path.name, "input": "input", "columns": FEATURES, "rows": to_jsonable(rows),
           "outputs": {k: to_jsonable(v) for k, v in outputs.items() if k.endswith("_probabilities")},
           "producer": "onnxruntime", "notes": f"one LogisticRegression per offer on the demo world; held-out AUC {aucs}"}
    (OUT / "offers.reference.json").write_text(dump_reference(ref))
    print(f"{path}: {path.stat().st_size} bytes; held-out AUC {aucs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
