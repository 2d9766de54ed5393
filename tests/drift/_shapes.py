"""Seeded datasets of the shape drift verdicts are judged on (shared by tests and the benchmark).

30 columns: 9 normal, 8 lognormal, 7 Poisson counts (many ties), 6 categoricals with 4 levels.
A shift of ``delta`` standard deviations moves each column's latent normal by ``delta`` (the
normal and lognormal columns, and the categories cut from it), and the Poisson mean by
``delta * sqrt(mean)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

POISSON_MEANS = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0)
_CUTS = np.array([-1.0, 0.0, 0.8])
_LEVELS = np.array(["a", "b", "c", "d"])


def dataset(rng: np.random.Generator, rows: int, delta: float = 0.0) -> pd.DataFrame:
    columns: dict[str, object] = {}
    for i in range(9):
        columns[f"normal{i}"] = rng.normal(size=rows) + delta
    for i in range(8):
        columns[f"lognormal{i}"] = np.exp(rng.normal(size=rows) + delta)
    for i, mean in enumerate(POISSON_MEANS):
        columns[f"count{i}"] = rng.poisson(mean + delta * np.sqrt(mean), size=rows).astype(float)
    for i in range(6):
        latent = rng.normal(size=rows) + delta
        columns[f"category{i}"] = _LEVELS[np.searchsorted(_CUTS, latent)]
    return pd.DataFrame(columns)
