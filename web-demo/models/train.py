#!/usr/bin/env python3
"""Train the demo bundle's models on a historical randomised campaign in the demo world.

For every offer, two logistic regressions (scikit-learn) on the 14 profile features in
the bundle's schema order (categoricals as their vocabulary index, one-hot encoded inside
the pipeline): one on the contacted clients, P(sale | contacted), and one on the
uncontacted control, P(sale | not contacted). Together they are a T-learner; the first
alone is the propensity model. All 26 are merged into one ONNX graph
`web-demo/bundle/models/offers.onnx` with outputs `<offer>_probabilities` (contacted) and
`<offer>_control_probabilities` (column 1 = P(sale)), plus onnxruntime reference outputs
on sample rows for the parity gate. The history is `vitrine demo seed --labels`: the
world's hidden truth drawn for other clients than the demo's (another seed), half of them
contacted. Deterministic; CI does not run it.

    target/debug/vitrine demo seed --clients 60000 --seed 7 --out /tmp/history.csv --labels /tmp/history-labels.csv
    /tmp/venv-models/bin/python web-demo/models/train.py /tmp/history.csv /tmp/history-labels.csv
"""

from __future__ import annotations

import csv
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
    rows = []
    with open(clients) as f:
        for r in csv.DictReader(f):
            rows.append([float(VOCAB[k].index(r[k])) if k in VOCAB else (1.0 if r[k] == "true" else 0.0 if r[k] == "false" else float(r[k])) for k in FEATURES])
    with open(labels) as f:
        reader = csv.DictReader(f)
        offers = [c for c in reader.fieldnames[1:] if not c.endswith("_contacted")]
        contacted = {o: [] for o in offers}
        bought = {o: [] for o in offers}
        for r in reader:
            for o in offers:
                contacted[o].append(int(r[f"{o}_contacted"]))
                bought[o].append(int(r[o]))
    return np.array(rows, dtype=np.float32), {o: np.array(v) for o, v in contacted.items()}, {o: np.array(v) for o, v in bought.items()}, offers


def main() -> int:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    X, T, Y, offers = load(sys.argv[1], sys.argv[2])
    numeric = [i for i in range(len(FEATURES)) if i not in CATEGORICAL]
    n_train = int(len(X) * 0.8)
    sub, aucs = {}, {}
    for o in offers:
        for arm, name, mask in [(1, o, T[o] == 1), (0, f"{o}_control", T[o] == 0)]:
            pipe = Pipeline([
                ("prep", ColumnTransformer([("num", "passthrough", numeric), ("cat", OneHotEncoder(categories=[list(range(len(VOCAB[FEATURES[i]]))) for i in CATEGORICAL], handle_unknown="ignore"), CATEGORICAL)])),
                ("lr", LogisticRegression(max_iter=5000, C=1.0)),
            ])
            train = mask.copy()
            train[n_train:] = False
            test = mask.copy()
            test[:n_train] = False
            pipe.fit(X[train], Y[o][train])
            y_test = Y[o][test]
            if 0 < y_test.sum() < len(y_test):
                aucs[name] = round(float(roc_auc_score(y_test, pipe.predict_proba(X[test])[:, 1])), 3)
            sub[name] = convert_sklearn(pipe, name=name, initial_types=[("input", FloatTensorType([None, len(FEATURES)]))], target_opset={"": 15, "ai.onnx.ml": 3}, options={id(pipe): {"zipmap": False}})
    model = merge_parallel(sub, "demo_offers")
    model.doc_string = ""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "offers.onnx"
    path.write_bytes(model.SerializeToString())
    rows = X[:: len(X) // 48][:48]
    outputs = run_ort(path, rows)
    ref = {"model": path.name, "input": "input", "columns": FEATURES, "rows": to_jsonable(rows),
           "outputs": {k: to_jsonable(v) for k, v in outputs.items() if k.endswith("_probabilities")},
           "producer": "onnxruntime", "notes": f"a T-learner per offer (LogisticRegression on contacted and on control clients) on a historical campaign in the demo world; held-out AUC {aucs}"}
    (OUT / "offers.reference.json").write_text(dump_reference(ref))
    print(f"{path}: {path.stat().st_size} bytes; held-out AUC {aucs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
