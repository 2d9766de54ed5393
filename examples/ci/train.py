"""The training step of the pipeline in docs/ci.md: a model, its data and its metrics, as files.

    python examples/ci/train.py --out build [--shift 0.0] [--noise 0.0] [--seed 7]

Writes ``train.parquet`` (the training table, the drift reference), ``current.parquet`` (this
week's traffic; ``--shift`` moves its ``spend`` by that many standard deviations),
``model.joblib`` and ``metrics.env`` (``AUC=...`` on held-out rows; ``--noise`` flips that share
of the labels, for a model that should not pass the gate). The rest of the pipeline uses only the
``modelyard`` command line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score


def table(rng: np.random.Generator, rows: int, shift: float = 0.0) -> pd.DataFrame:
    tenure = rng.gamma(2.0, 12.0, rows)
    spend = rng.normal(60.0, 20.0, rows) + shift * 20.0
    plan = rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2])
    return pd.DataFrame({"tenure": tenure, "spend": spend, "plan": plan})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--shift", type=float, default=0.0)
    parser.add_argument("--noise", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)

    data = table(rng, 4_000)
    risk = 1.0 / (1.0 + np.exp((data["tenure"] - 12.0) / 4.0))
    churned = (rng.random(len(data)) < risk) ^ (rng.random(len(data)) < args.noise)
    features = pd.get_dummies(data, columns=["plan"], dtype=float)
    train, test = slice(0, 3_000), slice(3_000, None)
    model = LogisticRegression(max_iter=1_000).fit(features[train], churned[train])
    auc = roc_auc_score(churned[test], model.predict_proba(features[test])[:, 1])

    data.to_parquet(args.out / "train.parquet", index=False)
    table(rng, 2_000, shift=args.shift).to_parquet(args.out / "current.parquet", index=False)
    joblib.dump(model, args.out / "model.joblib")
    (args.out / "metrics.env").write_text(f"AUC={auc:.4f}\n", encoding="utf-8")
    print(f"trained: auc={auc:.4f}")


if __name__ == "__main__":
    main()
