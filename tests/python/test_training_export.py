"""`vitrine export training` writes Parquet that pyarrow (and so pandas) reads: a real
`vitrine serve` on 127.0.0.1 decides for a few clients, a sale is posted, the export is
read back with pyarrow and its columns, types and joins are checked.

    python tests/python/test_training_export.py --vitrine target/debug/vitrine --wasm dist/engine-abi.wasm
"""
import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq


def call(url, body=None, key=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **({"X-Api-Key": key} if key else {})})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vitrine", required=True)
    ap.add_argument("--wasm", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        server = subprocess.Popen([a.vitrine, "serve", "--state", str(state), "--listen", "127.0.0.1:0", "--engine", a.wasm],
                                  stdout=subprocess.PIPE, text=True)
        try:
            base = server.stdout.readline().strip().removeprefix("listening on ")
            key = (state / "api-key").read_text().strip()
            sold = None
            for i in range(1, 9):
                snap = call(f"{base}/v1/snapshot/c-{i:04d}", key=key)
                d = call(f"{base}/v1/decide", {"snapshot": snap["snapshot"], "slots": [{"slot": "home_hero"}, {"slot": "offer_cards"}]})
                offers = [o["offer"] for s in d["slots"] for o in s["offers"]]
                if sold is None and d["mode"] == "personalised" and offers:
                    sold = (d["decision_id"], offers[0])
                    sale = {"event_id": "py-sale", "type": "sale", "subject": d["record"]["subject"], "offer": offers[0], "value": 19.5, "at": int(time.time())}
                    assert call(f"{base}/v1/events", {"events": [sale]})["stored"] == 1
            assert sold is not None, "a personalised client with an offer among the first eight"
        finally:
            server.terminate()
            server.wait(timeout=30)
        out = Path(tmp) / "train.parquet"
        subprocess.run([a.vitrine, "export", "training", "--bundle", str(state / "bundle.vbundle"),
                        "--bundle-key", str(state / "keys/bundle-dev.pub"), "--feedback", str(state / "feedback.sqlite"),
                        "--features", str(state / "features.sqlite"), "--out", str(out)], check=True)
        table = pq.read_table(out)
        cols = table.column_names
        for c in ["decision_id", "arm", "contacted", "selection_probability", "outcome", "reward", "features", "f_tenure_months"]:
            assert c in cols, f"{c} not in {cols}"
        assert str(table.schema.field("contacted").type) == "bool", table.schema
        assert str(table.schema.field("selection_probability").type) == "double", table.schema
        rows = table.to_pylist()
        assert all(r["features"] == "found" for r in rows), {r["features"] for r in rows}
        hit = [r for r in rows if (r["decision_id"], r["offer"]) == sold]
        assert len(hit) == 1 and hit[0]["sold"] and hit[0]["outcome"] is True and hit[0]["reward"] == 19.5, hit
        assert all(r["outcome"] is None for r in rows if not r["sold"]), "open windows are not outcomes yet"
        print(f"pyarrow read {len(rows)} training rows, {len(cols)} columns: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
