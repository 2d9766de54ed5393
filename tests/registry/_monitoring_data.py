"""Real monitoring results for the monitoring guard tests: a scored reference and four days of
served traffic, whose inputs drift on the last two days or not at all."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

import modelyard.drift as drift

#: When the tests ask for transitions: the day after the last served day.
NOW = datetime(2026, 6, 6, tzinfo=timezone.utc)


def _scored(rng: np.random.Generator, x1: np.ndarray) -> pd.DataFrame:
    # A calibrated logistic model of an outcome driven by x1; x2 is noise.
    p = 1 / (1 + np.exp(-2.5 * x1))
    return pd.DataFrame(
        {"x1": x1, "x2": rng.normal(size=len(x1)), "p": p, "y": (rng.random(len(x1)) < p) * 1}
    )


def reference() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return _scored(rng, rng.normal(size=3000))


def served(shift: float) -> pd.DataFrame:
    """Four days of 500 scored rows (with labels); x1 moves by ``shift`` on days 2 and 3."""
    rng = np.random.default_rng(6)
    days = []
    for day in range(4):
        part = _scored(rng, rng.normal(shift if day >= 2 else 0.0, 1.0, 500))
        seconds = np.sort(rng.integers(0, 86_400, len(part)))
        part["ts"] = pd.Timestamp("2026-06-01") + pd.Timedelta(days=day)
        part["ts"] += pd.to_timedelta(seconds, unit="s")
        days.append(part)
    return pd.concat(days, ignore_index=True)


@cache
def results(
    shift: float, labels: bool = True
) -> tuple[drift.Monitoring, drift.EstimatedPerformance]:
    """``drift.monitor()`` (with realized performance when ``labels``) and
    ``drift.estimate_performance()`` of the served days, in daily windows."""
    data = served(shift)
    ref = reference()
    if labels:
        performance: dict[str, Any] = {
            "prediction": "p",
            "label": "y",
            "metrics": ["accuracy", "roc_auc"],
        }
    else:
        performance = {}  # the labels are weeks away: drift and data quality only
    monitoring = drift.monitor(
        ref, data, time="ts", every="1D", columns=["x1", "x2"], quality=True, **performance
    )
    estimated = drift.estimate_performance(
        ref, data.drop(columns="y"), prediction="p", label="y", time="ts", every="1D"
    )
    return monitoring, estimated
