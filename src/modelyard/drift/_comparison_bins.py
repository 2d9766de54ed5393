"""Where the bins of a comparison come from: the reference profile, or both samples together.

modelyard and NannyML bin numeric columns once, on the reference, so every comparison against a
profile shares its bins (and a monitor shares them across windows). Evidently bins each
comparison anew over the reference and the current sample together (numpy's Sturges rule). The
comparison asks its :class:`Bins` strategy, never the configuration's name.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, NamedTuple, Protocol, cast

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._binning import bin_counts, uniform_edges

if TYPE_CHECKING:
    from modelyard.drift._config import DriftConfig
    from modelyard.drift._profile import Binning, DriftProfile

__all__ = ["BinCounts", "Bins", "comparison_bins"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class BinCounts(NamedTuple):
    """``(columns, bins)`` counts of both sides; ``widths`` each column's own number of bins
    where columns have different numbers (the rest of a row is padding), else ``None``."""

    reference: IntArray
    current: IntArray
    widths: IntArray | None = None


class Bins(Protocol):
    """How a comparison bins numeric columns."""

    #: The bins depend on the reference alone, so comparisons (and windows) can share them.
    shared: bool

    def profile_binning(self, config: DriftConfig) -> Binning:
        """The binning of a profile made from reference data for this comparison."""
        ...

    def counts(
        self,
        prof: DriftProfile,
        index: IntArray,
        current: FloatArray,
        current_n: IntArray,
        current_counts: IntArray | None,
        workers: int | None = None,
    ) -> BinCounts:
        """Both sides' counts; ``current_counts`` holds the current counts in the profile's
        bins when a pass has computed them already, ``workers`` threads count them otherwise."""
        ...

    def labels(self, prof: DriftProfile, name: str, width: int) -> tuple[str, ...]:
        """The labels of a column's bins, for reports."""
        ...


class ReferenceBins:
    """The profile's bins (quantile, uniform or Doane edges of the reference)."""

    shared = True

    def profile_binning(self, config: DriftConfig) -> Binning:
        return cast("Binning", config.binning)

    def counts(
        self,
        prof: DriftProfile,
        index: IntArray,
        current: FloatArray,
        current_n: IntArray,
        current_counts: IntArray | None,
        workers: int | None = None,
    ) -> BinCounts:
        whole = index.size == len(prof.numeric_columns) and np.array_equal(
            index, np.arange(index.size)
        )
        reference = prof.bin_counts if whole else prof.bin_counts[index]
        if current_counts is None:
            edges = prof.edges if whole else prof.edges[index]
            current_counts = bin_counts(current, edges, workers=workers)
        return BinCounts(reference, current_counts)

    def labels(self, prof: DriftProfile, name: str, width: int) -> tuple[str, ...]:
        return prof.bin_labels(name)


class JointSturgesBins:
    """Evidently's: numpy's Sturges rule, equal widths over both samples together."""

    shared = False

    def profile_binning(self, config: DriftConfig) -> Binning:
        # The profile keeps the reference sample; its own bins are not used.
        return "quantile"

    def counts(
        self,
        prof: DriftProfile,
        index: IntArray,
        current: FloatArray,
        current_n: IntArray,
        current_counts: IntArray | None,
        workers: int | None = None,
    ) -> BinCounts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            low = np.fmin(prof.minimum[index], np.nanmin(current, axis=0, initial=np.inf))
            high = np.fmax(prof.maximum[index], np.nanmax(current, axis=0, initial=-np.inf))
        total = prof.counts[index] + current_n
        sample = prof.sample[:, index]
        ref_parts, cur_parts = [], []
        for i in range(index.size):
            span = high[i] - low[i]
            n_bins = 1
            if span > 0 and total[i] > 0:
                n_bins = int(np.ceil(span / (span / (np.log2(total[i]) + 1.0))))
            edges = uniform_edges([low[i]], [high[i]], n_bins)
            ref_parts.append(bin_counts(sample[:, i : i + 1], edges)[0])
            cur_parts.append(bin_counts(current[:, i : i + 1], edges)[0])
        width = max((p.size for p in ref_parts), default=1)
        ref = np.zeros((index.size, width), dtype=np.int64)
        cur = np.zeros((index.size, width), dtype=np.int64)
        for i, (a, b) in enumerate(zip(ref_parts, cur_parts, strict=True)):
            ref[i, : a.size], cur[i, : b.size] = a, b
        if not np.array_equal(prof.sample_counts[index], prof.counts[index]):
            share = prof.counts[index] / np.maximum(prof.sample_counts[index], 1)
            ref = np.round(ref * share[:, None]).astype(np.int64)
        widths = np.array([p.size for p in ref_parts], dtype=np.int64)
        return BinCounts(ref, cur, widths)

    def labels(self, prof: DriftProfile, name: str, width: int) -> tuple[str, ...]:
        return tuple(str(b) for b in range(width))


_BINS: dict[str, Bins] = {"sturges_both": JointSturgesBins()}
_REFERENCE = ReferenceBins()


def comparison_bins(config: DriftConfig) -> Bins:
    """The binning strategy of a configuration."""
    return _BINS.get(config.binning, _REFERENCE)
