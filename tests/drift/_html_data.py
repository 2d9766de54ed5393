"""Results to render: a report and a month of daily windows with a drift episode, a quality
incident, an empty day, a hostile column name and a hostile category."""

from __future__ import annotations

import numpy as np
import pandas as pd

import modelyard.drift as drift

HOSTILE = "<script>alert(1)</script>"
CATEGORY = "&\"'<>"


def reference(seed: int = 5, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.lognormal(10, 0.5, n),
            "city": rng.choice(["Paris", "Lyon", "Nice", "Lille"], n),
            HOSTILE: rng.normal(size=n),
            "score": rng.uniform(size=n),
        }
    )


def report() -> drift.DriftReport:
    rng = np.random.default_rng(6)
    n = 1500
    current = pd.DataFrame(
        {
            "age": rng.normal(44, 10, n),
            "income": rng.lognormal(10, 0.5, n),
            "city": rng.choice(["Paris", "Lyon", "Nice", CATEGORY], n),
            HOSTILE: rng.normal(0.3, size=n),
            "score": np.r_[rng.uniform(size=12), [np.nan] * (n - 12)],
        }
    )
    return drift.compare(reference(), current, categorical=["city"])


def monitoring(days: int = 30, per: int = 300, quality: bool = True) -> drift.Monitoring:
    rng = np.random.default_rng(7)
    rows = days * per
    live = pd.DataFrame(
        {
            "ts": pd.date_range("2026-05-01", periods=rows, freq=pd.Timedelta(days=1) / per),
            "age": rng.normal(40, 10, rows),
            "income": rng.lognormal(10, 0.5, rows),
            "city": rng.choice(["Paris", "Lyon", "Nice", "Lille"], rows).astype(object),
            HOSTILE: rng.normal(size=rows),
            "score": rng.uniform(size=rows),
        }
    )
    live.loc[12 * per : 16 * per - 1, "age"] += 8
    live.loc[20 * per : 21 * per - 1, "score"] = np.nan
    live.loc[25 * per :, "city"] = rng.choice(["Paris", CATEGORY], rows - 25 * per)
    live = live[(live.ts < "2026-05-08") | (live.ts >= "2026-05-09")].reset_index(drop=True)
    return drift.monitor(
        reference(), live, time="ts", every="1D", categorical=["city"], quality=quality
    )


def with_performance(days: int = 30, per: int = 400) -> drift.Monitoring:
    """Daily windows of a classifier's scores and labels; from day 20 the labels stop following
    the scores (the model degrades), and day 3 has no labels yet."""
    rng = np.random.default_rng(8)

    def frame(rows: int, start: str, good_until: int) -> pd.DataFrame:
        x = rng.normal(size=rows)
        p = 1 / (1 + np.exp(-2 * x))
        day = np.arange(rows) // per
        truth = np.where(day < good_until, p, 0.5)
        label = (rng.uniform(size=rows) < truth).astype(float)
        return pd.DataFrame(
            {
                "ts": pd.date_range(start, periods=rows, freq=pd.Timedelta(days=1) / per),
                "x": x,
                "p": p,
                "y": label,
            }
        )

    ref = frame(5000, "2026-03-01", 10**9).drop(columns="ts")
    live = frame(days * per, "2026-05-01", 20)
    live.loc[3 * per : 4 * per - 1, "y"] = np.nan
    return drift.monitor(
        ref, live, time="ts", every="1D", prediction="p", label="y", metrics=["accuracy", "roc_auc"]
    )
