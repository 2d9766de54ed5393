"""A profile as the current side of a comparison, as engines that profile partitions produce.

The comparison reads current data as a :class:`Frame` of values; a current profile gives the same
facts: its sorted sample stands in for the values (exact when the profile is exact, a sketch
otherwise), and its bin counts, taken on the reference's edges while profiling, are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._columns import NUMERIC_KINDS, Frame, Kind
from modelyard.drift._profile import DriftProfile
from modelyard.errors import ColumnMismatchError, ColumnTypeError, DriftInputError, EmptyDataError

__all__ = ["CurrentSide", "profile_frame"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class CurrentSide:
    """What a current profile adds to its frame, for its numeric columns in the frame's order."""

    sample_counts: IntArray
    #: Counts in the reference's bins, when the profile took them (``kinds=reference``).
    bin_counts: IntArray | None
    rank_error: FloatArray
    exact: bool


def profile_frame(
    reference: DriftProfile,
    current: DriftProfile,
    names: tuple[str, ...],
    kinds: tuple[Kind, ...],
) -> tuple[Frame, CurrentSide]:
    """The frame and side facts of ``current`` for the compared ``names``; checks that it was
    profiled for this reference before anything is computed."""
    absent = [n for n in names if n not in current.columns]
    if absent:
        raise ColumnMismatchError(
            f"columns {absent} are in the reference but not in the current profile; profile the "
            "current data with kinds=reference",
            missing=absent,
            unexpected=[],
        )
    found = current.column_kinds
    changed = [n for n, k in zip(names, kinds, strict=True) if found[n] != k]
    if changed:
        raise ColumnTypeError(
            f"columns {changed} have other kinds in the current profile than in the reference; "
            "profile the current data with kinds=reference",
            column=changed[0],
        )
    if current.rows == 0:
        raise EmptyDataError("the current profile has no rows; there is nothing to compare")
    numeric = [n for n, k in zip(names, kinds, strict=True) if k in NUMERIC_KINDS]
    categorical = [n for n, k in zip(names, kinds, strict=True) if k not in NUMERIC_KINDS]
    ci = np.array([current._numeric_index[n] for n in numeric], dtype=np.int64)
    ri = np.array([reference._numeric_index[n] for n in numeric], dtype=np.int64)
    exact = bool(np.array_equal(current.sample_counts[ci], current.counts[ci]))
    bin_counts = None
    if current.fixed_edges:
        if current.edges[ci].shape != reference.edges[ri].shape or not np.array_equal(
            current.edges[ci], reference.edges[ri]
        ):
            raise DriftInputError(
                "the current profile was binned on another reference's edges; profile the "
                "current data with kinds= this reference"
            )
        bin_counts = np.asarray(current.bin_counts[ci], dtype=np.int64)
    elif not exact:
        raise DriftInputError(
            "a sketched current profile must be made with kinds=reference, so that its values "
            "are counted exactly in the reference's bins; profile the current data again with "
            "kinds=reference (or with sample_size=None)"
        )
    cj = [current._categorical_index[n] for n in categorical]
    frame = Frame(
        rows=current.rows,
        names=names,
        kinds=kinds,
        numeric=current.sample[:, ci],
        numeric_missing=current.missing[ci].astype(np.int64),
        numeric_infinite=current.infinite[ci].astype(np.int64),
        categorical=tuple(
            dict(zip(current.categories[j], current.category_counts[j].tolist(), strict=True))
            for j in cj
        ),
        categorical_missing=current.categorical_missing[cj].astype(np.int64),
        numeric_checked=True,
    )
    side = CurrentSide(
        sample_counts=current.sample_counts[ci].astype(np.int64),
        bin_counts=bin_counts,
        rank_error=current.rank_error[ci].astype(np.float64),
        exact=exact,
    )
    return frame, side
