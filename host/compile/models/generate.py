#!/usr/bin/env python3
"""Generate small ONNX test models and onnxruntime reference outputs for the bundle compiler.

Deterministic: fixed seeds everywhere, single-threaded training and inference.
Writes into host/compile/models/out/ (next to this file) and refreshes the
generated table in host/compile/models/README.md.

Regenerate (from the repository root):

    python3 -m venv /tmp/venv-models
    /tmp/venv-models/bin/pip install -r host/compile/models/requirements.txt
    /tmp/venv-models/bin/python host/compile/models/generate.py

CI does not run this; the outputs are committed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
README = HERE / "README.md"

SEED = 7
N_ROWS = 4000
N_SAMPLED_REF_ROWS = 24
TARGET_OPSET = {"": 15, "ai.onnx.ml": 3}  # onnxmltools' LightGBM converter caps at 15
INPUT_NAME = "input"

COLUMNS = [
    "tenure_months",         # 0-240, whole months
    "monthly_spend",         # 5-120, quarter steps (exact in float32)
    "data_usage_gb",         # 0-100, 1/8 GB steps (exact in float32)
    "fiber_eligible",        # 0/1
    "fiber_owned",           # 0/1 (only when eligible)
    "indoor_coverage_poor",  # 0/1
    "plan_premium",          # 0/1
    "open_complaint",        # 0/1
]
N_FEATURES = len(COLUMNS)

# Ops that tract-onnx cannot run (measured on this machine; see README).
TRACT_LACKING = {"Scaler", "ZipMap", "TreeEnsembleRegressor", "Imputer", "OneHotEncoder", "SVMClassifier"}


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def make_data(n: int = N_ROWS, seed: int = SEED):
    """Synthetic telco-like table with hidden logistic ground truth."""
    rng = np.random.default_rng(seed)

    tenure = np.clip(np.round(rng.exponential(36.0, n)), 0, 240)
    premium = (rng.random(n) < 0.25).astype(np.float64)
    spend = np.clip(rng.normal(35.0, 15.0, n) + premium * 40.0, 5.0, 120.0)
    spend = np.round(spend * 4.0) / 4.0  # quarter steps: exact in float32
    usage = np.clip(rng.gamma(2.0, 9.0, n) + premium * 15.0, 0.0, 100.0)
    usage = np.round(usage * 8.0) / 8.0  # 1/8 steps: exact in float32
    fiber_eligible = (rng.random(n) < 0.55).astype(np.float64)
    fiber_owned = fiber_eligible * (rng.random(n) < 0.4)
    indoor_poor = (rng.random(n) < 0.2).astype(np.float64)
    complaint = (rng.random(n) < 0.08).astype(np.float64)

    X = np.column_stack(
        [tenure, spend, usage, fiber_eligible, fiber_owned, indoor_poor, premium, complaint]
    ).astype(np.float32)

    def draw(logit):
        return (rng.random(n) < sigmoid(logit)).astype(np.int64)

    targets = {
        # Fibre upsell: eligible, not yet on fibre, past the first year.
        "fibre_upgrade": draw(
            -3.0
            + 3.2 * fiber_eligible * (1.0 - fiber_owned)
            + 1.3 * (tenure > 12)
            + 0.6 * indoor_poor
            - 1.5 * complaint
        ),
        # Device renewal: long tenure and higher spend.
        "device_renewal": draw(
            -4.0 + 0.025 * tenure + 0.03 * spend + 0.5 * premium - 0.8 * complaint
        ),
        # Plan upgrade: heavy data users who are not premium yet.
        "plan_upgrade": draw(
            -2.5 + 0.05 * usage - 2.5 * premium + 0.01 * spend - 0.7 * complaint
        ),
        # Churn risk: complaints, poor coverage, short tenure; plus an
        # interaction that trees can pick up and a linear model cannot.
        "churn_risk": draw(
            -1.6
            + 1.8 * complaint
            + 1.0 * indoor_poor
            - 0.02 * tenure
            + 0.012 * spend
            - 0.8 * premium
            + 1.5 * indoor_poor * (1.0 - fiber_owned) * (usage > 40)
        ),
    }
    # Expected monthly value (regression target).
    emv = (
        spend * (1.0 + 0.15 * premium)
        + 0.08 * usage
        + 6.0 * fiber_owned
        + 0.04 * np.minimum(tenure, 120)
        - 5.0 * complaint
        + rng.normal(0.0, 3.0, n)
    )
    return X, targets, emv.astype(np.float32)


def reference_rows(X: np.ndarray, seed: int = SEED) -> np.ndarray:
    """24 rows sampled from the data plus 8 edge cases."""
    rng = np.random.default_rng(seed + 1000)
    idx = np.sort(rng.choice(X.shape[0], size=N_SAMPLED_REF_ROWS, replace=False))
    sampled = X[idx]
    edge = np.array(
        [
            [0, 0, 0, 0, 0, 0, 0, 0],                # all zeros (below spend min)
            [240, 120, 100, 1, 1, 1, 1, 1],          # all max
            [0, 5, 0, 0, 0, 0, 0, 0],                # brand-new, cheapest
            [240, 5, 0, 1, 0, 0, 0, 0],              # max tenure, min spend, eligible
            [13, 120, 100, 1, 0, 1, 0, 0],           # fibre-upgrade sweet spot, max usage
            [1, 5, 100, 0, 0, 1, 0, 1],              # new, heavy user, complaint
            [240, 120, 0, 0, 0, 0, 1, 0],            # long premium, no usage
            [12, 62.5, 50, 1, 1, 0, 1, 1],           # mid values, all flags on but coverage
        ],
        dtype=np.float32,
    )
    return np.vstack([sampled, edge]).astype(np.float32)


# --------------------------------------------------------------------------
# Conversion helpers
# --------------------------------------------------------------------------

def initial_types():
    from skl2onnx.common.data_types import FloatTensorType

    return [(INPUT_NAME, FloatTensorType([None, N_FEATURES]))]


def sk_to_onnx(model, name: str, options=None):
    from skl2onnx import convert_sklearn

    return convert_sklearn(
        model,
        name=name,
        initial_types=initial_types(),
        target_opset=TARGET_OPSET,
        options=options,
    )


def merge_parallel(models: dict[str, "onnx.ModelProto"], graph_name: str):
    """Merge several single-input models that share the input "input" into one
    graph. Every node/tensor name of sub-model K gets the prefix "K_"; the
    shared input keeps its name."""
    import onnx
    from onnx import compose, helper

    nodes, inits, outputs = [], [], []
    opsets: dict[str, int] = {}
    input_vi = None
    for key, m in models.items():
        prefix = f"{key}_"
        pm = compose.add_prefix(m, prefix=prefix)
        g = pm.graph
        old_in = prefix + INPUT_NAME
        for node in g.node:
            node.input[:] = [INPUT_NAME if i == old_in else i for i in node.input]
            nodes.append(node)
        inits.extend(g.initializer)
        outputs.extend(g.output)
        if input_vi is None:
            input_vi = onnx.ValueInfoProto()
            input_vi.CopyFrom(g.input[0])
            input_vi.name = INPUT_NAME
        for op in m.opset_import:
            opsets[op.domain] = max(opsets.get(op.domain, 0), op.version)
    graph = helper.make_graph(nodes, graph_name, [input_vi], outputs, initializer=inits)
    first = next(iter(models.values()))
    merged = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(d, v) for d, v in sorted(opsets.items())],
        producer_name=first.producer_name,
        producer_version=first.producer_version,
        ir_version=first.ir_version,
    )
    onnx.checker.check_model(merged)
    return merged


# --------------------------------------------------------------------------
# Introspection / reference
# --------------------------------------------------------------------------

def shape_of(vi) -> list:
    t = vi.type.tensor_type
    dims = []
    for d in t.shape.dim:
        if d.HasField("dim_value"):
            dims.append(d.dim_value)
        elif d.HasField("dim_param"):
            dims.append(d.dim_param)
        else:
            dims.append(None)
    return dims


def elem_type_name(vi) -> str:
    import onnx

    return onnx.TensorProto.DataType.Name(vi.type.tensor_type.elem_type).lower()


def describe(model) -> dict:
    ops = []
    for node in model.graph.node:
        label = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}:{node.op_type}"
        if label not in ops:
            ops.append(label)
    op_types = sorted({n.op_type for n in model.graph.node})
    return {
        "ops": ops,
        "op_types": op_types,
        "opsets": {(o.domain or "ai.onnx"): o.version for o in model.opset_import},
        "inputs": [
            {"name": i.name, "dtype": elem_type_name(i), "shape": shape_of(i)}
            for i in model.graph.input
        ],
        "outputs": [
            {"name": o.name, "dtype": elem_type_name(o), "shape": shape_of(o)}
            for o in model.graph.output
        ],
        "tract_lacking": sorted(set(op_types) & TRACT_LACKING),
    }


def to_jsonable(arr: np.ndarray):
    arr = np.asarray(arr)
    if arr.dtype.kind == "f":
        # float(np.float32) is the exact value as a double, so it round-trips;
        # a missing value (NaN) is written as null.
        return [to_jsonable(a) for a in arr] if arr.ndim > 1 else [None if np.isnan(v) else float(v) for v in arr]
    if arr.dtype.kind in "iub":
        return [to_jsonable(a) for a in arr] if arr.ndim > 1 else [int(v) for v in arr]
    raise TypeError(f"unsupported output dtype {arr.dtype}")


def dump_reference(ref: dict) -> str:
    """JSON with one row per line (valid JSON, easy to diff)."""

    def rows_block(rows, indent):
        pad = " " * indent
        return "[\n" + ",\n".join(pad + "  " + json.dumps(r) for r in rows) + "\n" + pad + "]"

    parts = []
    for key, val in ref.items():
        if key == "rows":
            body = rows_block(val, 2)
        elif key == "outputs":
            inner = []
            for name, out in val.items():
                if out and isinstance(out[0], list):
                    inner.append(f"    {json.dumps(name)}: " + rows_block(out, 4))
                else:
                    inner.append(f"    {json.dumps(name)}: " + json.dumps(out))
            body = "{\n" + ",\n".join(inner) + "\n  }"
        else:
            body = json.dumps(val)
        parts.append(f"  {json.dumps(key)}: {body}")
    text = "{\n" + ",\n".join(parts) + "\n}\n"
    assert json.loads(text) == ref
    return text


def prep_rows(rows: np.ndarray) -> np.ndarray:
    """The reference rows with a 9th column, segment (0-3, plus one unseen 7),
    and some missing numeric values for the imputer."""
    seg = np.array([i % 4 for i in range(len(rows))], dtype=np.float32)
    seg[-1] = 7.0
    out = np.column_stack([rows, seg]).astype(np.float32)
    for i in range(0, len(out), 3):
        out[i, i % 8] = np.nan
    out[1, :8] = np.nan
    return out


def run_ort(path: Path, rows: np.ndarray) -> dict:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    res = sess.run(names, {INPUT_NAME: rows})
    return dict(zip(names, res))


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main() -> int:
    import lightgbm
    import onnx
    import onnxmltools
    import onnxruntime
    import skl2onnx
    import sklearn
    from onnxmltools.convert.common.data_types import FloatTensorType as MlFloatTensorType
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import mean_absolute_error, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.svm import SVC
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    warnings.filterwarnings("ignore", category=FutureWarning)
    OUT.mkdir(parents=True, exist_ok=True)

    X, Y, emv = make_data()
    idx_tr, idx_te = train_test_split(np.arange(len(X)), test_size=0.25, random_state=SEED)
    Xtr, Xte = X[idx_tr], X[idx_te]
    rows = reference_rows(X)
    assert rows.shape == (32, N_FEATURES) and rows.dtype == np.float32

    def auc(model, target, proba_col=1):
        return float(roc_auc_score(Y[target][idx_te], model.predict_proba(Xte)[:, proba_col]))

    built: list[tuple[str, "onnx.ModelProto", str]] = []  # (stem, model, notes)

    # a. offers_logit: three binary LogisticRegression models merged into one graph.
    offer_targets = ["fibre_upgrade", "device_renewal", "plan_upgrade"]
    sub = {}
    aucs = {}
    for t in offer_targets:
        lr = LogisticRegression(max_iter=5000, random_state=SEED)
        lr.fit(Xtr, Y[t][idx_tr])
        aucs[t] = round(auc(lr, t), 4)
        sub[t] = sk_to_onnx(lr, f"offers_logit_{t}", options={id(lr): {"zipmap": False}})
    offers = merge_parallel(sub, "offers_logit")
    built.append(
        (
            "offers_logit",
            offers,
            "Three independent binary LogisticRegression models (one per offer: "
            + ", ".join(offer_targets)
            + ") trained on raw features, each converted by skl2onnx with zipmap off, "
            "then merged into one graph sharing the input 'input'. For each offer T: "
            "'T_label' is int64 [N] (predicted class 0/1) and 'T_probabilities' is "
            "float32 [N,2] with column 0 = P(class 0) and column 1 = P(class 1) "
            f"(the offer probability). Held-out AUC: {aucs}.",
        )
    )

    # b/f. Pipeline(StandardScaler, LogisticRegression) on churn_risk, one fitted
    # pipeline exported twice (Sub/Div vs ONNX-ML Scaler).
    pipe = Pipeline(
        [("scaler", StandardScaler()), ("lr", LogisticRegression(max_iter=5000, random_state=SEED))]
    )
    pipe.fit(Xtr, Y["churn_risk"][idx_tr])
    pipe_auc = round(auc(pipe, "churn_risk"), 4)
    scaled = sk_to_onnx(
        pipe, "scaled_logit", options={StandardScaler: {"div": "div"}, id(pipe): {"zipmap": False}}
    )
    built.append(
        (
            "scaled_logit",
            scaled,
            "Pipeline(StandardScaler, LogisticRegression) on churn_risk, exported with "
            "options {StandardScaler: {'div': 'div'}} so scaling is Sub/Div (no Scaler op); "
            "zipmap off. 'label' int64 [N]; 'probabilities' float32 [N,2], column 1 = "
            "P(churn_risk=1). Same fitted pipeline as with_scaler_op.onnx, so outputs "
            f"agree up to float rounding. Held-out AUC: {pipe_auc}.",
        )
    )

    # c. LightGBM binary classifier via onnxmltools.
    lgbm = lightgbm.LGBMClassifier(
        n_estimators=30,
        max_depth=4,
        num_leaves=15,
        learning_rate=0.1,
        random_state=SEED,
        deterministic=True,
        force_col_wise=True,
        n_jobs=1,
        verbose=-1,
    )
    lgbm.fit(Xtr, Y["churn_risk"][idx_tr])
    lgbm_auc = round(auc(lgbm, "churn_risk"), 4)
    gbdt = onnxmltools.convert_lightgbm(
        lgbm,
        name="gbdt_lgbm",
        initial_types=[(INPUT_NAME, MlFloatTensorType([None, N_FEATURES]))],
        target_opset=TARGET_OPSET[""],
        zipmap=False,
    )
    # onnxmltools declares the 'label' output as shape [1]; onnxruntime returns
    # [N] (and warns). Fix the declared shape to the batch dimension.
    for o in gbdt.graph.output:
        if o.name == "label":
            dims = o.type.tensor_type.shape.dim
            if len(dims) == 1 and dims[0].HasField("dim_value"):
                dims[0].Clear()
    built.append(
        (
            "gbdt_lgbm",
            gbdt,
            "LightGBM LGBMClassifier (binary churn_risk, 30 trees, max_depth 4, num_leaves 15, "
            "seed 7, deterministic) converted by onnxmltools with target_opset 15 and "
            "zipmap=False (onnxmltools declares 'label' as shape [1]; generate.py rewrites it "
            "to [N], which is what onnxruntime returns). 'label' int64 [N]; 'probabilities' float32 [N,2], column 1 = "
            f"P(churn_risk=1). Held-out AUC: {lgbm_auc}.",
        )
    )

    # d. RandomForestRegressor via skl2onnx.
    rf = RandomForestRegressor(n_estimators=10, max_depth=4, random_state=SEED, n_jobs=1)
    rf.fit(Xtr, emv[idx_tr])
    rf_mae = round(float(mean_absolute_error(emv[idx_te], rf.predict(Xte))), 4)
    rfo = sk_to_onnx(rf, "rf_regressor")
    built.append(
        (
            "rf_regressor",
            rfo,
            "scikit-learn RandomForestRegressor (10 trees, max_depth 4, seed 7) predicting "
            "expected monthly value (currency units), converted by skl2onnx "
            "(ai.onnx.ml TreeEnsembleRegressor; aggregate_function left at its default SUM, "
            "with each leaf weight already divided by the number of trees, so the sum is the "
            "forest average; post_transform NONE). "
            f"'variable' float32 [N,1]. Held-out MAE: {rf_mae}.",
        )
    )

    # e. MLPClassifier, one hidden layer of 8 relu units.
    mlp = MLPClassifier(
        hidden_layer_sizes=(8,),
        activation="relu",
        max_iter=2000,
        random_state=SEED,
        learning_rate_init=0.01,
    )
    mlp.fit(Xtr, Y["device_renewal"][idx_tr])
    mlp_auc = round(auc(mlp, "device_renewal"), 4)
    mlpo = sk_to_onnx(mlp, "mlp", options={id(mlp): {"zipmap": False}})
    built.append(
        (
            "mlp",
            mlpo,
            "scikit-learn MLPClassifier (hidden (8,), relu, adam, seed 7) on raw features, "
            "binary device_renewal, zipmap off. 'label' int64 [N]; 'probabilities' float32 "
            f"[N,2], column 1 = P(device_renewal=1). Held-out AUC: {mlp_auc}.",
        )
    )

    # f. Same pipeline as (b) without the div option -> ONNX-ML Scaler op.
    with_scaler = sk_to_onnx(pipe, "with_scaler_op", options={id(pipe): {"zipmap": False}})
    built.append(
        (
            "with_scaler_op",
            with_scaler,
            "The same fitted Pipeline(StandardScaler, LogisticRegression) as scaled_logit.onnx, "
            "exported WITHOUT the div option, so scaling is the ONNX-ML 'Scaler' op "
            "(offset = mean, scale = 1/std). tract-onnx cannot run Scaler: the host must "
            "lower it itself. 'label' int64 [N]; 'probabilities' float32 [N,2], column 1 = "
            "P(churn_risk=1).",
        )
    )

    # g. Preprocessing pipeline: imputer + scaler on the 8 numeric columns, one-hot
    # on a 9th integer column (segment 0-3), concatenated into a logistic regression.
    rng = np.random.default_rng(SEED + 2)
    seg = rng.integers(0, 4, len(X)).astype(np.float32)
    X9 = np.column_stack([X, seg]).astype(np.float32)
    X9[:, :8][rng.random((len(X), 8)) < 0.05] = np.nan
    prep = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        ("num", Pipeline([("imp", SimpleImputer(strategy="median")), ("sc", StandardScaler())]), list(range(8))),
                        ("cat", OneHotEncoder(handle_unknown="ignore"), [8]),
                    ]
                ),
            ),
            ("lr", LogisticRegression(max_iter=5000, random_state=SEED)),
        ]
    )
    prep.fit(X9[idx_tr], Y["plan_upgrade"][idx_tr])
    prep_auc = round(float(roc_auc_score(Y["plan_upgrade"][idx_te], prep.predict_proba(X9[idx_te])[:, 1])), 4)
    prepo = convert_sklearn(
        prep,
        name="prep_pipeline",
        initial_types=[(INPUT_NAME, FloatTensorType([None, N_FEATURES + 1]))],
        target_opset=TARGET_OPSET,
        options={id(prep): {"zipmap": False}},
    )
    built.append(
        (
            "prep_pipeline",
            prepo,
            "Pipeline(ColumnTransformer(num: SimpleImputer(median) + StandardScaler on columns "
            "0-7; cat: OneHotEncoder(handle_unknown='ignore') on column 8, segment 0-3), "
            "LogisticRegression) on plan_upgrade, zipmap off: ArrayFeatureExtractor, Gather, "
            "Imputer, Scaler, Cast, OneHotEncoder, Reshape, Concat, LinearClassifier. Input has 9 "
            "columns; reference rows carry missing values (null) and an unseen segment 7. "
            f"Held-out AUC: {prep_auc}.",
            prep_rows(rows),
        )
    )

    # h. An RBF SVM: SVMClassifier is not supported by the engine (the refusal test).
    svc = SVC(kernel="rbf", random_state=SEED).fit(Xtr[:200], Y["fibre_upgrade"][idx_tr][:200])
    svco = sk_to_onnx(svc, "svm_rbf", options={id(svc): {"zipmap": False}})
    built.append(
        (
            "svm_rbf",
            svco,
            "scikit-learn SVC (RBF kernel, 200 training rows) on fibre_upgrade: ONNX-ML "
            "SVMClassifier, which the engine does not support; used to test the refusal.",
        )
    )

    versions = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "skl2onnx": skl2onnx.__version__,
        "onnxmltools": onnxmltools.__version__,
        "lightgbm": lightgbm.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
    }

    manifest = {"generator": "host/compile/models/generate.py", "versions": versions, "models": []}
    for stem, model, notes, *own_rows in built:
        model_rows = own_rows[0] if own_rows else rows
        # Clear fields that vary without meaning; keep files stable across runs.
        model.doc_string = ""
        # Converters emit opset_import in set-iteration order (varies with
        # PYTHONHASHSEED); sort it so files are byte-stable.
        ops_sorted = sorted(model.opset_import, key=lambda o: o.domain)
        ops_copy = [type(o)() for o in ops_sorted]
        for dst, src in zip(ops_copy, ops_sorted):
            dst.CopyFrom(src)
        del model.opset_import[:]
        model.opset_import.extend(ops_copy)
        onnx.checker.check_model(model)
        path = OUT / f"{stem}.onnx"
        data = model.SerializeToString()
        path.write_bytes(data)
        info = describe(model)
        outputs = run_ort(path, model_rows)
        assert list(outputs) == [o["name"] for o in info["outputs"]]
        ref = {
            "model": path.name,
            "input": INPUT_NAME,
            "columns": COLUMNS,
            "rows": to_jsonable(model_rows),
            "outputs": {k: to_jsonable(v) for k, v in outputs.items()},
            "producer": f"onnxruntime {onnxruntime.__version__}",
            "notes": notes,
        }
        (OUT / f"{stem}.reference.json").write_text(dump_reference(ref))
        entry = {
            "file": path.name,
            "reference": f"{stem}.reference.json",
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            **info,
            "notes": notes,
        }
        manifest["models"].append(entry)
        print(
            f"{path.name:24s} {len(data):8d} B  ops={info['ops']}  "
            f"tract-lacking={info['tract_lacking']}"
        )

    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    update_readme(manifest)

    # Sanity: the two exports of the same pipeline agree.
    a = run_ort(OUT / "scaled_logit.onnx", rows)["probabilities"]
    b = run_ort(OUT / "with_scaler_op.onnx", rows)["probabilities"]
    assert np.allclose(a, b, atol=1e-5), "scaled_logit and with_scaler_op disagree"

    total = sum(p.stat().st_size for p in OUT.iterdir() if p.is_file())
    big = [e["file"] for e in manifest["models"] if e["bytes"] >= 200_000]
    assert not big, f"models over 200 KB: {big}"
    print(f"total size of {OUT.relative_to(HERE.parent.parent)}/: {total} bytes")
    return 0


BEGIN = "<!-- BEGIN GENERATED (generate.py) -->"
END = "<!-- END GENERATED -->"


def update_readme(manifest: dict) -> None:
    def fmt_io(ios):
        return "<br>".join(
            f"`{x['name']}` {x['dtype']} [{', '.join('N' if d is None or isinstance(d, str) else str(d) for d in x['shape'])}]"
            for x in ios
        )

    lines = [
        BEGIN,
        "",
        "| file | ONNX ops (domain:op) | opsets | inputs | outputs | bytes | ops tract-onnx lacks |",
        "| --- | --- | --- | --- | --- | ---: | --- |",
    ]
    for e in manifest["models"]:
        opsets = ", ".join(f"{d} {v}" for d, v in e["opsets"].items())
        lacking = ", ".join(f"**{o}**" for o in e["tract_lacking"]) or "none"
        lines.append(
            f"| `{e['file']}` | {', '.join(e['ops'])} | {opsets} | {fmt_io(e['inputs'])} | "
            f"{fmt_io(e['outputs'])} | {e['bytes']} | {lacking} |"
        )
    lines += [
        "",
        "Generated with: "
        + ", ".join(f"{k} {v}" for k, v in manifest["versions"].items())
        + ".",
        "",
        END,
    ]
    block = "\n".join(lines)
    text = README.read_text() if README.exists() else f"# Test models\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
