"""modelyard quickstart: artifacts, registry, lifecycle with an approval, drift and monitoring.

Run it from a checkout with `python docs/quickstart.py`. Everything is kept in ./.modelyard, a
local folder (pass another location as the first argument: any fsspec URL or "memory://demo").
Running it again registers a new version and promotes it over the previous one.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

import modelyard as my
from modelyard.lifecycle import Lifecycle, metric_at_least


def make_data(rows: int, shift: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure_months": rng.gamma(2.0, 12.0, rows) + shift * 10,
            "monthly_spend": rng.normal(60.0 + shift * 15, 20.0, rows),
            "support_calls": rng.poisson(1.0 + shift, rows).astype(float),
            "plan": rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2]),
        }
    )
    logit = -0.04 * frame["tenure_months"] + 0.5 * frame["support_calls"] - 0.5
    frame["churned"] = rng.random(rows) < 1 / (1 + np.exp(-logit))
    return frame


def main(location: str = "./.modelyard") -> None:
    # Production needs an AUC of at least 0.65 and one approval, on top of the default lifecycle
    # development -> staging -> production -> archived.
    lifecycle = Lifecycle.default().with_guards(
        "staging", "production", metric_at_least("auc", 0.65), approvals=1
    )
    yard = my.open_yard(location, lifecycle=lifecycle, actor="quickstart")
    print(f"yard: {yard}")

    # 1. Data and model, stored as content-addressed artifacts with lineage.
    train = make_data(5_000, shift=0.0, seed=1)
    features = ["tenure_months", "monthly_spend", "support_calls"]
    data_ref = yard.artifacts.put(train, name="churn-train", metadata={"rows": len(train)})
    clf = LogisticRegression(max_iter=500).fit(train[features], train["churned"])
    auc = float(roc_auc_score(train["churned"], clf.predict_proba(train[features])[:, 1]))
    model_ref = yard.artifacts.put(
        clf, name="churn-model", parents=[data_ref], metadata={"params": clf.get_params()}
    )
    print(f"stored data  {data_ref.short_id}  and model {model_ref.short_id} (parent: data)")

    # 2. Register, alias, and promote with an approval.
    registry = yard.registry
    mv = registry.register("churn", model_ref, metrics={"auc": auc}, tags={"team": "risk"})
    print(f"registered   {mv.ref} with auc={auc:.3f}")
    registry.transition("churn", mv.version, "staging", actor="ana", reason="offline eval passed")
    try:
        registry.transition("churn", mv.version, "production", actor="ana")
    except my.TransitionRejected as refused:  # nothing is written; the guards say why
        print(f"refused      {refused}")
    registry.approve("churn", mv.version, "production", actor="lee", comment="reviewed")
    registry.transition("churn", mv.version, "production", actor="lee", reason="approved")
    registry.set_alias("churn", "champion", mv.version, actor="lee")
    champion = registry.load("churn@champion", trusted=True)  # sklearn models are pickled
    print(f"champion     {registry.resolve('churn@champion').ref}: {type(champion).__name__}")

    print("\nhistory of 'churn' (latest 6 events):")
    for entry in registry.history("churn")[-6:]:
        print(f"  {entry}")
        for result in entry.results:
            print(
                f"      guard {result.guard}: {'ok' if result.ok else 'FAILED'} - {result.reason}"
            )

    # 3. Drift: a reusable reference profile, compared with shifted live data.
    profile = my.drift.profile(train[[*features, "plan"]])
    yard.artifacts.put(profile, name="churn-reference", parents=[data_ref])
    live = make_data(5_000, shift=0.6, seed=2)
    report = my.drift.compare(profile, live[[*features, "plan"]])
    print(f"\ndrift report (reference: training data, current: shifted live data)\n{report}")
    print(f"drifted columns: {report.drifted}")

    # 4. Monitoring: two weeks of daily windows of live traffic, drifting from day 10 on.
    days = [make_data(1_000, shift=0.0 if day < 10 else 0.6, seed=10 + day) for day in range(14)]
    for day, frame in enumerate(days):
        frame["ts"] = pd.Timestamp("2026-03-01") + pd.Timedelta(days=day, hours=12)
    traffic = pd.concat(days, ignore_index=True)[[*features, "plan", "ts"]]
    monitoring = my.drift.monitor(profile, traffic, time="ts", every="1D")
    summary = monitoring.summary()
    print("\nmonitoring, daily windows (verdict per day):")
    print("  " + " ".join(f"{row.start:%d}:{row.verdict}" for row in summary.itertuples()))


if __name__ == "__main__":
    main(*sys.argv[1:2])
