"""Reference profiles: everything a comparison needs from the reference data, and nothing more."""

from __future__ import annotations

import itertools
import sys
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._arrow import iter_arrow_columns
from modelyard.drift._binning import quantile_edges, sorted_columns, uniform_edges
from modelyard.drift._columns import NUMERIC_KINDS, Kind, is_arrow, iter_frame_columns, to_frame
from modelyard.drift._parallel import column_blocks, run_blocks
from modelyard.drift._sketch import merge_many, pack
from modelyard.drift._warnings import DriftWarning
from modelyard.errors import DriftInputError, EmptyDataError

if TYPE_CHECKING:
    from modelyard.drift._quality_report import QualityReport

__all__ = ["DriftProfile", "merge", "profile"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Binning = Literal["quantile", "uniform", "doane"]
_KINDS = ("numeric", "datetime", "categorical", "boolean")


def _frozen(array: NDArray[Any]) -> NDArray[Any]:
    # A read-only view: the data itself is not copied (samples can be large).
    view: NDArray[Any] = array.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True, eq=False, repr=False)
class DriftProfile:
    """What a drift comparison needs from the reference data: build it with :func:`profile`.

    A profile is immutable (its arrays are read-only), so it is safe to share between threads. It
    holds, per numeric column, the sorted non-missing values (or a bounded sketch of them, see
    ``sample_size``), the reference bin edges and counts, and the missing and infinite counts;
    per categorical column the count of every category and of missing values. Profiles of
    partitions combine with :meth:`merge`; :meth:`to_bytes` / :meth:`from_bytes` serialise to
    Arrow IPC (no pickle), which is how ``yard.artifacts.put(profile)`` stores one.

    Example:
        >>> import numpy as np
        >>> import modelyard.drift as drift
        >>> p = drift.profile(np.random.default_rng(0).normal(size=(1000, 2)))
        >>> p
        DriftProfile(rows=1000, columns=['0', '1'], bins=10, binning='quantile', sample_size=None)
        >>> drift.DriftProfile.from_bytes(p.to_bytes()) == p
        True
    """

    media_type: ClassVar[str] = "application/vnd.modelyard.drift-profile+arrow"

    columns: tuple[str, ...]
    kinds: tuple[Kind, ...]
    rows: int
    bins: int
    binning: Binning
    sample_size: int | None
    # Numeric columns, in the order they appear in ``columns``.
    sample: FloatArray  # (max sample length, numeric columns), sorted, NaN-padded
    sample_counts: IntArray  # points held per column (== counts when exact)
    counts: IntArray  # non-missing finite values per column
    missing: IntArray
    infinite: IntArray
    minimum: FloatArray
    maximum: FloatArray
    std: FloatArray
    rank_error: FloatArray
    edges: FloatArray  # (numeric columns, bins - 1)
    bin_counts: IntArray  # (numeric columns, bins)
    # Categorical columns, in the order they appear in ``columns``.
    categories: tuple[tuple[str, ...], ...]
    category_counts: tuple[IntArray, ...]
    categorical_missing: IntArray
    # True when the edges are a reference's (``profile(..., kinds=reference)``): ``bin_counts``
    # then count every value in those bins, exactly even for a sketch, and merges add them.
    fixed_edges: bool = False
    _numeric_index: dict[str, int] = field(init=False, compare=False)
    _categorical_index: dict[str, int] = field(init=False, compare=False)
    _labels: dict[str, tuple[str, ...]] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        for f in fields(self):
            if not f.init:
                continue
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                object.__setattr__(self, f.name, _frozen(value))
        object.__setattr__(self, "category_counts", tuple(_frozen(c) for c in self.category_counts))
        numeric = [n for n, k in zip(self.columns, self.kinds, strict=True) if k in NUMERIC_KINDS]
        categorical = [
            n for n, k in zip(self.columns, self.kinds, strict=True) if k not in NUMERIC_KINDS
        ]
        object.__setattr__(self, "_numeric_index", {n: i for i, n in enumerate(numeric)})
        object.__setattr__(self, "_categorical_index", {n: i for i, n in enumerate(categorical)})
        object.__setattr__(self, "_labels", {})

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        # Rebuilt through __init__, so the unpickled arrays are read-only again.
        state = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        return _rebuild, (state,)

    def __sizeof__(self) -> int:
        # What the profile holds, so that schedulers (Dask) size it by its arrays.
        arrays = [getattr(self, f.name) for f in fields(self) if f.init]
        held = sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))
        held += sum(c.nbytes for c in self.category_counts)
        held += sum(sys.getsizeof(label) for labels in self.categories for label in labels)
        return object.__sizeof__(self) + held

    def bin_labels(self, column: str) -> tuple[str, ...]:
        """Labels of a numeric column's bins, such as ``"[-0.25, 0.25)"``.

        >>> import numpy as np
        >>> import modelyard.drift as drift
        >>> drift.profile(np.arange(100.0)[:, None], bins=2).bin_labels("0")
        ('[-inf, 49.5)', '[49.5, +inf)')
        """
        labels = self._labels.get(column)
        if labels is None:
            # Computed once per profile; two threads racing here compute the same tuple.
            edges = self.edges[self._numeric_index[column]]
            bounds = ["-inf", *(f"{e:.4g}" for e in edges), "+inf"]
            labels = tuple(f"[{a}, {b})" for a, b in itertools.pairwise(bounds))
            self._labels[column] = labels
        return labels

    @property
    def numeric_columns(self) -> tuple[str, ...]:
        """Names of the numeric (and datetime) columns."""
        return tuple(self._numeric_index)

    @property
    def categorical_columns(self) -> tuple[str, ...]:
        """Names of the categorical (and boolean) columns."""
        return tuple(self._categorical_index)

    @property
    def column_kinds(self) -> dict[str, Kind]:
        """Kind of each column: ``numeric``, ``datetime``, ``categorical`` or ``boolean``."""
        return dict(zip(self.columns, self.kinds, strict=True))

    def missing_count(self, column: str) -> int:
        """Number of missing values (NaN, None, NaT; infinities are counted apart) in a column."""
        if column in self._numeric_index:
            return int(self.missing[self._numeric_index[column]])
        return int(self.categorical_missing[self._categorical_index[column]])

    def __repr__(self) -> str:
        return (
            f"DriftProfile(rows={self.rows}, columns={list(self.columns)}, bins={self.bins}, "
            f"binning={self.binning!r}, sample_size={self.sample_size})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DriftProfile):
            return NotImplemented
        for f in fields(self):
            if not f.compare:
                continue
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "category_counts":
                if len(a) != len(b) or not all(
                    np.array_equal(x, y) for x, y in zip(a, b, strict=True)
                ):
                    return False
            elif f.name == "sample":
                # Rows past the longest column are NaN padding, not data (a profile read back
                # from bytes has none), so they take no part in equality.
                n = int(self.sample_counts.max(initial=0))
                if n != int(other.sample_counts.max(initial=0)) or a.shape[1] != b.shape[1]:
                    return False
                if not np.array_equal(a[:n], b[:n], equal_nan=True):
                    return False
            elif isinstance(a, np.ndarray):
                if a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
                    return False
            elif a != b:
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def merge(self, *others: DriftProfile) -> DriftProfile:
        """Combine with the profiles of other partitions of the same data (see :func:`merge`).

        With exact samples (``sample_size=None``) the result equals the profile of the
        concatenated data, whatever the split; with sketches it is within the tracked
        ``rank_error``, which does not grow with the number of parts.

        >>> import numpy as np
        >>> import modelyard.drift as drift
        >>> data = np.random.default_rng(0).normal(size=(100, 3))
        >>> drift.profile(data[:40]).merge(drift.profile(data[40:])) == drift.profile(data)
        True
        """
        return merge(self, *others)

    def check(
        self,
        batch: object,
        *,
        raise_on_error: bool = False,
        alpha: float = 0.05,
        tolerance: float = 0.01,
        columns: Sequence[str] | None = None,
    ) -> QualityReport:
        """Validate a batch against the schema this profile expects: names, kinds, ranges,
        categories and missing values (see :func:`modelyard.drift.quality` for the rule).

        Returns the :class:`QualityReport`; with ``raise_on_error=True`` an error finding
        raises instead (``ColumnMismatchError`` for a missing column, ``DriftInputError``
        otherwise), which suits a pipeline step. The same is
        ``profile.check(batch).raise_for_problems()``.

        >>> import pandas as pd
        >>> import modelyard.drift as drift
        >>> reference = drift.profile(pd.DataFrame({"age": [31, 45, 27, 52], "city": list("abab")}))
        >>> report = reference.check(pd.DataFrame({"age": ["31", "40"]}))
        >>> report.ok
        False
        >>> print(report)  # doctest: +NORMALIZE_WHITESPACE +ELLIPSIS
        Data quality: FAILED; 2 error(s), 0 warning(s) in 2 checks; batch 2 rows, reference 4 rows
        error    age  kind_changed: numeric in the reference, but the batch has categorical (dtype
        ...), which cannot be read as numeric
        error    city  column_missing: in the reference (categorical) but not in the batch
        >>> reference.check(pd.DataFrame({"age": [30.0], "city": ["a"]}), raise_on_error=True).ok
        True
        """
        from modelyard.drift._quality import quality

        report = quality(self, batch, alpha=alpha, tolerance=tolerance, columns=columns)
        if raise_on_error:
            report.raise_for_problems()
        return report

    def to_bytes(self) -> bytes:
        """Serialise to an Arrow IPC stream (see :meth:`from_bytes`)."""
        from modelyard.drift._serialize import profile_to_bytes

        return profile_to_bytes(self)

    @classmethod
    def from_bytes(cls, data: bytes) -> DriftProfile:
        """Rebuild a profile from :meth:`to_bytes` output; the round trip is exact."""
        from modelyard.drift._serialize import profile_from_bytes

        return profile_from_bytes(data)


class _Builder:
    """Accumulates batches of one dataset into a profile.

    Numeric columns are handled one at a time (sorted values kept per column), so the extra
    memory beyond the profile itself is one batch; pyarrow batches are read column by column
    without converting the batch whole.
    """

    def __init__(
        self,
        *,
        bins: int,
        binning: Binning,
        sample_size: int | None,
        categorical: Sequence[str],
        numeric: Sequence[str],
        columns: Sequence[str] | None,
        workers: int | None = None,
        expected_rows: int | None = None,
        pinned: tuple[tuple[str, ...], tuple[Kind, ...]] | None = None,
        edges: FloatArray | None = None,
    ) -> None:
        if bins < 1:
            raise DriftInputError(f"bins must be at least 1, got {bins}")
        if binning not in ("quantile", "uniform", "doane"):
            raise DriftInputError(
                f"binning must be 'quantile', 'uniform' or 'doane', got {binning!r}"
            )
        if sample_size is not None and sample_size < 2:
            raise DriftInputError(f"sample_size must be None or at least 2, got {sample_size}")
        self.bins, self.binning, self.sample_size = bins, binning, sample_size
        self.categorical, self.numeric, self.columns = categorical, numeric, columns
        self.workers = workers
        # Exact mode with a row count known in advance: values are written straight into the
        # final (Fortran-ordered) sample and sorted in place at the end, so the profile is the
        # only large allocation.
        self.expected_rows = expected_rows
        self.buffer: FloatArray | None = None
        self.fill: IntArray = np.zeros(0, dtype=np.int64)
        self.names: tuple[str, ...] | None = None
        self.kinds: tuple[Kind, ...] | None = None
        self.rows = 0
        self.batches = 0
        # Exact mode: the sorted values of every batch, per numeric column.
        self.chunks: list[list[FloatArray]] = []
        # The first batch's sorted matrix, used as the sample when there is only one batch.
        self.whole: FloatArray | None = None
        # Sketch mode: sketches of batches, pooled like a counter in base ``fan`` (``fan`` states
        # of one level make one of the next in one compression), so the error bound grows with
        # log_fan(batches). ``fan`` keeps the pending points per column near 2**18.
        self.levels: list[list[list[tuple[FloatArray, int, float]]]] = []
        self.fan = 2 if sample_size is None else max(2, min(64, (1 << 18) // sample_size))
        self.missing: IntArray = np.zeros(0, dtype=np.int64)
        self.infinite: IntArray = np.zeros(0, dtype=np.int64)
        self.minimum: FloatArray = np.zeros(0)
        self.maximum: FloatArray = np.zeros(0)
        self.cat_counts: list[dict[str, int]] = []
        self.cat_missing: IntArray = np.zeros(0, dtype=np.int64)
        # A reference's edges: the bins are counted batch by batch, exactly even for a sketch.
        self.edges = edges
        self.bin_tally: IntArray | None = None
        self.pinned = pinned is not None
        if pinned is not None:
            self._allocate(*pinned, 0)
            # Every batch is read as these columns (others in it are ignored).
            self.columns = pinned[0]

    def add(self, data: object) -> None:
        if is_arrow(data):
            self._add_columns(iter_arrow_columns, data)
            return
        if not isinstance(data, np.ndarray):
            # DataFrames and mappings column by column too: stacking the numeric columns into
            # one matrix first cost a copy of the data and a sorted copy of that.
            self._add_columns(iter_frame_columns, data)
            return
        frame = to_frame(
            data,
            names=self.names,
            kinds=self.kinds,
            categorical=self.categorical,
            numeric=self.numeric,
            columns=self.columns,
        )
        self._begin(frame.names, frame.kinds, frame.rows)
        self.missing += frame.numeric_missing
        self.infinite += frame.numeric_infinite
        categorical = list(
            enumerate(zip(frame.categorical, frame.categorical_missing, strict=True))
        )
        values = frame.numeric
        del frame
        if values.shape[1] and values.shape[0] and self.buffer is not None:
            self._add_sorted(
                (j, values[:, j][~np.isnan(values[:, j])]) for j in range(values.shape[1])
            )
        elif values.shape[1] and values.shape[0]:
            ordered, counts = sorted_columns(values, workers=self.workers)
            del values
            if self.sample_size is None and self.batches == 1:
                self.whole = ordered
            self._add_sorted((j, ordered[: counts[j], j]) for j in range(ordered.shape[1]))
        else:
            self._add_sorted([])
        self._add_categorical(categorical)

    def _add_columns(self, reader: Any, batch: object) -> None:
        names, kinds, rows, values = reader(
            batch,
            names=self.names,
            kinds=self.kinds,
            categorical=self.categorical,
            numeric=self.numeric,
            columns=self.columns,
        )
        self._begin(names, kinds, rows)
        numeric_position = 0
        categorical_position = 0
        categorical_parts: list[tuple[int, tuple[dict[str, int], int]]] = []
        for index, column in values:
            if kinds[index] in NUMERIC_KINDS:
                finite = np.isfinite(column)
                n_finite = int(np.count_nonzero(finite))
                if n_finite == column.size:
                    kept = column
                else:
                    n_nan = int(np.count_nonzero(np.isnan(column)))
                    self.missing[numeric_position] += n_nan
                    self.infinite[numeric_position] += column.size - n_finite - n_nan
                    kept = column[finite]
                del finite, column
                if self.buffer is None:
                    # Sorted per batch (unless written straight into a preallocated sample).
                    kept = np.sort(kept)
                # Column by column, so at most one column of the batch is held in a copy.
                self._add_sorted([(numeric_position, kept)], final=False)
                del kept
                numeric_position += 1
            else:
                categorical_parts.append((categorical_position, column))
                categorical_position += 1
        self._add_sorted([])
        self._add_categorical(categorical_parts)

    def _allocate(self, names: tuple[str, ...], kinds: tuple[Kind, ...], rows: int) -> None:
        self.names, self.kinds = names, kinds
        k = sum(1 for kind in kinds if kind in NUMERIC_KINDS)
        self.missing = np.zeros(k, dtype=np.int64)
        self.infinite = np.zeros(k, dtype=np.int64)
        self.minimum = np.full(k, np.nan)
        self.maximum = np.full(k, np.nan)
        self.chunks = [[] for _ in range(k)]
        if self.sample_size is None and self.expected_rows is not None:
            self.buffer = np.empty((max(self.expected_rows, rows), k), order="F")
            self.fill = np.zeros(k, dtype=np.int64)
        if self.edges is not None and self.sample_size is not None:
            self.bin_tally = np.zeros((k, self.edges.shape[1] + 1), dtype=np.int64)
        self.cat_counts = [{} for kind in kinds if kind not in NUMERIC_KINDS]
        self.cat_missing = np.zeros(len(self.cat_counts), dtype=np.int64)

    def _begin(self, names: tuple[str, ...], kinds: tuple[Kind, ...], rows: int) -> None:
        if self.names is None:
            self._allocate(names, kinds, rows)
        self.rows += rows
        self.batches += 1
        self.pending: list[tuple[FloatArray, int, float]] = [
            (np.empty(0), 0, 0.0) for _ in range(len(self.missing))
        ]

    def _add_sorted(self, parts: Iterable[tuple[int, FloatArray]], *, final: bool = True) -> None:
        for j, column in parts:
            if self.buffer is not None:
                # Unsorted finite values, written into the final sample (sorted at the end).
                if column.size:
                    self.minimum[j] = np.fmin(self.minimum[j], column.min())
                    self.maximum[j] = np.fmax(self.maximum[j], column.max())
                self._write(j, column)
                continue
            if column.size:
                self.minimum[j] = np.fmin(self.minimum[j], column[0])
                self.maximum[j] = np.fmax(self.maximum[j], column[-1])
            if self.bin_tally is not None and self.edges is not None:
                below = np.searchsorted(column, self.edges[j], side="left")
                self.bin_tally[j] += np.diff(below, prepend=0, append=column.size)
            if self.sample_size is None:
                self.chunks[j].append(column)
            else:
                self.pending[j] = merge_many([(column, column.size, 0.0)], self.sample_size)
        if self.sample_size is not None and final:
            state, level = self.pending, 0
            while True:
                if level == len(self.levels):
                    self.levels.append([])
                self.levels[level].append(state)
                if len(self.levels[level]) < self.fan:
                    break
                state, self.levels[level] = self._pool(self.levels[level]), []
                level += 1

    def _add_categorical(self, parts: Iterable[tuple[int, tuple[dict[str, int], int]]]) -> None:
        for index, (counts, missing) in parts:
            target = self.cat_counts[index]
            for label, count in counts.items():
                target[label] = target.get(label, 0) + count
            self.cat_missing[index] += int(missing)

    def _pool(
        self, states: list[list[tuple[FloatArray, int, float]]]
    ) -> list[tuple[FloatArray, int, float]]:
        """Per column, the states' sketches merged in one compression."""
        return [
            merge_many([state[j] for state in states], self.sample_size)
            for j in range(len(self.missing))
        ]

    def _write(self, j: int, column: FloatArray) -> None:
        assert self.buffer is not None
        end = int(self.fill[j]) + column.size
        if end > self.buffer.shape[0]:
            # More rows than announced: grow (this copy is what expected_rows avoids).
            grown = np.empty((max(end, 2 * self.buffer.shape[0]), self.buffer.shape[1]), order="F")
            grown[: self.buffer.shape[0]] = self.buffer
            self.buffer = grown
        self.buffer[self.fill[j] : end, j] = column
        self.fill[j] = end

    def _buffered_sample(self) -> tuple[FloatArray, IntArray]:
        assert self.buffer is not None
        sample, counts = self.buffer[: self.rows], self.fill.copy()
        self.buffer = None
        for j in range(sample.shape[1]):
            sample[: counts[j], j].sort()
            sample[counts[j] :, j] = np.nan
        return sample, counts

    def _exact_sample(self) -> tuple[FloatArray, IntArray]:
        if self.rows == 0:
            self.buffer = None
            return np.empty((0, len(self.missing))), np.zeros(len(self.missing), dtype=np.int64)
        if self.buffer is not None:
            return self._buffered_sample()
        if self.whole is not None and self.batches == 1:
            sample = self.whole
            counts = np.array([c[0].size for c in self.chunks], dtype=np.int64)
            self.whole, self.chunks = None, []
            return sample, counts
        counts = np.array([sum(p.size for p in c) for c in self.chunks], dtype=np.int64)
        # Fortran order: each column is contiguous, so filling one column touches only its own
        # pages, and the batches' sorted chunks of a column are freed as soon as it is written.
        sample = np.empty((self.rows, len(self.chunks)), dtype=np.float64, order="F")
        for j in range(len(self.chunks)):
            parts, self.chunks[j] = self.chunks[j], []
            merged = parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts))
            del parts
            sample[: merged.size, j] = merged
            sample[merged.size :, j] = np.nan
            del merged
        return sample, counts

    def finish(self) -> DriftProfile:
        if self.names is None or self.kinds is None:
            raise EmptyDataError(
                "no data to profile: the input had no batches (pass kinds= to get an empty "
                "profile of known columns instead)"
            )
        if self.rows == 0 and not self.pinned:
            raise EmptyDataError(
                "no rows to profile: the reference data is empty (pass kinds= to get an empty "
                "profile of known columns instead)"
            )
        if self.sample_size is None:
            sample, counts = self._exact_sample()
            rank_error = np.zeros(counts.shape)
            sample_counts = counts
        else:
            # Every level's states pooled in one compression per column, as merge() does.
            sketch = self._pool([state for level in self.levels for state in level])
            self.levels = []
            sample = pack([s[0] for s in sketch])
            sample_counts = np.array([s[0].size for s in sketch], dtype=np.int64)
            counts = np.array([s[1] for s in sketch], dtype=np.int64)
            rank_error = np.array([s[2] for s in sketch])
        categories = tuple(tuple(sorted(c)) for c in self.cat_counts)
        category_counts = tuple(
            np.array([c[label] for label in labels], dtype=np.int64)
            for c, labels in zip(self.cat_counts, categories, strict=True)
        )
        return finalize(
            columns=self.names,
            kinds=self.kinds,
            rows=self.rows,
            bins=self.bins,
            binning=self.binning,
            sample_size=self.sample_size,
            sample=sample,
            sample_counts=sample_counts,
            counts=counts,
            missing=self.missing,
            infinite=self.infinite,
            minimum=self.minimum,
            maximum=self.maximum,
            rank_error=rank_error,
            categories=categories,
            category_counts=category_counts,
            categorical_missing=self.cat_missing,
            edges=self.edges,
            bin_counts=self.bin_tally,
        )


def _doane_edges(sample: FloatArray, lengths: IntArray) -> FloatArray:
    """Doane's equal-width bins over the reference range, as NannyML's Jensen-Shannon uses.

    The number of bins differs per column (it depends on the skewness), so this runs column by
    column; it is only used by the NannyML preset. The edges include the range itself so values
    outside it fall in the two open outer bins; the top edge is nudged up by one ulp because
    ``numpy.histogram`` closes its last bin on the right.
    """
    per_column = []
    for index, n in enumerate(lengths):
        values = sample[: int(n), index]
        if values.size == 0:
            per_column.append(np.empty(0))
            continue
        full = np.histogram_bin_edges(values, bins="doane")
        full[-1] = np.nextafter(full[-1], np.inf)
        per_column.append(full)
    width = max((e.size for e in per_column), default=0)
    edges = np.full((len(per_column), width), np.inf)
    for index, column in enumerate(per_column):
        edges[index, : column.size] = column
    return edges


def _sorted_bin_counts(sample: FloatArray, lengths: IntArray, edges: FloatArray) -> IntArray:
    """Bin counts of sorted columns: one binary search per edge instead of a pass over values."""
    counts = np.zeros((edges.shape[0], edges.shape[1] + 1), dtype=np.int64)
    for j in range(edges.shape[0]):
        values = sample[: int(lengths[j]), j]
        below = np.searchsorted(values, edges[j], side="left")
        counts[j] = np.diff(below, prepend=0, append=values.size)
    return counts


def _column_std(sample: FloatArray, lengths: IntArray) -> FloatArray:
    """Population standard deviation of each NaN-padded sorted column (NaN for an empty one).

    One pass over blocks of rows for all columns at once. Values are taken relative to the
    column's median (the sample is sorted), which keeps the sum of squares free of cancellation.
    Each block is transposed so every column is summed as one contiguous row: the result does
    not depend on the memory layout of the sample nor on the other columns.
    """
    rows, columns = sample.shape
    std = np.full(columns, np.nan)
    filled = lengths > 0
    if rows == 0 or not filled.any():
        return std
    middle = sample[np.maximum(lengths - 1, 0) // 2, np.arange(columns)]
    middle = np.where(filled, middle, 0.0)
    total = np.zeros(columns)
    squares = np.zeros(columns)
    block = 4096
    for first in range(0, rows, block):
        part = sample[first : first + block].T.copy()  # a C-ordered copy, never a view
        part -= middle[:, None]
        past = np.arange(first, first + part.shape[1])[None, :] >= lengths[:, None]
        part[past] = 0.0
        total += part.sum(axis=1)
        part *= part
        squares += part.sum(axis=1)
    count = np.maximum(lengths, 1).astype(np.float64)
    mean = total / count
    variance = np.maximum(squares / count - mean * mean, 0.0)
    return np.where(filled, np.sqrt(variance), np.nan)


def finalize(**parts: Any) -> DriftProfile:
    """Derive edges, bin counts and spread from the sample, and build the profile."""
    sample: FloatArray = parts["sample"]
    sample_counts: IntArray = parts["sample_counts"]
    counts: IntArray = parts["counts"]
    bins: int = parts["bins"]
    fixed: FloatArray | None = parts.pop("edges", None)
    tally: IntArray | None = parts.pop("bin_counts", None)
    if fixed is not None:
        edges = fixed
    elif parts["binning"] == "quantile":
        edges = quantile_edges(sample, bins, presorted=True, counts=sample_counts)
    elif parts["binning"] == "uniform":
        edges = uniform_edges(parts["minimum"], parts["maximum"], bins)
    else:
        edges = _doane_edges(sample, sample_counts)
    points = _sorted_bin_counts(sample, sample_counts, edges) if tally is None else tally
    if tally is not None or np.array_equal(sample_counts, counts):
        reference_counts = points
    else:
        # A sketch point stands for count / points values; rounding keeps the counts integral.
        share = counts / np.maximum(sample_counts, 1)
        reference_counts = np.round(points * share[:, None]).astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        std = _column_std(sample, sample_counts)
    return DriftProfile(
        edges=edges,
        bin_counts=reference_counts,
        std=np.asarray(std, dtype=np.float64),
        fixed_edges=fixed is not None,
        **parts,
    )


def _rebuild(state: dict[str, Any]) -> DriftProfile:
    return DriftProfile(**state)


def _is_batches(data: object) -> bool:
    return isinstance(data, (Iterator, list, tuple)) or (
        isinstance(data, Iterable)
        and not isinstance(data, (np.ndarray, dict, str, bytes))
        and not hasattr(data, "columns")
        and not hasattr(data, "schema")
    )


def profile(
    data: object,
    *,
    bins: int = 10,
    categorical: Sequence[str] | None = None,
    numeric: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    binning: Binning = "quantile",
    sample_size: int | None = None,
    workers: int | None = None,
    expected_rows: int | None = None,
    kinds: Mapping[str, Kind] | DriftProfile | None = None,
) -> DriftProfile:
    """Profile reference data for later comparisons.

    Args:
        data: a pandas DataFrame, a pyarrow Table or RecordBatch, a 2-D NumPy array (columns are
            named ``"0"``, ``"1"``, ...), a mapping of names to arrays, or an iterable of any of
            these (batches, e.g. Parquet row groups), profiled with memory bounded by one batch
            plus the profile.
        bins: number of bins for PSI, KL and JS on numeric columns.
        categorical: columns to treat as categorical even if numeric. Strings, pandas
            categoricals and booleans are categorical anyway; numbers and datetimes are numeric.
        numeric: columns that must be numeric; a non-numeric one raises ``ColumnTypeError``.
        columns: profile only these columns.
        binning: ``"quantile"`` (edges at the reference's ``j/bins`` quantiles) or ``"uniform"``
            (equal-width bins over the reference's range).
        sample_size: ``None`` keeps every value (exact KS and Wasserstein); an integer ``K``
            keeps a sketch of at most ``K`` values per column whose ECDF is within
            ``rank_error`` of the exact one: ``1/(2K)`` for one batch; pooling the sketches of a
            stream's batches adds ``1/(2K)`` per level (the guide has the rule).
        workers: threads for sorting blocks of columns (default ``None``: the environment
            variable ``MODELYARD_THREADS`` if set, else one per usable CPU, at most 4; ``1`` runs
            on the calling thread alone, as a task of a Dask or Spark worker should). The profile
            does not depend on it.
        expected_rows: for an exact profile of a stream, the number of rows if known (a
            Parquet file's ``metadata.num_rows``): the sample is then allocated once and filled
            in place, so peak memory is the profile plus one batch rather than about twice the
            profile. A wrong count is safe (the sample grows, or the extra is unused).
        kinds: pin the columns and their kinds instead of inferring them from each batch, so
            that profiles of partitions always merge: a mapping ``{column: kind}`` (``numeric``,
            ``datetime``, ``categorical`` or ``boolean``; the columns profiled, in that order;
            others in the data are ignored), or a :class:`DriftProfile`. Given a reference
            profile, the result also takes its columns, ``bins``, ``binning`` and bin edges, and
            counts every value in those bins exactly (even with ``sample_size``): it is then the
            current side of ``compare(reference, current_profile)``. With pinned kinds, data with
            no rows (or no batches) gives a profile with ``rows == 0`` instead of raising.

    Raises:
        EmptyDataError: the data has no rows (and ``kinds`` is not given).
        ColumnTypeError: a column named in ``numeric`` is not numeric, or a column cannot be
            read as its pinned kind.
        DriftInputError: an unsupported input type or parameter.

    Example:
        >>> import pandas as pd
        >>> import modelyard.drift as drift
        >>> df = pd.DataFrame({"age": [31, 45, None, 27], "city": ["Oslo", "Lima", "Oslo", None]})
        >>> p = drift.profile(df, bins=2)
        >>> p.column_kinds, p.missing_count("age"), p.missing_count("city")
        ({'age': 'numeric', 'city': 'categorical'}, 1, 1)
    """
    pinned: tuple[tuple[str, ...], tuple[Kind, ...]] | None = None
    edges: FloatArray | None = None
    if kinds is not None:
        if categorical or numeric:
            raise DriftInputError(
                "pass either kinds= or categorical=/numeric=, not both: kinds= already says the "
                "kind of every column"
            )
        pinned, edges = _pinned(kinds, columns)
        if isinstance(kinds, DriftProfile):
            bins, binning = kinds.bins, kinds.binning
    builder = _Builder(
        pinned=pinned,
        edges=edges,
        bins=bins,
        binning=binning,
        sample_size=sample_size,
        categorical=tuple(categorical or ()),
        numeric=tuple(numeric or ()),
        columns=None if columns is None else tuple(columns),
        workers=workers,
        expected_rows=expected_rows,
    )
    if _is_batches(data):
        batches = iter(data)  # type: ignore[call-overload]
        while (batch := next(batches, None)) is not None:
            builder.add(batch)
            # Drop this batch before the iterator reads the next one: one batch at a time.
            del batch
    else:
        builder.add(data)
    result = builder.finish()
    _warn_degenerate(result)
    return result


def _pinned(
    kinds: Mapping[str, Kind] | DriftProfile, columns: Sequence[str] | None
) -> tuple[tuple[tuple[str, ...], tuple[Kind, ...]], FloatArray | None]:
    """The columns and kinds that ``kinds`` pins, and a reference's edges for those columns."""
    if not isinstance(kinds, (DriftProfile, Mapping)):
        raise DriftInputError(
            f"kinds must be a mapping of column to kind or a DriftProfile, got "
            f"{type(kinds).__name__}"
        )
    given = kinds.column_kinds if isinstance(kinds, DriftProfile) else dict(kinds)
    wrong = {str(n): k for n, k in given.items() if k not in _KINDS}
    if wrong:
        raise DriftInputError(
            f"unknown column kinds {wrong}; each kind must be one of {list(_KINDS)}"
        )
    names = tuple(str(n) for n in given)
    if columns is not None:
        absent = [c for c in columns if c not in given]
        if absent:
            raise DriftInputError(
                f"columns {absent} are not in kinds=; name every profiled column there"
            )
        names = tuple(n for n in names if n in set(columns))
    chosen = tuple(given[n] for n in names)
    if not isinstance(kinds, DriftProfile):
        return (names, chosen), None
    rows = [
        kinds._numeric_index[n] for n, k in zip(names, chosen, strict=True) if k in NUMERIC_KINDS
    ]
    return (names, chosen), np.array(kinds.edges[rows], dtype=np.float64)


def _warn_degenerate(p: DriftProfile) -> None:
    if p.rows == 0:
        # An empty partition of a pinned schema: nothing is wrong with it.
        return
    for name, index in p._numeric_index.items():
        if p.counts[index] == 0:
            warnings.warn(
                f"column {name!r} has no values in the reference (all missing); its statistics "
                "will be undefined (None)",
                DriftWarning,
                stacklevel=3,
            )
        elif p.minimum[index] == p.maximum[index]:
            warnings.warn(
                f"column {name!r} is constant in the reference ({float(p.minimum[index])!r}); "
                "its bins collapse to one and its standard deviation is 0",
                DriftWarning,
                stacklevel=3,
            )
    for name, index in p._categorical_index.items():
        if not p.categories[index]:
            warnings.warn(
                f"column {name!r} has no values in the reference (all missing); its statistics "
                "will be undefined (None)",
                DriftWarning,
                stacklevel=3,
            )


def merge(*profiles: DriftProfile) -> DriftProfile:
    """Combine profiles of partitions of one dataset (same columns, kinds and settings).

    The merge is flat: a sketched column pools every part's points in one compression, so its
    ``rank_error`` does not grow with the number of parts, and exact columns are merged from
    their sorted runs. Profiles with ``rows == 0`` (empty partitions profiled with ``kinds=``)
    change nothing; merging only empty profiles gives an empty profile.

    >>> import numpy as np
    >>> import modelyard.drift as drift
    >>> data = np.arange(12.0).reshape(6, 2)
    >>> drift.merge(drift.profile(data[:2]), drift.profile(data[2:])).rows
    6
    """
    if not profiles:
        raise DriftInputError("merge() needs at least one profile")
    first = profiles[0]
    for other in profiles[1:]:
        settings = ("columns", "kinds", "bins", "binning", "sample_size", "fixed_edges")
        differing = [s for s in settings if getattr(first, s) != getattr(other, s)]
        if first.fixed_edges and not np.array_equal(first.edges, other.edges):
            differing.append("edges")
        if differing:
            raise DriftInputError(
                f"cannot merge profiles that differ in {differing}; profile every partition "
                "with the same columns and settings (kinds= pins them)",
                differing=differing,
            )
    filled = [p for p in profiles if p.rows > 0]
    if len(filled) <= 1:
        return filled[0] if filled else first
    profiles = tuple(filled)
    size = first.sample_size
    columns = len(first.numeric_columns)
    if size is None:
        sample, counts = _merge_sorted(profiles, columns)
        sample_counts = counts
        rank_error = np.zeros(columns)
    else:
        merged = [
            merge_many(
                [
                    (
                        p.sample[: p.sample_counts[index], index],
                        int(p.counts[index]),
                        float(p.rank_error[index]),
                    )
                    for p in profiles
                ],
                size,
            )
            for index in range(columns)
        ]
        sample = pack([m[0] for m in merged])
        sample_counts = np.array([m[0].size for m in merged], dtype=np.int64)
        counts = np.array([m[1] for m in merged], dtype=np.int64)
        rank_error = np.array([m[2] for m in merged])
    categories: list[tuple[str, ...]] = []
    category_counts: list[IntArray] = []
    for index in range(len(first.categorical_columns)):
        total: dict[str, int] = {}
        for p in profiles:
            for label, count in zip(p.categories[index], p.category_counts[index], strict=True):
                total[label] = total.get(label, 0) + int(count)
        labels = tuple(sorted(total))
        categories.append(labels)
        category_counts.append(np.array([total[x] for x in labels], dtype=np.int64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        minimum = np.fmin.reduce([p.minimum for p in profiles])
        maximum = np.fmax.reduce([p.maximum for p in profiles])
    fixed: dict[str, Any] = {}
    if first.fixed_edges:
        # Every part counted all its values in the same bins: the sums are exact.
        fixed = {
            "edges": first.edges,
            "bin_counts": np.sum([p.bin_counts for p in profiles], axis=0).astype(np.int64),
        }
    return finalize(
        columns=first.columns,
        kinds=first.kinds,
        rows=sum(p.rows for p in profiles),
        bins=first.bins,
        binning=first.binning,
        sample_size=size,
        sample=sample,
        sample_counts=sample_counts,
        counts=counts,
        missing=np.sum([p.missing for p in profiles], axis=0).astype(np.int64),
        infinite=np.sum([p.infinite for p in profiles], axis=0).astype(np.int64),
        minimum=np.asarray(minimum, dtype=np.float64),
        maximum=np.asarray(maximum, dtype=np.float64),
        rank_error=rank_error,
        categories=tuple(categories),
        category_counts=tuple(category_counts),
        categorical_missing=np.sum([p.categorical_missing for p in profiles], axis=0).astype(
            np.int64
        ),
        **fixed,
    )


def _merge_sorted(profiles: Sequence[DriftProfile], columns: int) -> tuple[FloatArray, IntArray]:
    """Exact samples merged column by column into one Fortran-ordered array.

    Each column's sorted runs are copied end to end into its own contiguous slot of the output
    and sorted there in place: no copy beyond the output, and a contiguous sort is several times
    quicker than sorting the stacked samples along their strided axis. Columns are spread over
    the default threads (NumPy sorts without the GIL).
    """
    counts = np.sum([p.sample_counts for p in profiles], axis=0).astype(np.int64)
    rows = int(counts.max(initial=0))
    sample = np.empty((rows, columns), dtype=np.float64, order="F")

    def work(block: slice) -> None:
        for j in range(*block.indices(columns)):
            target = sample[:, j]
            end = 0
            for p in profiles:
                n = int(p.sample_counts[j])
                target[end : end + n] = p.sample[:n, j]
                end += n
            target[:end].sort()
            target[end:] = np.nan

    run_blocks(work, column_blocks(columns, 1), None)
    return sample, counts
