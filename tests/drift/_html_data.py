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


def with_models(days: int = 20, per: int = 300) -> drift.Monitoring:
    """Daily windows with multivariate drift and estimated performance: from day 8 to 11 the
    hostile column runs against income (no column changes alone), from day 14 income crowds
    around 0 where the scores are unsure, and labels stop arriving after day 11."""
    rng = np.random.default_rng(9)

    def frame(rows: int, rho: float, spread: float = 1.0) -> pd.DataFrame:
        income = rng.normal(0, spread, rows)
        p = 1 / (1 + np.exp(-2.5 * income))
        return pd.DataFrame(
            {
                "income": income,
                HOSTILE: rho * income / spread + np.sqrt(1 - rho**2) * rng.normal(size=rows),
                "tenure": rng.exponential(2.0, rows),
                "p": p,
                "y": (rng.uniform(size=rows) < p).astype(float),
            }
        )

    ref = frame(6000, 0.8)
    parts = [frame(per, -0.8 if 8 <= d < 12 else 0.8, 0.3 if d >= 14 else 1.0) for d in range(days)]
    live = pd.concat(parts, ignore_index=True)
    live["ts"] = pd.date_range("2026-05-01", periods=len(live), freq=pd.Timedelta(days=1) / per)
    live.loc[12 * per :, "y"] = np.nan
    return drift.monitor(
        ref,
        live,
        time="ts",
        every="1D",
        prediction="p",
        label="y",
        metrics=["accuracy", "roc_auc"],
        multivariate=True,
        multivariate_options={"trees": 20},
        estimate=True,
        estimate_options={"metrics": ["accuracy", "roc_auc"]},
    )
