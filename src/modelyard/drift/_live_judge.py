"""A live window's verdicts, from its counts and sketches, judged as :func:`monitor` judges.

Binned statistics (PSI, KL, JS, chi-square) read exact counts, so they equal :func:`monitor`'s on
the same rows. KS and Wasserstein read the window's sketch: equal-weight points whose ECDF is
within ``rank_error`` of the window's, so KS is within ``rank_error`` of the exact statistic and
Wasserstein within ``rank_error * (max - min)`` of the window's values; the KS p-value uses the
window's true count. A window that fits in the sketch is exact, and equal to :func:`monitor`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._columns import NUMERIC_KINDS, Frame
from modelyard.drift._compare import _binned, _Numbers, _sorted
from modelyard.drift._config import DriftConfig, Statistic
from modelyard.drift._ks_pvalue import ks_pvalue
from modelyard.drift._live_step import Sample
from modelyard.drift._monitor import _empty_column, _judge_window, _window_verdict
from modelyard.drift._monitor_counts import NumericWindows, segment_distances
from modelyard.drift._monitoring import WindowDrift
from modelyard.drift._profile import DriftProfile
from modelyard.drift._statistics import SortedInputs

__all__ = ["Tally", "judge"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass
class Tally:
    """A window's rows, summed over its steps."""

    rows: int
    samples: list[Sample]  # per numeric column
    bins: IntArray  # (numeric columns, bins)
    missing: IntArray
    infinite: IntArray
    categories: tuple[dict[str, int], ...]
    categorical_missing: IntArray


def _numeric(
    prof: DriftProfile, index: IntArray, tally: Tally, wanted: set[str], cfg: DriftConfig
) -> NumericWindows:
    columns = index.size
    reference_counts = np.asarray(prof.bin_counts[index], dtype=np.int64)
    reference_n = np.asarray(prof.counts[index], dtype=np.int64)
    sample_n = np.asarray(prof.sample_counts[index], dtype=np.int64)
    finite = np.array([s[1] for s in tally.samples], dtype=np.int64)
    numbers = _Numbers({}, {}, {})
    with np.errstate(all="ignore"):
        _binned(numbers, wanted, reference_counts, tally.bins, cfg)
    if wanted & {"ks", "wasserstein"}:
        ks = np.full(columns, np.nan)
        w1 = np.full(columns, np.nan)
        numerator = np.zeros(columns, dtype=np.int64)
        exact = np.array_equal(sample_n, reference_n)
        for c in range(columns):
            points = tally.samples[c][0]
            exact &= tally.samples[c][2] == 0 and points.size == finite[c]
            if points.size == 0 or sample_n[c] == 0:
                continue
            reference = prof.sample[: sample_n[c], index[c]]
            num, dist = segment_distances(
                np.ascontiguousarray(reference), points, np.array([0, points.size])
            )
            numerator[c], w1[c] = num[0], dist[0]
            ks[c] = num[0] / (sample_n[c] * points.size)
        with np.errstate(all="ignore"):
            ks_p = ks_pvalue(
                ks,
                reference_n,
                finite,
                method="auto" if cfg.ks_method == "scipy" else cfg.ks_method,
                numerator=numerator if exact else None,
            )
        std = np.asarray(prof.std[index], dtype=np.float64)
        _sorted(numbers, wanted, SortedInputs(ks, w1, ks_p, std), cfg)
    window = _Numbers(
        *(
            {k: v[None, :] for k, v in part.items()}
            for part in (numbers.value, numbers.p_value, numbers.score)
        )
    )
    return NumericWindows(
        window,
        reference_counts,
        tally.bins[None, :, :],
        finite[None, :],
        tally.missing[None, :],
        tally.infinite[None, :],
    )


def judge(
    prof: DriftProfile,
    names: Sequence[str],
    plan: dict[str, tuple[Statistic, ...]],
    cfg: DriftConfig,
    tally: Tally,
    where: tuple[int, str | int, str | int],
) -> WindowDrift:
    """The window numbered ``where[0]``, from ``where[1]`` to ``where[2]``."""
    kinds = tuple(prof.column_kinds[n] for n in names)
    numeric_names = [n for n, k in zip(names, kinds, strict=True) if k in NUMERIC_KINDS]
    categorical_names = [n for n, k in zip(names, kinds, strict=True) if k not in NUMERIC_KINDS]
    number, start, end = where
    if tally.rows == 0:
        columns = tuple(
            _empty_column(n, k, plan[n], cfg) for n, k in zip(names, kinds, strict=True)
        )
        return WindowDrift(
            window=number,
            start=start,
            end=end,
            rows=0,
            verdict="insufficient data",
            columns=columns,
        )
    frame = Frame(
        rows=tally.rows,
        names=tuple(names),
        kinds=kinds,
        numeric=np.zeros((0, len(numeric_names))),
        numeric_missing=tally.missing,
        numeric_infinite=tally.infinite,
        categorical=tally.categories,
        categorical_missing=tally.categorical_missing,
    )
    numeric_index = np.array([prof._numeric_index[n] for n in numeric_names], dtype=np.int64)
    categorical_index = [prof._categorical_index[n] for n in categorical_names]
    numeric_wanted: set[str] = {s for n in numeric_names for s in plan[n]}
    categorical_wanted: set[str] = {s for n in categorical_names for s in plan[n]}
    numeric = _numeric(prof, numeric_index, tally, numeric_wanted, cfg) if numeric_names else None
    categories = None
    if categorical_names:
        categories = ([tally.categories], tally.categorical_missing[None, :])
    entries = _judge_window(
        prof,
        frame,
        plan,
        cfg,
        0,
        numeric,
        categories,
        (numeric_index, categorical_index),
        (numeric_wanted, categorical_wanted),
        prof.counts[numeric_index],
    )
    columns = tuple(entries[n] for n in names)
    return WindowDrift(
        window=number,
        start=start,
        end=end,
        rows=tally.rows,
        verdict=_window_verdict(columns),
        columns=columns,
    )
