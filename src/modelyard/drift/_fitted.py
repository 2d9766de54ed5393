"""Thresholds fitted from windows of the reference data, beside the statistical verdicts.

Cut the reference data into windows like the monitored data, compute each statistic of each
reference window against the whole reference, and take ``mean +- k sd`` of those values per
column and statistic (``sd`` the population standard deviation, k = 3 by default), clipped to
the statistic's range: the band of values that ordinary windows of the reference period reach.
A monitored window outside it behaves unlike the reference period's own windows. This is the
rule of NannyML's ``StandardDeviationThreshold``; unlike a p-value it needs no null
distribution, but it says nothing about sampling noise beyond what the reference windows show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from modelyard.drift._config import DriftConfig, Statistic
from modelyard.drift._statistics import STATISTICS
from modelyard.errors import InputError, NotFoundError

__all__ = ["FittedBand", "FittedThresholds", "fit_bands", "fitted_multiplier"]


class FittedBand(BaseModel):
    """The band of one statistic on one column: ``lower`` and ``upper`` (None when fewer than
    two reference windows gave the statistic a value), from the ``mean`` and standard deviation
    ``sd`` of its values over ``windows`` reference windows."""

    model_config = ConfigDict(frozen=True)

    column: str
    statistic: Statistic
    lower: float | None
    upper: float | None
    mean: float | None
    sd: float | None
    windows: int

    def outside(self, value: float | None) -> bool:
        """True when ``value`` lies outside the band (never for a missing value or band)."""
        if value is None or self.lower is None or self.upper is None or math.isnan(value):
            return False
        return value < self.lower or value > self.upper


class FittedThresholds(BaseModel):
    """Bands fitted from ``reference_windows`` windows of the reference data, at ``k``
    standard deviations; one :class:`FittedBand` per column and statistic."""

    model_config = ConfigDict(frozen=True)

    k: float
    reference_windows: int
    bands: tuple[FittedBand, ...]

    def band(self, column: str, statistic: str) -> FittedBand:
        """The band of one column and statistic."""
        for band in self.bands:
            if band.column == column and band.statistic == statistic:
                return band
        raise NotFoundError(
            f"no fitted band for statistic {statistic!r} of column {column!r}",
            name=f"{column}/{statistic}",
            available=[f"{b.column}/{b.statistic}" for b in self.bands],
        )


def fitted_multiplier(fitted: object) -> float | None:
    """The ``k`` that ``fitted=`` asks for (None: no fitted thresholds)."""
    if fitted is None or fitted is False:
        return None
    if fitted is True:
        return 3.0
    if isinstance(fitted, int | float) and not isinstance(fitted, bool):
        k = float(fitted)
        if math.isfinite(k) and k > 0:
            return k
    raise InputError(
        f"fitted={fitted!r} must be True (bands of 3 standard deviations) or a positive number "
        "of standard deviations"
    )


def fit_bands(
    values: Mapping[tuple[str, Statistic], Sequence[float]],
    k: float,
    windows: int,
    cfg: DriftConfig,
) -> FittedThresholds:
    """Bands from each column and statistic's values over the reference windows (the windows
    where the statistic has a value)."""
    bands = []
    for (column, statistic), found in values.items():
        array = np.asarray(found, dtype=np.float64)
        array = array[np.isfinite(array)]
        if len(array) < 2:
            bands.append(
                FittedBand(
                    column=column,
                    statistic=statistic,
                    lower=None,
                    upper=None,
                    mean=None,
                    sd=None,
                    windows=len(array),
                )
            )
            continue
        mean, sd = float(np.mean(array)), float(np.std(array))
        # Every statistic is a distance (or a test statistic) at least 0; KS and JS are bounded.
        bands.append(
            FittedBand(
                column=column,
                statistic=statistic,
                lower=max(mean - k * sd, 0.0),
                upper=min(mean + k * sd, STATISTICS[statistic].upper_limit(cfg)),
                mean=mean,
                sd=sd,
                windows=len(array),
            )
        )
    return FittedThresholds(k=k, reference_windows=windows, bands=tuple(bands))
