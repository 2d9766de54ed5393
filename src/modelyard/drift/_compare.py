"""compare(): reference profile or data against current data, into a DriftReport."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._binning import count_below
from modelyard.drift._columns import NUMERIC_KINDS, Frame, check_numeric, to_frame
from modelyard.drift._comparison_bins import BinCounts, comparison_bins
from modelyard.drift._config import (
    CATEGORICAL_STATISTICS,
    NUMERIC_STATISTICS,
    TESTS,
    DriftConfig,
    Statistic,
    resolve_config,
)
from modelyard.drift._current_profile import CurrentSide, profile_frame
from modelyard.drift._ecdf import EcdfDistances, ecdf_distances
from modelyard.drift._ks_pvalue import ks_pvalue
from modelyard.drift._profile import DriftProfile, profile
from modelyard.drift._report import (
    ColumnDrift,
    ColumnVerdict,
    DriftReport,
    StatisticResult,
    Verdict,
)
from modelyard.drift._statistics import STATISTICS, SortedInputs
from modelyard.drift._verdicts import adjust_p_values
from modelyard.drift._warnings import DriftWarning
from modelyard.errors import ColumnMismatchError, ColumnTypeError, DriftInputError, EmptyDataError

__all__ = ["compare"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
StatsArg = Sequence[str] | Mapping[str, Sequence[str]] | None

#: Statistics measured on bin counts; the others need the sorted values.
_BINNED = frozenset(name for name, spec in STATISTICS.items() if spec.source == "bins")


@dataclass
class _Numbers:
    """Per-statistic arrays for a block of columns: value, p-value, score."""

    value: dict[str, FloatArray]
    p_value: dict[str, FloatArray]
    score: dict[str, FloatArray]

    def as_lists(self) -> _Numbers:
        """The same numbers as Python lists, which are quicker to read one at a time."""
        return _Numbers(
            *(
                {k: v.tolist() for k, v in part.items()}
                for part in (self.value, self.p_value, self.score)
            )
        )


def _plan(
    stats: StatsArg, names: Sequence[str], kinds: Sequence[str], config: DriftConfig
) -> dict[str, tuple[Statistic, ...]]:
    plan: dict[str, tuple[Statistic, ...]] = {}
    for name, kind in zip(names, kinds, strict=True):
        numeric = kind in NUMERIC_KINDS
        allowed = NUMERIC_STATISTICS if numeric else CATEGORICAL_STATISTICS
        default = config.numeric_stats if numeric else config.categorical_stats
        if stats is None:
            chosen: Sequence[str] = default
        elif isinstance(stats, Mapping):
            chosen = stats.get(name, default)
            wrong = [s for s in chosen if s not in allowed]
            if wrong:
                raise ColumnTypeError(
                    f"column {name!r} is {kind}, so {wrong} cannot be computed on it; "
                    f"{kind} columns allow {list(allowed)}",
                    column=name,
                    statistics=wrong,
                )
        else:
            unknown = [s for s in stats if s not in STATISTICS]
            if unknown:
                raise DriftInputError(
                    f"unknown statistics {unknown}; choose from {', '.join(STATISTICS)}"
                )
            chosen = [s for s in stats if s in allowed]
        plan[name] = tuple(chosen)  # type: ignore[arg-type]
    if isinstance(stats, Mapping):
        unknown_columns = [c for c in stats if c not in plan]
        if unknown_columns:
            raise ColumnMismatchError(
                f"stats= names columns {unknown_columns} that are not compared",
                missing=unknown_columns,
                unexpected=[],
            )
    return plan


def _selected(prof: DriftProfile, columns: Sequence[str] | None) -> tuple[str, ...]:
    """The profile's columns named in ``columns`` (all without it), in the profile's order."""
    if columns is None:
        return prof.columns
    absent = [c for c in columns if c not in prof.columns]
    if absent:
        raise ColumnMismatchError(
            f"columns {absent} are not in the reference profile", missing=absent, unexpected=[]
        )
    return tuple(c for c in prof.columns if c in set(columns))


def _optional(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _binned(
    numbers: _Numbers,
    wanted: set[str],
    ref_counts: NDArray[Any],
    cur_counts: NDArray[Any],
    config: DriftConfig,
) -> None:
    """Every wanted statistic measured on bin (or category) counts, into ``numbers``."""
    for name, spec in STATISTICS.items():
        if name in wanted and spec.source == "bins":
            measured = spec.measure_bins(ref_counts, cur_counts, config)
            numbers.value[name], numbers.p_value[name], numbers.score[name] = measured


def _used_bins(ref_counts: NDArray[Any], cur_counts: NDArray[Any]) -> IntArray:
    """Bins (or categories) non-empty on at least one side, per column."""
    return np.asarray(((ref_counts > 0) | (cur_counts > 0)).sum(axis=1), dtype=np.int64)


def _binned_by_width(
    numbers: _Numbers,
    wanted: set[str],
    ref_counts: NDArray[Any],
    cur_counts: NDArray[Any],
    widths: IntArray | None,
    config: DriftConfig,
) -> None:
    """Binned statistics on columns grouped by their own number of bins (no padding), or all
    at once when every column has the same bins (``widths`` None)."""
    if widths is None:
        _binned(numbers, wanted, ref_counts, cur_counts, config)
        return
    columns = ref_counts.shape[0]
    for width in np.unique(widths):
        group = np.nonzero(widths == width)[0]
        part = _Numbers({}, {}, {})
        _binned(part, wanted, ref_counts[group, :width], cur_counts[group, :width], config)
        for whole, piece in zip(
            (numbers.value, numbers.p_value, numbers.score),
            (part.value, part.p_value, part.score),
            strict=True,
        ):
            for key, values in piece.items():
                whole.setdefault(key, np.full(columns, np.nan))[group] = values


def _sorted(numbers: _Numbers, wanted: set[str], inputs: SortedInputs, config: DriftConfig) -> None:
    """Every wanted statistic measured from the ECDF pass, into ``numbers``."""
    for name, spec in STATISTICS.items():
        if name in wanted and spec.source == "sorted":
            measured = spec.measure_sorted(inputs, config)
            numbers.value[name], numbers.p_value[name], numbers.score[name] = measured


def _numeric_block(
    prof: DriftProfile,
    index: IntArray,
    frame: Frame,
    wanted: set[str],
    config: DriftConfig,
    workers: int | None,
    side: CurrentSide | None = None,
) -> tuple[_Numbers, BinCounts, Frame]:
    """The numeric statistics of ``frame``, both sides' bin counts, and the frame with its NaN
    and infinities counted."""
    numbers = _Numbers({}, {}, {})
    bins = comparison_bins(config)
    whole = index.size == len(prof.numeric_columns) and np.array_equal(index, np.arange(index.size))
    sorted_path = not wanted <= _BINNED
    edges = prof.edges if whole else prof.edges[index]
    if side is not None:
        return _profile_block(prof, index, frame, side, wanted, config, workers)
    if not sorted_path and bins.shared and not frame.numeric_checked:
        # Binned statistics alone: one pass counts the bins, the NaN and the infinities together.
        tally = count_below(frame.numeric, edges, workers=workers)
        frame = replace(
            frame,
            numeric_missing=tally.nan,
            numeric_infinite=tally.infinite,
            numeric_checked=True,
        )
        found = tally.counts(finite_only=True)
        counts = bins.counts(prof, index, frame.numeric, frame.numeric_counts, found)
        _binned(numbers, wanted, counts.reference, counts.current, config)
        return numbers, counts, frame
    frame = check_numeric(frame)
    current = frame.numeric
    distances = None
    if sorted_path:
        distances = ecdf_distances(
            prof.sample if whole else prof.sample[:, index],
            prof.sample_counts[index],
            current,
            frame.numeric_counts,
            current_is_sorted=False,
            workers=workers,
            edges=edges if bins.shared else None,
        )
    # Bin counts feed the binned statistics and the report's charts; the sorted path gets
    # them by binary search, otherwise they take a counting pass.
    counts = bins.counts(
        prof,
        index,
        current,
        frame.numeric_counts,
        None if distances is None else distances.current_bin_counts,
        workers,
    )
    _binned_by_width(numbers, wanted, counts.reference, counts.current, counts.widths, config)
    if distances is not None:
        _sorted_from(numbers, wanted, prof, index, frame, distances, config, workers, exact=True)
    return numbers, counts, frame


def _profile_block(
    prof: DriftProfile,
    index: IntArray,
    frame: Frame,
    side: CurrentSide,
    wanted: set[str],
    config: DriftConfig,
    workers: int | None,
) -> tuple[_Numbers, BinCounts, Frame]:
    """:func:`_numeric_block` for a current profile: its sorted sample stands in for the values,
    and its bin counts (taken on the reference's edges) are used as they are."""
    numbers = _Numbers({}, {}, {})
    bins = comparison_bins(config)
    if not side.exact and (not bins.shared or config.ks_method == "scipy"):
        raise DriftInputError(
            "this configuration needs every current value (it bins both samples together, or "
            "runs scipy's KS test); profile the current data with sample_size=None"
        )
    current = frame.numeric
    counts = bins.counts(
        prof,
        index,
        current,
        frame.numeric_counts,
        side.bin_counts if bins.shared else None,
        workers,
    )
    _binned_by_width(numbers, wanted, counts.reference, counts.current, counts.widths, config)
    if not wanted <= _BINNED:
        distances = ecdf_distances(
            prof.sample[:, index],
            prof.sample_counts[index],
            current,
            side.sample_counts,
            current_is_sorted=True,
            workers=workers,
        )
        _sorted_from(
            numbers, wanted, prof, index, frame, distances, config, workers, exact=side.exact
        )
    return numbers, counts, frame


def _sorted_from(
    numbers: _Numbers,
    wanted: set[str],
    prof: DriftProfile,
    index: IntArray,
    frame: Frame,
    distances: EcdfDistances,
    config: DriftConfig,
    workers: int | None,
    *,
    exact: bool,
) -> None:
    """KS (with its p-value) and Wasserstein from the ECDF distances of a block of columns.
    ``exact`` says whether the current side holds every value (data, or an exact profile): the
    exact KS p-value's integer numerator is used only when both sides hold every value."""
    ref_n = prof.counts[index]
    exact_sample = np.array_equal(prof.sample_counts[index], ref_n)
    if config.ks_method == "scipy":
        ks_p = _scipy_ks(prof, index, frame.numeric, exact_sample)
    else:
        ks_p = ks_pvalue(
            distances.ks,
            ref_n,
            frame.numeric_counts,
            method=config.ks_method,
            numerator=distances.ks_numerator if exact_sample and exact else None,
            workers=workers,
        )
    inputs = SortedInputs(distances.ks, distances.wasserstein, ks_p, prof.std[index])
    _sorted(numbers, wanted, inputs, config)


def _scipy_ks(
    prof: DriftProfile, index: IntArray, current: FloatArray, exact_sample: bool
) -> FloatArray:
    from scipy import stats

    if not exact_sample:
        raise DriftInputError(
            "ks_method='scipy' needs the full reference sample; profile with sample_size=None"
        )
    out = np.full(index.size, np.nan)
    for i, column in enumerate(index):
        ref = prof.sample[: prof.counts[column], column]
        cur = current[:, i][~np.isnan(current[:, i])]
        if ref.size and cur.size:
            out[i] = stats.ks_2samp(ref, cur).pvalue
    return out


def _categorical_block(
    prof: DriftProfile, index: Sequence[int], frame: Frame, wanted: set[str], config: DriftConfig
) -> tuple[_Numbers, list[tuple[str, ...]], IntArray, IntArray]:
    labels: list[tuple[str, ...]] = []
    for position, column in enumerate(index):
        known = prof.categories[column]
        unseen = sorted(set(frame.categorical[position]) - set(known))
        labels.append((*known, *unseen))
    width = max((len(x) for x in labels), default=0) or 1
    ref = np.zeros((len(index), width), dtype=np.int64)
    cur = np.zeros((len(index), width), dtype=np.int64)
    for position, column in enumerate(index):
        known_counts = prof.category_counts[column]
        ref[position, : known_counts.size] = known_counts
        counts = frame.categorical[position]
        cur[position, : len(labels[position])] = [counts.get(x, 0) for x in labels[position]]
    numbers = _Numbers({}, {}, {})
    # Conventions that smooth empty bins must not see the padding of shorter columns.
    widths = None if config.drop_empty_bins else np.array([len(x) for x in labels], np.int64)
    _binned_by_width(numbers, wanted, ref, cur, widths, config)
    return numbers, labels, ref, cur


def _share_rows(counts: IntArray) -> list[list[float]]:
    """Each row's counts as shares of the row's total (all 0.0 for an empty row)."""
    totals = counts.sum(axis=1, keepdims=True).astype(np.float64)
    return (counts / np.where(totals > 0, totals, 1.0)).tolist()  # type: ignore[no-any-return]


def compare(
    reference: DriftProfile | object,
    current: object,
    *,
    stats: StatsArg = None,
    thresholds: Mapping[str, float] | None = None,
    columns: Sequence[str] | None = None,
    config: DriftConfig | str | None = None,
    categorical: Sequence[str] | None = None,
    workers: int | None = None,
) -> DriftReport:
    """Compare current data with a reference profile (or reference data) column by column.

    Args:
        reference: a :class:`DriftProfile`, or data accepted by :func:`profile` (profiled here
            with the configuration's ``bins`` and ``binning``).
        current: the data to check: a DataFrame, pyarrow Table, 2-D NumPy array or mapping; or
            a :class:`DriftProfile` of it made with ``profile(data, kinds=reference)`` (as
            engines that profile partitions produce). An exact current profile gives the same
            report as the data; a sketched one the same binned statistics (PSI, KL, JS,
            chi-square) and KS and Wasserstein within the two profiles' ``rank_error``.
        stats: which statistics to compute: a list applied to every column where it applies
            (``psi``, ``kl``, ``js`` everywhere; ``ks``, ``wasserstein`` numeric only; ``chi2``
            categorical only), or a mapping of column name to list. Defaults: all five numeric
            statistics, and PSI, chi-square, KL and JS for categorical columns.
        thresholds: per-statistic thresholds overriding the configuration's (p-value level for
            ``ks``/``chi2``, distance for the others).
        columns: compare only these columns; without it both sides must have the same columns.
        config: a :class:`DriftConfig` or a preset name (``"modelyard"``, ``"evidently"``,
            ``"nannyml"``).
        categorical: with reference data, columns to treat as categorical.
        workers: threads for the sorting, searching and p-values behind KS and Wasserstein
            (default ``None``: one per usable CPU, at most 4; ``1`` runs on the calling thread
            alone). The report does not depend on it.

    Raises:
        ColumnMismatchError: a column present on one side only.
        EmptyDataError: the current data has no rows.
        ColumnTypeError: a statistic asked of a column of the wrong kind, or a column whose type
            changed (e.g. strings where the reference had numbers).

    Example:
        >>> import pandas as pd
        >>> import modelyard.drift as drift
        >>> ref = pd.DataFrame({"x": range(100), "c": ["a", "b"] * 50})
        >>> cur = pd.DataFrame({"x": range(50, 150), "c": ["a", "b", "b", "z"] * 25})
        >>> report = drift.compare(ref, cur)
        >>> report.drifted
        ['x', 'c']
        >>> report.column("c").statistic("chi2").p_value < 0.05
        True
    """
    cfg = resolve_config(config)
    if thresholds:
        merged = {**cfg.thresholds, **thresholds}
        cfg = DriftConfig(**{**cfg.model_dump(), "thresholds": merged})
    if isinstance(reference, DriftProfile):
        prof = reference
    else:
        binning = comparison_bins(cfg).profile_binning(cfg)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DriftWarning)
            prof = profile(
                reference,
                bins=cfg.bins,
                binning=binning,
                categorical=categorical,
                columns=columns,
                workers=workers,
            )
    names = _selected(prof, columns)
    kinds = tuple(prof.column_kinds[n] for n in names)
    if isinstance(current, DriftProfile):
        frame, side = profile_frame(prof, current, names, kinds)
        plan = _plan(stats, names, kinds, cfg)
        return _assemble(prof, frame, plan, cfg, workers, side)
    frame = to_frame(
        current,
        names=names,
        kinds=kinds,
        columns=None if columns is None else names,
        check_values=False,
    )
    if frame.rows == 0:
        raise EmptyDataError("the current data has no rows; there is nothing to compare")
    plan = _plan(stats, names, kinds, cfg)
    return _assemble(prof, frame, plan, cfg, workers)


@dataclass
class _Block:
    """The statistics of one kind of column (numeric or categorical), before the verdicts."""

    names: tuple[str, ...]
    numbers: _Numbers
    reference_n: IntArray
    current_n: IntArray
    bins: IntArray
    adjusted: dict[str, FloatArray]
    shortfall: dict[str, list[str]]


def _shortfalls(block: _Block, wanted: set[str], cfg: DriftConfig) -> None:
    """Why each statistic of each column has too little data to judge ("" if enough)."""
    smaller = np.minimum(block.reference_n, block.current_n)
    per_bin = smaller / np.maximum(block.bins, 1)
    binned = [
        f"insufficient data: {x:.3g} values per bin on the smaller side, "
        f"fewer than {cfg.min_expected:g}"
        if cfg.rule == "tested" and 0 < x < cfg.min_expected
        else ""
        for x in per_bin.tolist()
    ]
    sorted_based = [
        f"insufficient data: {x} values on the smaller side, fewer than {cfg.min_rows}"
        if cfg.rule == "tested" and 0 < x < cfg.min_rows
        else ""
        for x in smaller.tolist()
    ]
    for statistic in wanted:
        block.shortfall[statistic] = binned if statistic in _BINNED else sorted_based


def _adjust(blocks: list[_Block], plan: dict[str, tuple[Statistic, ...]], cfg: DriftConfig) -> None:
    """Adjust every usable p-value of the report together, as one family of tests."""
    slots: list[tuple[_Block, str, int]] = []
    values: list[float] = []
    for block in blocks:
        for statistic, p_values in block.numbers.p_value.items():
            block.adjusted[statistic] = np.full(len(block.names), np.nan)
            short = block.shortfall.get(statistic)
            for i, name in enumerate(block.names):
                usable = statistic in plan[name] and short is not None and not short[i]
                if usable and block.reference_n[i] > 0 and block.current_n[i] > 0:
                    p = float(p_values[i])
                    if not math.isnan(p):
                        slots.append((block, statistic, i))
                        values.append(p)
    adjusted = adjust_p_values(np.array(values), cfg.correction).tolist() if values else []
    for (block, statistic, i), p in zip(slots, adjusted, strict=True):
        block.adjusted[statistic][i] = p


@dataclass(frozen=True)
class _Side:
    """What one side holds of a column: values, missing values, rows, infinities."""

    count: int
    missing: int
    rows: int
    infinite: int = 0

    @property
    def missing_rate(self) -> float:
        return self.missing / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class _ColumnFacts:
    """Everything a report says about a column besides its statistics."""

    name: str
    kind: str
    reference: _Side
    current: _Side
    rank_error: float = 0.0
    notes: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    reference_shares: tuple[float, ...] = ()
    current_shares: tuple[float, ...] = ()


def _assemble(
    prof: DriftProfile,
    frame: Frame,
    plan: dict[str, tuple[Statistic, ...]],
    cfg: DriftConfig,
    workers: int | None,
    side: CurrentSide | None = None,
) -> DriftReport:
    numeric_names = frame.numeric_names
    categorical_names = frame.categorical_names
    numeric_index = np.array([prof._numeric_index[n] for n in numeric_names], dtype=np.int64)
    categorical_index = [prof._categorical_index[n] for n in categorical_names]
    kind_of = dict(zip(frame.names, frame.kinds, strict=True))
    entries: dict[str, ColumnDrift] = {}
    blocks: list[_Block] = []
    if numeric_names:
        wanted: set[str] = {s for n in numeric_names for s in plan[n]}
        numbers, counts, frame = _numeric_block(
            prof, numeric_index, frame, wanted, cfg, workers, side
        )
        numeric = _Block(
            tuple(numeric_names),
            numbers,
            prof.counts[numeric_index],
            frame.numeric_counts,
            _used_bins(counts.reference, counts.current),
            {},
            {},
        )
        _shortfalls(numeric, wanted, cfg)
        blocks.append(numeric)
    if categorical_names:
        wanted = {s for n in categorical_names for s in plan[n]}
        cat_numbers, labels_list, ref, cur = _categorical_block(
            prof, categorical_index, frame, wanted, cfg
        )
        categorical = _Block(
            tuple(categorical_names),
            cat_numbers,
            ref.sum(axis=1),
            cur.sum(axis=1),
            _used_bins(ref, cur),
            {},
            {},
        )
        _shortfalls(categorical, wanted, cfg)
        blocks.append(categorical)
    _adjust(blocks, plan, cfg)
    if numeric_names:
        # Everything per column is turned into Python numbers at once, not value by value.
        values = numbers.as_lists()
        adjusted = {k: v.tolist() for k, v in numeric.adjusted.items()}
        facts_of = _numeric_facts(prof, numeric_index, frame, counts, cfg, side)
        for i, facts in enumerate(facts_of):
            results = _results(plan[facts.name], values, adjusted, numeric.shortfall, i, cfg)
            entries[facts.name] = _entry(facts, results, cfg)
    if categorical_names:
        cat_values = cat_numbers.as_lists()
        adjusted = {k: v.tolist() for k, v in categorical.adjusted.items()}
        facts_list = _categorical_facts(prof, categorical_index, frame, labels_list, ref, cur)
        for i, facts in enumerate(facts_list):
            short = categorical.shortfall
            results = _results(plan[facts.name], cat_values, adjusted, short, i, cfg)
            entries[facts.name] = _entry(replace(facts, kind=kind_of[facts.name]), results, cfg)
    for entry in entries.values():
        for note in entry.warnings:
            warnings.warn(note, DriftWarning, stacklevel=4)
    return DriftReport(
        columns=tuple(entries[n] for n in frame.names),
        config=cfg,
        reference_rows=prof.rows,
        current_rows=frame.rows,
    )


def _numeric_facts(
    prof: DriftProfile,
    index: IntArray,
    frame: Frame,
    counts: BinCounts,
    cfg: DriftConfig,
    side: CurrentSide | None = None,
) -> list[_ColumnFacts]:
    kind_of = dict(zip(frame.names, frame.kinds, strict=True))
    bins = comparison_bins(cfg)
    keep = (counts.reference > 0) | (counts.current > 0)
    keep[:, :1] = True
    ref_shares, cur_shares = _share_rows(counts.reference), _share_rows(counts.current)
    ref_n, ref_missing, ref_infinite = (
        prof.counts[index].tolist(),
        prof.missing[index].tolist(),
        prof.infinite[index].tolist(),
    )
    cur_n, cur_missing, cur_infinite = (
        frame.numeric_counts.tolist(),
        frame.numeric_missing.tolist(),
        frame.numeric_infinite.tolist(),
    )
    constant = (prof.minimum[index] == prof.maximum[index]).tolist()
    # A sketched current side adds its own error to the bound on KS.
    error = prof.rank_error[index] if side is None else prof.rank_error[index] + side.rank_error
    rank_error = error.tolist()
    facts = []
    for i, name in enumerate(frame.numeric_names):
        kept = keep[i].tolist()
        facts.append(
            _ColumnFacts(
                name,
                kind_of[name],
                _Side(ref_n[i], ref_missing[i], prof.rows, ref_infinite[i]),
                _Side(cur_n[i], cur_missing[i], frame.rows, cur_infinite[i]),
                rank_error=rank_error[i],
                notes=_notes(name, ref_n[i], cur_n[i], constant=constant[i]),
                labels=tuple(
                    itertools.compress(bins.labels(prof, name, counts.reference.shape[1]), kept)
                ),
                reference_shares=tuple(itertools.compress(ref_shares[i], kept)),
                current_shares=tuple(itertools.compress(cur_shares[i], kept)),
            )
        )
    return facts


def _categorical_facts(
    prof: DriftProfile,
    index: Sequence[int],
    frame: Frame,
    labels: list[tuple[str, ...]],
    ref: IntArray,
    cur: IntArray,
) -> list[_ColumnFacts]:
    # Padding beyond a column's own categories is zero, so it leaves the shares unchanged.
    ref_shares, cur_shares = _share_rows(ref), _share_rows(cur)
    facts = []
    for i, name in enumerate(frame.categorical_names):
        column = index[i]
        ref_n = int(prof.category_counts[column].sum())
        cur_n = int(cur[i].sum())
        width = len(labels[i])
        # Keep the chart readable: the 12 most frequent categories.
        top = np.argsort(-(ref[i, :width] + cur[i, :width]), kind="stable")[:12]
        facts.append(
            _ColumnFacts(
                name,
                "categorical",
                _Side(ref_n, int(prof.categorical_missing[column]), prof.rows),
                _Side(cur_n, int(frame.categorical_missing[i]), frame.rows),
                notes=_notes(name, ref_n, cur_n, constant=len(prof.categories[column]) == 1),
                labels=tuple(labels[i][j] for j in top),
                reference_shares=tuple(ref_shares[i][j] for j in top),
                current_shares=tuple(cur_shares[i][j] for j in top),
            )
        )
    return facts


def _notes(name: str, ref_n: int, cur_n: int, *, constant: bool) -> tuple[str, ...]:
    notes = []
    if ref_n == 0:
        notes.append(f"column {name!r} has no values in the reference; statistics undefined")
    if cur_n == 0:
        notes.append(f"column {name!r} has no values in the current data; statistics undefined")
    if constant and ref_n > 0:
        notes.append(f"column {name!r} is constant in the reference")
    return tuple(notes)


def _num(x: float) -> str:
    return f"{x:.3g}"


def _threshold_verdict(statistic: str, score: float, cfg: DriftConfig) -> tuple[Verdict, str]:
    """The effect (or, for the tests, the p-value) against the threshold alone."""
    threshold = cfg.thresholds[statistic]
    if statistic in TESTS:
        if score < threshold:
            return "drift", f"p {_num(score)} < {_num(threshold)}"
        return "stable", f"p {_num(score)} >= {_num(threshold)}"
    if score >= threshold:
        return "drift", f"{_num(score)} >= {_num(threshold)}"
    if statistic == "psi" and score >= cfg.psi_warning:
        return "warning", f"{_num(score)} >= warning level {_num(cfg.psi_warning)}"
    return "stable", f"{_num(score)} < {_num(threshold)}"


def _tested_verdict(
    statistic: str, score: float, adjusted: float, cfg: DriftConfig
) -> tuple[Verdict, str]:
    """Significant after correction and, for the distances, an effect reaching the threshold."""
    if math.isnan(adjusted):
        return "undefined", "no p-value"
    significant = adjusted < cfg.alpha
    # A p-value of 0 is one below the smallest double, not certainty.
    p_text = f"adjusted p {_num(adjusted)}" if adjusted > 0 else "adjusted p < 1e-300"
    if statistic in TESTS:
        if significant:
            return "drift", f"{p_text} < {_num(cfg.alpha)}"
        return "stable", f"not significant: {p_text} >= {_num(cfg.alpha)}"
    if not significant:
        return "stable", f"not significant: {p_text} >= {_num(cfg.alpha)}"
    threshold = cfg.thresholds[statistic]
    if score >= threshold:
        return "drift", f"significant ({p_text}) and {_num(score)} >= {_num(threshold)}"
    if statistic == "psi" and score >= cfg.psi_warning:
        return "warning", (
            f"significant ({p_text}) and {_num(score)} >= warning level {_num(cfg.psi_warning)}"
        )
    return "stable", f"significant ({p_text}) but {_num(score)} < {_num(threshold)}: too small"


def _threshold(statistic: Statistic, cfg: DriftConfig) -> float:
    """What a statistic's score is compared with: under the tested rule, a test's adjusted
    p-value is compared with ``alpha``; otherwise the statistic's own threshold."""
    return cfg.alpha if cfg.rule == "tested" and statistic in TESTS else cfg.thresholds[statistic]


def _results(
    chosen: tuple[Statistic, ...],
    numbers: _Numbers,
    adjusted: dict[str, list[float]],
    shortfall: dict[str, list[str]],
    i: int,
    cfg: DriftConfig,
) -> tuple[StatisticResult, ...]:
    """The statistics of column ``i`` of a block, each with its verdict and the reason for it."""
    results = []
    for statistic in chosen:
        value = float(numbers.value[statistic][i])
        raw_p = numbers.p_value.get(statistic)
        p = float("nan") if raw_p is None else float(raw_p[i])
        p_adj = float(adjusted[statistic][i]) if statistic in adjusted else float("nan")
        score = float(numbers.score[statistic][i])
        short = shortfall[statistic][i]
        verdict: Verdict
        if math.isnan(score):
            verdict, reason = "undefined", "no values on one side"
        elif short:
            verdict, reason = "insufficient data", short
        elif cfg.rule == "threshold":
            verdict, reason = _threshold_verdict(statistic, score, cfg)
        else:
            verdict, reason = _tested_verdict(statistic, score, p_adj, cfg)
        results.append(
            StatisticResult(
                statistic=statistic,
                value=_optional(value),
                p_value=_optional(p),
                adjusted_p_value=_optional(p_adj),
                score=_optional(score),
                threshold=_threshold(statistic, cfg),
                verdict=verdict,
                reason=reason,
            )
        )
    return tuple(results)


def _column_verdict(
    results: tuple[StatisticResult, ...], cfg: DriftConfig
) -> tuple[ColumnVerdict, str]:
    deciding = [r for r in results if cfg.decisive is None or r.statistic in cfg.decisive] or list(
        results
    )
    drifting = [r for r in deciding if r.drifted]
    if drifting:
        return "drift", "; ".join(f"{r.statistic}: {r.reason}" for r in drifting)
    judged = [r for r in deciding if r.verdict not in ("undefined", "insufficient data")]
    if not judged:
        short = [r for r in deciding if r.verdict == "insufficient data"]
        if short:
            return "insufficient data", "; ".join(f"{r.statistic}: {r.reason}" for r in short)
        return "undefined", "no values on one side"
    # The statistic closest to a call says why there is none.
    closest = min(
        judged,
        key=lambda r: (
            r.verdict != "warning",
            1.0 if r.adjusted_p_value is None else r.adjusted_p_value,
        ),
    )
    return "stable", f"{closest.statistic}: {closest.reason}"


def _settled(
    results: tuple[StatisticResult, ...], reference_n: int, current_n: int, cfg: DriftConfig
) -> tuple[tuple[StatisticResult, ...], ColumnVerdict, str]:
    """A column's statistics (undefined when a side has no values) and its verdict."""
    if reference_n == 0 or current_n == 0:
        results = tuple(
            r.model_copy(
                update={
                    "value": None,
                    "p_value": None,
                    "adjusted_p_value": None,
                    "score": None,
                    "verdict": "undefined",
                    "reason": "no values on one side",
                }
            )
            for r in results
        )
    verdict, reason = _column_verdict(results, cfg)
    return results, verdict, reason


def _entry(
    facts: _ColumnFacts, results: tuple[StatisticResult, ...], cfg: DriftConfig
) -> ColumnDrift:
    results, verdict, reason = _settled(results, facts.reference.count, facts.current.count, cfg)
    return ColumnDrift(
        name=facts.name,
        kind=facts.kind,
        drifted=verdict == "drift",
        verdict=verdict,
        reason=reason,
        statistics=results,
        reference_count=facts.reference.count,
        current_count=facts.current.count,
        reference_missing=facts.reference.missing,
        current_missing=facts.current.missing,
        reference_missing_rate=facts.reference.missing_rate,
        current_missing_rate=facts.current.missing_rate,
        reference_infinite=facts.reference.infinite,
        current_infinite=facts.current.infinite,
        rank_error=facts.rank_error,
        warnings=facts.notes,
        bin_labels=facts.labels,
        reference_shares=facts.reference_shares,
        current_shares=facts.current_shares,
    )
