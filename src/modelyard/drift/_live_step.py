"""What a live monitor keeps of the rows of one step: bounded, whatever the traffic.

Per numeric column: the exact count of missing, infinite and finite values, the exact count of
each reference bin, and a quantile sketch of the finite values (:mod:`_sketch`). Per categorical
column: the exact count of each category and of missing values. Rows arrive into a buffer of
``buffer`` rows; a full buffer is sorted once per column, counted into the bins, compressed to
``size`` points and pushed into levels merged like a binary counter (two of a level make one of
the next), so the rank error grows with the logarithm of the number of buffers, not with it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._sketch import compress, compress_sorted, merge_samples

__all__ = ["Sample", "Step", "merge_many"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
#: Sorted points, the count of values they stand for, and the rank error of their ECDF.
Sample = tuple[FloatArray, int, float]

_EMPTY: Sample = (np.empty(0), 0, 0.0)


def merge_many(samples: list[Sample], size: int) -> Sample:
    """One sample of ``samples`` together: exact while every one is exact and all fit in
    ``size`` points, else ``size`` points by one weighted compression (so the rank error is the
    count-weighted mean of theirs plus ``1 / (2 size)``, however many are merged).

    >>> merge_many([(np.array([1.0, 3.0]), 2, 0.0), (np.array([2.0]), 1, 0.0)], 4)
    (array([1., 2., 3.]), 3, 0.0)
    """
    filled = [s for s in samples if s[1] > 0]
    if not filled:
        return _EMPTY
    if len(filled) == 1:
        return filled[0]
    total = sum(s[1] for s in filled)
    exact = all(s[2] == 0 and s[0].size == s[1] for s in filled)
    values = np.concatenate([s[0] for s in filled])
    if exact and total <= size:
        return np.sort(values), total, 0.0
    weights = np.concatenate([np.full(s[0].size, s[1] / s[0].size) for s in filled])
    order = np.argsort(values, kind="stable")
    error = sum(s[1] * s[2] for s in filled) / total + 1.0 / (2 * size)
    return compress(values[order], weights[order], size), total, float(error)


class Step:
    """The rows of one step. Not thread-safe: the monitor holds its lock around every call."""

    def __init__(self, edges: FloatArray, categorical: int, size: int, buffer: int) -> None:
        self.edges = edges  # (numeric columns, edges), the reference's
        self.size = size
        self.capacity = buffer
        numeric = edges.shape[0]
        self.rows = 0
        self.pending: FloatArray | None = None
        self.fill = 0
        self.levels: list[tuple[int, list[Sample]]] = []
        self.bins: IntArray = np.zeros((numeric, edges.shape[1] + 1), dtype=np.int64)
        self.missing: IntArray = np.zeros(numeric, dtype=np.int64)
        self.infinite: IntArray = np.zeros(numeric, dtype=np.int64)
        self.low: FloatArray = np.full(numeric, np.inf)
        self.high: FloatArray = np.full(numeric, -np.inf)
        self.categories: list[dict[str, int]] = [{} for _ in range(categorical)]
        self.categorical_missing: IntArray = np.zeros(categorical, dtype=np.int64)

    @property
    def numeric(self) -> int:
        return int(self.edges.shape[0])

    def add(
        self, values: FloatArray, categories: tuple[dict[str, int], ...], missing: IntArray
    ) -> None:
        """Rows: ``values`` ``(rows, numeric columns)`` with NaN for missing, and the counts of
        each categorical column's categories and missing values."""
        self.rows += values.shape[0]
        for target, counts in zip(self.categories, categories, strict=True):
            for label, count in counts.items():
                target[label] = target.get(label, 0) + count
        self.categorical_missing += missing
        n = values.shape[0]
        if self.numeric == 0 or n == 0:
            return
        if n > self.capacity // 2:
            # A large batch is sorted on its own rather than copied through the buffer.
            self._flush()
            self._absorb(np.sort(values, axis=0))
            return
        if self.pending is None:
            self.pending = np.empty((self.capacity, self.numeric), order="F")
        if self.fill + n > self.capacity:
            self._flush()
            self.pending = np.empty((self.capacity, self.numeric), order="F")
        assert self.pending is not None
        self.pending[self.fill : self.fill + n] = values
        self.fill += n

    def _flush(self) -> None:
        if self.pending is not None and self.fill:
            block = self.pending[: self.fill]
            block.sort(axis=0)
            self._absorb(block)
        self.pending, self.fill = None, 0

    def _absorb(self, ordered: FloatArray) -> None:
        """Count and sketch rows sorted per column (NaN last, infinities at the ends)."""
        state: list[Sample] = []
        cuts = np.empty(self.bins.shape[1] + 1, dtype=np.int64)
        for j in range(self.numeric):
            column = ordered[:, j]
            nan = int(np.count_nonzero(np.isnan(column)))
            present = column[: column.size - nan] if nan else column
            lo = int(np.searchsorted(present, -np.inf, side="right"))
            hi = int(np.searchsorted(present, np.inf, side="left"))
            finite = present[lo:hi]
            self.missing[j] += nan
            self.infinite[j] += present.size - finite.size
            if finite.size:
                self.low[j] = min(self.low[j], finite[0])
                self.high[j] = max(self.high[j], finite[-1])
                # "edges <= value" counts a value into the bin above an edge, as compare() does.
                cuts[0], cuts[-1] = 0, finite.size
                cuts[1:-1] = np.searchsorted(finite, self.edges[j], side="left")
                self.bins[j] += np.diff(cuts)
            if finite.size > self.size:
                state.append((compress_sorted(finite, self.size), finite.size, 0.5 / self.size))
            else:
                state.append((finite.copy(), finite.size, 0.0))
        level = 0
        while self.levels and self.levels[-1][0] == level:
            _, previous = self.levels.pop()
            state = [merge_samples(a, b, self.size) for a, b in zip(previous, state, strict=True)]
            level += 1
        self.levels.append((level, state))

    def seal(self) -> None:
        """Sketch what is buffered and free the buffer (the step takes no more rows)."""
        self._flush()
        if len(self.levels) > 1:
            self.levels = [(0, self.samples()[0])]

    def samples(self) -> tuple[list[Sample], IntArray, IntArray, IntArray]:
        """One sample per numeric column of every row added so far, with the bin, missing and
        infinite counts (buffered rows included, without changing the state)."""
        parts: list[list[Sample]] = [list(state) for _, state in self.levels]
        bins, missing, infinite = self.bins, self.missing, self.infinite
        if self.pending is not None and self.fill:
            ordered = np.sort(self.pending[: self.fill], axis=0)
            extra = Step(self.edges, 0, self.size, self.capacity)
            extra._absorb(ordered)
            parts.append(extra.levels[0][1])
            bins, missing = bins + extra.bins, missing + extra.missing
            infinite = infinite + extra.infinite
        merged = [merge_many([p[j] for p in parts], self.size) for j in range(self.numeric)]
        return merged, bins, missing, infinite

    def state(self) -> tuple[dict[str, Any], dict[str, FloatArray]]:
        """The step as JSON fields and arrays, for :meth:`restore`."""
        arrays: dict[str, FloatArray] = {}
        levels = []
        for i, (level, samples) in enumerate(self.levels):
            for j, (points, _, _) in enumerate(samples):
                arrays[f"l{i}c{j}"] = points
            levels.append(
                {
                    "level": level,
                    "counts": [s[1] for s in samples],
                    "errors": [s[2] for s in samples],
                }
            )
        if self.pending is not None and self.fill:
            arrays["pending"] = self.pending[: self.fill].copy()
        fields = {
            "rows": self.rows,
            "levels": levels,
            "bins": self.bins.tolist(),
            "missing": self.missing.tolist(),
            "infinite": self.infinite.tolist(),
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "categories": self.categories,
            "categorical_missing": self.categorical_missing.tolist(),
        }
        return fields, arrays

    @classmethod
    def restore(
        cls,
        edges: FloatArray,
        size: int,
        buffer: int,
        fields: dict[str, Any],
        arrays: dict[str, FloatArray],
    ) -> Step:
        step = cls(edges, len(fields["categories"]), size, buffer)
        step.rows = int(fields["rows"])
        for i, level in enumerate(fields["levels"]):
            samples = [
                (np.asarray(arrays[f"l{i}c{j}"], dtype=np.float64), int(n), float(e))
                for j, (n, e) in enumerate(zip(level["counts"], level["errors"], strict=True))
            ]
            step.levels.append((int(level["level"]), samples))
        step.bins = np.asarray(fields["bins"], dtype=np.int64).reshape(step.bins.shape)
        step.missing = np.asarray(fields["missing"], dtype=np.int64)
        step.infinite = np.asarray(fields["infinite"], dtype=np.int64)
        step.low = np.asarray(fields["low"], dtype=np.float64)
        step.high = np.asarray(fields["high"], dtype=np.float64)
        step.categories = [{str(k): int(v) for k, v in c.items()} for c in fields["categories"]]
        step.categorical_missing = np.asarray(fields["categorical_missing"], dtype=np.int64)
        if "pending" in arrays:
            pending = np.asarray(arrays["pending"], dtype=np.float64)
            step.pending = np.empty((max(buffer, pending.shape[0]), step.numeric))
            step.pending[: pending.shape[0]] = pending
            step.fill = pending.shape[0]
        return step
