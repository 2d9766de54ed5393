"""monitor(): every window of the data against one reference, vectorised across windows."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np

from modelyard.drift._columns import Frame, is_arrow, to_frame, to_pandas
from modelyard.drift._compare import (
    StatsArg,
    _adjust,
    _Block,
    _categorical_block,
    _Numbers,
    _plan,
    _results,
    _selected,
    _settled,
    _shortfalls,
    _threshold,
    _used_bins,
)
from modelyard.drift._comparison_bins import comparison_bins
from modelyard.drift._config import DriftConfig, Statistic, resolve_config
from modelyard.drift._fitted import FittedThresholds, fit_bands, fitted_multiplier
from modelyard.drift._monitor_counts import NumericWindows, category_counts, numeric_windows
from modelyard.drift._monitor_models import (
    MultivariateMethod,
    check_estimate,
    check_multivariate,
    estimated_records,
    multivariate_records,
)
from modelyard.drift._monitoring import Monitoring, WindowColumn, WindowDrift, WindowVerdict
from modelyard.drift._performance import PerformanceResult
from modelyard.drift._performance import performance as realized
from modelyard.drift._performance_record import window_records
from modelyard.drift._profile import DriftProfile, profile
from modelyard.drift._quality import quality as check_quality
from modelyard.drift._quality import report_from_counts
from modelyard.drift._quality_report import QualityReport
from modelyard.drift._quality_windows import Categories, window_counts
from modelyard.drift._report import ColumnVerdict, StatisticResult
from modelyard.drift._shares import Shares, binned_shares, category_shares
from modelyard.drift._warnings import DriftWarning
from modelyard.drift._window_args import build_windows, window_bounds
from modelyard.drift._windows import Windows
from modelyard.drift._windows import windows as make_windows
from modelyard.errors import ColumnMismatchError, DriftInputError, EmptyDataError, InputError

__all__ = ["monitor"]


def _without(data: Any, column: str) -> Any:
    """``data`` without its time column (the profile does not describe it)."""
    if hasattr(data, "drop") and hasattr(data, "dtypes"):
        return data.drop(columns=[column])
    if hasattr(data, "drop_columns"):
        return data.drop_columns([column])
    if isinstance(data, Mapping):
        return {k: v for k, v in data.items() if k != column}
    return data


def _empty_column(
    name: str, kind: str, chosen: tuple[Statistic, ...], cfg: DriftConfig
) -> WindowColumn:
    reason = "the window has no rows"
    results = tuple(
        StatisticResult(
            statistic=s,
            value=None,
            score=None,
            threshold=_threshold(s, cfg),
            verdict="insufficient data",
            reason=reason,
        )
        for s in chosen
    )
    return WindowColumn(
        name=name,
        kind=kind,
        verdict="insufficient data",
        reason=reason,
        current_count=0,
        current_missing=0,
        statistics=results,
    )


def _column(
    name: str,
    kind: str,
    results: tuple[StatisticResult, ...],
    counts: tuple[int, int, int],
    cfg: DriftConfig,
    shares: Shares,
) -> WindowColumn:
    """A column's entry, with the verdict :func:`compare` gives it (``counts``: values in the
    reference, values and missing values in the window)."""
    results, verdict, reason = _settled(results, counts[0], counts[1], cfg)
    return WindowColumn(
        name=name,
        kind=kind,
        verdict=verdict,
        reason=reason,
        current_count=counts[1],
        current_missing=counts[2],
        statistics=results,
        bin_labels=shares[0],
        reference_shares=shares[1],
        current_shares=shares[2],
    )


def _window_verdict(columns: Sequence[WindowColumn]) -> WindowVerdict:
    verdicts: set[ColumnVerdict] = {c.verdict for c in columns}
    for verdict in ("drift", "stable", "insufficient data"):
        if verdict in verdicts:
            return verdict
    return "undefined"


def _as_lists(numbers: _Numbers, block: _Block) -> tuple[_Numbers, dict[str, list[float]]]:
    return numbers.as_lists(), {k: v.tolist() for k, v in block.adjusted.items()}


def _judge(
    prof: DriftProfile,
    frame: Frame,
    plan: dict[str, tuple[Statistic, ...]],
    cfg: DriftConfig,
    numeric: NumericWindows | None,
    categories: tuple[list[tuple[dict[str, int], ...]], Any] | None,
    windows: Windows,
) -> list[WindowDrift]:
    numeric_names = frame.numeric_names
    categorical_names = frame.categorical_names
    numeric_index = np.array([prof._numeric_index[n] for n in numeric_names], dtype=np.int64)
    categorical_index = [prof._categorical_index[n] for n in categorical_names]
    kind_of = dict(zip(frame.names, frame.kinds, strict=True))
    numeric_wanted: set[str] = {s for n in numeric_names for s in plan[n]}
    categorical_wanted: set[str] = {s for n in categorical_names for s in plan[n]}
    reference_n = prof.counts[numeric_index]
    starts, ends = window_bounds(windows)
    out: list[WindowDrift] = []
    for w in range(len(windows)):
        rows = int(windows.rows[w])
        entries: dict[str, WindowColumn] = {}
        if rows == 0:
            for name in frame.names:
                entries[name] = _empty_column(name, kind_of[name], plan[name], cfg)
        else:
            entries = _judge_window(
                prof,
                frame,
                plan,
                cfg,
                w,
                numeric,
                categories,
                (numeric_index, categorical_index),
                (numeric_wanted, categorical_wanted),
                reference_n,
            )
        columns = tuple(entries[n] for n in frame.names)
        out.append(
            WindowDrift(
                window=w,
                start=starts[w],
                end=ends[w],
                rows=rows,
                verdict=_window_verdict(columns) if rows else "insufficient data",
                columns=columns,
            )
        )
    return out


def _judge_window(
    prof: DriftProfile,
    frame: Frame,
    plan: dict[str, tuple[Statistic, ...]],
    cfg: DriftConfig,
    w: int,
    numeric: NumericWindows | None,
    categories: tuple[list[tuple[dict[str, int], ...]], Any] | None,
    index: tuple[Any, list[int]],
    wanted: tuple[set[str], set[str]],
    reference_n: Any,
) -> dict[str, WindowColumn]:
    """One window's verdicts, corrected as one family, exactly as :func:`compare` does."""
    numeric_names, categorical_names = frame.numeric_names, frame.categorical_names
    kind_of = dict(zip(frame.names, frame.kinds, strict=True))
    blocks: list[_Block] = []
    numeric_block = categorical_block = None
    category_labels: list[tuple[str, ...]] = []
    ref = cur = np.zeros((0, 0), dtype=np.int64)
    if numeric is not None and numeric_names:
        numeric_block = _Block(
            tuple(numeric_names),
            numeric.window(w),
            reference_n,
            numeric.finite[w],
            _used_bins(numeric.reference_counts, numeric.current_counts[w]),
            {},
            {},
        )
        _shortfalls(numeric_block, wanted[0], cfg)
        blocks.append(numeric_block)
    if categories is not None and categorical_names:
        current = replace(frame, categorical=categories[0][w])
        numbers, category_labels, ref, cur = _categorical_block(
            prof, index[1], current, wanted[1], cfg
        )
        categorical_block = _Block(
            tuple(categorical_names),
            numbers,
            ref.sum(axis=1),
            cur.sum(axis=1),
            _used_bins(ref, cur),
            {},
            {},
        )
        _shortfalls(categorical_block, wanted[1], cfg)
        blocks.append(categorical_block)
    _adjust(blocks, plan, cfg)
    entries: dict[str, WindowColumn] = {}
    if numeric_block is not None and numeric is not None:
        values, adjusted = _as_lists(numeric_block.numbers, numeric_block)
        ref_n = reference_n.tolist()
        cur_n = numeric.finite[w].tolist()
        missing = numeric.missing[w].tolist()
        window_counts = numeric.current_counts[w]
        for i, name in enumerate(numeric_names):
            results = _results(plan[name], values, adjusted, numeric_block.shortfall, i, cfg)
            shares = binned_shares(
                prof.bin_labels(name), numeric.reference_counts[i], window_counts[i]
            )
            entries[name] = _column(
                name, kind_of[name], results, (ref_n[i], cur_n[i], missing[i]), cfg, shares
            )
    if categorical_block is not None and categories is not None:
        values, adjusted = _as_lists(categorical_block.numbers, categorical_block)
        ref_n = categorical_block.reference_n.tolist()
        cur_n = categorical_block.current_n.tolist()
        missing = categories[1][w].tolist()
        for i, name in enumerate(categorical_names):
            results = _results(plan[name], values, adjusted, categorical_block.shortfall, i, cfg)
            shares = category_shares(category_labels[i], ref[i], cur[i])
            entries[name] = _column(
                name, kind_of[name], results, (ref_n[i], cur_n[i], missing[i]), cfg, shares
            )
    return entries


def monitor_config(
    config: DriftConfig | str | None, thresholds: Mapping[str, float] | None
) -> DriftConfig:
    """The config a monitor judges every window by, ``thresholds`` applied; refuses a config
    that bins each comparison over both samples, as windows share the reference's bins."""
    cfg = resolve_config(config)
    if thresholds:
        cfg = DriftConfig(**{**cfg.model_dump(), "thresholds": {**cfg.thresholds, **thresholds}})
    if not comparison_bins(cfg).shared:
        raise DriftInputError(
            f"config {cfg.name!r} bins each comparison over both samples, so every window would "
            "have bins of its own; monitor with reference bins ('modelyard' or 'nannyml'), or "
            "call compare() on each window"
        )
    return cfg


def monitor(
    reference: DriftProfile | object,
    data: object,
    *,
    time: object = None,
    every: object = None,
    step: object = None,
    rows: int | None = None,
    windows: Windows | None = None,
    anchor: Literal["calendar", "first"] = "calendar",
    stats: StatsArg = None,
    thresholds: Mapping[str, float] | None = None,
    columns: Sequence[str] | None = None,
    config: DriftConfig | str | None = None,
    categorical: Sequence[str] | None = None,
    quality: bool = False,
    prediction: str | None = None,
    label: str | None = None,
    task: Literal["classification", "regression"] = "classification",
    positive: object = None,
    labels: Any = None,
    id: str | None = None,
    metrics: Sequence[str] | None = None,
    reference_performance: PerformanceResult | None = None,
    fitted: bool | float = False,
    reference_windows: Windows | None = None,
    workers: int | None = None,
    multivariate: bool | MultivariateMethod = False,
    multivariate_options: Mapping[str, Any] | None = None,
    estimate: bool = False,
    estimate_options: Mapping[str, Any] | None = None,
) -> Monitoring:
    """Compare every window of ``data`` with one reference: drift over time.

    Each window is judged exactly as :func:`compare` would judge its rows (same statistics,
    p-values, multiple-testing correction over the window's own statistics, verdicts and
    reasons), but the work is shared across windows: one counting pass with window ids gives
    every window's bin and category counts, and KS and Wasserstein read each window's sorted
    segment of a column (one sort per column, by window and value).

    Args:
        reference: a :class:`DriftProfile`, or reference data (profiled here, as
            :func:`compare` does).
        data: the data to monitor: a DataFrame, pyarrow Table, 2-D NumPy array or mapping, with
            the reference's columns (and the time column, which is not compared).
        time: the name of the time column of ``data``, or the times themselves (one per row),
            for time windows.
        every: the windows' length, as in :func:`windows`.
        step: how far apart windows start (rolling windows when shorter than ``every``).
        anchor: the windows' alignment, as in :func:`windows`.
        rows: count windows of this many rows, in data order.
        windows: windows built already over ``data`` by :func:`windows`, instead of the above.
        stats: as in :func:`compare`.
        thresholds: as in :func:`compare`.
        columns: as in :func:`compare`.
        config: as in :func:`compare`.
        categorical: as in :func:`compare`.
        workers: as in :func:`compare`.
        quality: also check each window's data quality (:func:`quality` on its rows, with its
            defaults), into :attr:`WindowDrift.quality`. With ``prediction`` and ``label``,
            the label and ``id`` columns are left out (labels that have not arrived yet are
            not a data-quality problem) and so is any column the reference does not have.
        prediction: the column of the model's predictions, for realized performance per window
            (:func:`performance` over the same windows, into :attr:`WindowDrift.performance`).
            With ``label``; neither is drift-compared unless named in ``columns``.
        label: the column of true labels (in ``data``, or in ``labels``).
        task: as in :func:`performance`.
        positive: as in :func:`performance`.
        labels: labels that arrive later, joined by ``id``, as in :func:`performance`.
        id: the column joining ``labels`` to ``data``; not drift-compared unless named in
            ``columns``.
        metrics: as in :func:`performance`.
        reference_performance: the reference period's performance, from
            :func:`performance` on the reference data with no windows. Needed when
            ``reference`` is a profile (which holds no predictions); used instead of the
            reference data's columns when given.
        fitted: also fit a band per column and statistic from windows of the reference data
            (``True``: mean +- 3 standard deviations of the statistic over the reference
            windows; a number: that many), into :attr:`Monitoring.fitted`, reported beside the
            verdicts (:attr:`Monitoring.outside_fitted`). Needs the reference data.
        reference_windows: the reference data's windows for ``fitted``, from
            :func:`windows`; by default cut as the data's (``rows=``, or ``time=`` and
            ``every=`` when the reference has the time column).
        multivariate: also judge each window as a whole, into
            :attr:`WindowDrift.multivariate`: ``True`` or ``"both"`` for both methods of
            :func:`multivariate`, or ``"classifier"`` or ``"reconstruction"``. The columns are
            the drift-compared ones, the windows the monitor's; each record equals
            :func:`multivariate` on the same data and windows. Needs the reference data.
        multivariate_options: options of :func:`multivariate` (``alpha``,
            ``auc_threshold``, ``variance``, ``sigmas``, ``reference_rows``, ``min_rows``,
            ``max_rows``, ``folds``, ``trees``, ``seed``, ``top``), as a mapping.
        estimate: also estimate each window's performance from the scores alone, into
            :attr:`WindowDrift.estimated` (:func:`estimate_performance` on the same windows,
            calibrated on the reference's labels): the estimate for windows whose labels have
            not arrived, beside the realized performance where they have. Needs
            ``prediction`` (predicted probabilities of the positive class) and ``label``, a
            binary classification task and the reference data.
        estimate_options: options of :func:`estimate_performance` (``metrics``,
            ``threshold``, ``confidence``, ``calibrate``, ``reference_chunk_rows``,
            ``alert_sd``), as a mapping.

    A window with no rows has the verdict ``"insufficient data"`` for every column; with few
    rows, the statistics that lack data say so as in :func:`compare`.

    Raises:
        InputError: no way to cut windows, or contradictory window arguments.
        DriftInputError: ``config`` bins each comparison over both samples (the Evidently
            preset), which a monitor cannot share across windows.
        InputError: ``prediction`` without ``label`` or the other way round, or performance
            asked against a profile without ``reference_performance``; ``fitted`` with a
            profile, or with no way to cut the reference into windows.
        InputError: ``multivariate`` or ``estimate`` with a profile, an unknown option, or
            options without them; ``estimate`` without ``prediction`` and ``label``.
        ColumnMismatchError, ColumnTypeError, EmptyDataError: as :func:`compare`.

    Example:
        >>> import numpy as np
        >>> import pandas as pd
        >>> import modelyard.drift as drift
        >>> rng = np.random.default_rng(3)
        >>> live = pd.DataFrame({
        ...     "ts": pd.date_range("2026-05-01", periods=4 * 500, freq="172800ms"),
        ...     "x": np.r_[rng.normal(size=3 * 500), rng.normal(1.0, size=500)],
        ... })
        >>> result = drift.monitor(pd.DataFrame({"x": rng.normal(size=5000)}), live,
        ...                        time="ts", every="1D")
        >>> result.summary()[["window", "rows", "drifted", "verdict"]]
           window  rows  drifted verdict
        0       0   500        0  stable
        1       1   500        0  stable
        2       2   500        0  stable
        3       3   500        1   drift
        >>> result.alerts[0][:2]
        (3, 'x')
    """
    wants_performance = _check_performance(
        reference, prediction, label, labels, id, reference_performance
    )
    method, multivariate_args = check_multivariate(multivariate, multivariate_options, reference)
    estimate_args = check_estimate(estimate, estimate_options, reference, wants_performance, task)
    k = fitted_multiplier(fitted)
    if reference_windows is not None and k is None:
        raise InputError("reference_windows= serves fitted thresholds; pass fitted=True too")
    if k is not None and isinstance(reference, DriftProfile):
        raise InputError(
            "fitted thresholds cut the reference data into windows, and a profile holds no "
            "rows; pass the reference data itself instead of its profile"
        )
    cfg = monitor_config(config, thresholds)
    reference_cut = None
    if k is not None:
        reference_cut = _reference_windows(
            reference, time, every, step, rows, windows, anchor, reference_windows
        )
        if isinstance(time, str):
            # The time column cuts the reference into windows; it is not profiled.
            reference = _without(reference, time)
    if isinstance(reference, DriftProfile):
        prof = reference
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DriftWarning)
            prof = profile(
                reference,
                bins=cfg.bins,
                binning=comparison_bins(cfg).profile_binning(cfg),
                categorical=categorical,
                columns=columns,
                workers=workers,
            )
    length = _length(data)
    built = build_windows(data, length, time, every, step, rows, windows, anchor)
    estimated = None
    if estimate_args is not None:
        assert prediction is not None and label is not None
        estimated = estimated_records(
            reference, data, built, prediction, label, positive, estimate_args
        )
    realized_performance = None
    if wants_performance:
        assert prediction is not None and label is not None
        realized_performance = realized(
            data,
            prediction=prediction,
            label=label,
            windows=built,
            reference=reference if reference_performance is None else reference_performance,
            task=task,
            id=id,
            labels=labels,
            positive=positive,
            metrics=metrics,
        )
    if isinstance(time, str) and time not in prof.columns:
        data = _without(data, time)
    if columns is not None:
        names = _selected(prof, columns)
    elif wants_performance:
        model_columns = {prediction, label, id}
        names = tuple(c for c in prof.columns if c not in model_columns)
    else:
        names = prof.columns
    kinds = tuple(prof.column_kinds[n] for n in names)
    frame = to_frame(
        data,
        names=names,
        kinds=kinds,
        columns=None if columns is None and not wants_performance else names,
        check_values=False,
    )
    if frame.rows == 0:
        raise EmptyDataError("the data has no rows; there is nothing to monitor")
    plan = _plan(stats, names, kinds, cfg)
    records = None
    if method is not None:
        records = multivariate_records(reference, data, built, method, names, multivariate_args)
    numeric = categories = None
    if frame.numeric_names:
        index = np.array([prof._numeric_index[n] for n in frame.numeric_names], dtype=np.int64)
        wanted: set[str] = {s for n in frame.numeric_names for s in plan[n]}
        numeric = numeric_windows(prof, index, frame.numeric, built, wanted, cfg, workers)
    if frame.categorical_names:
        table = to_pandas(data) if not isinstance(data, np.ndarray) else None
        if table is None:
            raise DriftInputError("categorical columns need a DataFrame, Arrow table or mapping")
        categories = category_counts(table, frame.categorical_names, built)
    judged = _judge(prof, frame, plan, cfg, numeric, categories, built)
    if records is not None:
        judged = [
            w.model_copy(update={"multivariate": record})
            for w, record in zip(judged, records, strict=True)
        ]
    if estimated is not None:
        judged = [
            w.model_copy(update={"estimated": record})
            for w, record in zip(judged, estimated, strict=True)
        ]
    if quality:
        checked = columns
        if checked is None and wants_performance:
            # A label not arrived yet is no data-quality problem (``labelled`` counts them).
            checked = [c for c in prof.columns if c not in {label, id}]
        counted = None
        if categories is not None:
            counted = (tuple(frame.categorical_names), categories[0], categories[1])
        reports = _window_quality(prof, data, built, checked, counted)
        judged = [
            w.model_copy(update={"quality": reports[w.window]}) if w.rows else w for w in judged
        ]
    if realized_performance is not None:
        judged = [
            w.model_copy(update={"performance": record})
            for w, record in zip(judged, window_records(realized_performance), strict=True)
        ]
    bands = None
    if k is not None and reference_cut is not None:
        bands = _fit(prof, reference, reference_cut, (stats, plan), names, cfg, k, workers)
    return Monitoring(
        kind=built.kind,
        every=built.every,
        step=built.step,
        timezone=built.timezone,
        config=cfg,
        reference_rows=prof.rows,
        data_rows=length,
        outside_rows=length - _inside(built),
        windows=tuple(judged),
        fitted=bands,
    )


def _reference_windows(
    reference: Any,
    time: object,
    every: object,
    step: object,
    rows: int | None,
    windows: Windows | None,
    anchor: Literal["calendar", "first"],
    given: Windows | None,
) -> Windows:
    """The windows of the reference data that fitted thresholds are computed over."""
    length = _length(reference)
    if given is not None:
        if not isinstance(given, Windows):
            raise InputError(
                f"reference_windows= must come from drift.windows(), not a {type(given).__name__}"
            )
        if given.data_rows != length:
            raise InputError(
                f"reference_windows= was built over {given.data_rows} rows, but the reference "
                f"has {length}; build them from the reference data"
            )
        return given
    how = (
        "pass reference_windows=drift.windows(reference_data, ...) to say how to cut the "
        "reference into windows"
    )
    if rows is not None and windows is None:
        return make_windows(reference, rows=rows)
    if isinstance(time, str) and every is not None and windows is None:
        names = _column_names(reference)
        if names is None or time not in names:
            raise InputError(f"the reference data has no time column {time!r}; {how}")
        return make_windows(reference, time=time, every=every, step=step, anchor=anchor)
    raise InputError(f"the data's windows were given, not how to cut them; {how}")


def _fit(
    prof: DriftProfile,
    reference: Any,
    cut: Windows,
    chosen: tuple[StatsArg, dict[str, tuple[Statistic, ...]]],
    names: Sequence[str],
    cfg: DriftConfig,
    k: float,
    workers: int | None,
) -> FittedThresholds:
    """Bands from every statistic of every reference window against the whole reference."""
    stats, plan = chosen
    own = monitor(
        prof, reference, windows=cut, stats=stats, columns=list(names), config=cfg, workers=workers
    )
    values: dict[tuple[str, Statistic], list[float]] = {(n, s): [] for n in names for s in plan[n]}
    used = [w for w in own.windows if w.rows]
    for w in used:
        for c in w.columns:
            for result in c.statistics:
                if result.value is not None and (c.name, result.statistic) in values:
                    values[(c.name, result.statistic)].append(result.value)
    return fit_bands(values, k, len(used), cfg)


def _check_performance(
    reference: object,
    prediction: str | None,
    label: str | None,
    labels: Any,
    id: str | None,
    reference_performance: PerformanceResult | None,
) -> bool:
    """Whether realized performance is asked for; refuses half-given arguments up front."""
    if prediction is None and label is None:
        if labels is not None or id is not None or reference_performance is not None:
            raise InputError(
                "labels=, id= and reference_performance= serve realized performance; pass "
                "prediction= and label= too (the columns of predictions and true labels)"
            )
        return False
    if prediction is None or label is None:
        raise InputError(
            "realized performance needs both prediction= (the column of predictions) and "
            "label= (the column of true labels)"
        )
    if reference_performance is not None and not isinstance(
        reference_performance, PerformanceResult
    ):
        raise InputError(
            "reference_performance= must be the result of drift.performance() on the "
            f"reference data, not a {type(reference_performance).__name__}"
        )
    if isinstance(reference, DriftProfile) and reference_performance is None:
        raise InputError(
            "the reference is a profile, which holds no predictions or labels, so there is "
            "nothing to judge each window's performance against; pass reference_performance="
            f"drift.performance(reference_data, prediction={prediction!r}, label={label!r}), "
            "or the reference data itself instead of its profile"
        )
    if reference_performance is None:
        available = _column_names(reference)
        absent = [c for c in (prediction, label) if available is not None and c not in available]
        if absent:
            raise ColumnMismatchError(
                f"the reference data has no column {absent[0]!r}, so there is nothing to judge "
                "each window's performance against; pass reference data with the prediction "
                "and label columns, or reference_performance=drift.performance(reference_data, "
                f"prediction={prediction!r}, label={label!r})",
                missing=absent,
                unexpected=[],
            )
    return True


def _column_names(data: object) -> set[str] | None:
    """The column names of a table or mapping (None for an array, which has none)."""
    found: Any = data
    if is_arrow(found):
        return {str(n) for n in found.schema.names}
    if isinstance(found, Mapping) or type(found).__name__ == "DataFrame":
        return {str(n) for n in found}
    return None


def _window_quality(
    prof: DriftProfile,
    data: Any,
    windows: Windows,
    columns: Sequence[str] | None,
    counted: Categories | None = None,
) -> list[QualityReport | None]:
    """Every window's quality report (None for an empty window), from one counting pass where
    the input allows it, else from :func:`quality` on each window's rows."""
    chosen = prof.columns if columns is None else tuple(dict.fromkeys(columns))
    counts = window_counts(prof, data, chosen, windows, counted)
    if counts is None:
        return [
            _quality(prof, data, windows, w, columns) if windows.rows[w] else None
            for w in range(len(windows))
        ]
    return [
        report_from_counts(prof, c, chosen, all_columns=columns is None) if c.rows else None
        for c in counts
    ]


def _quality(
    prof: DriftProfile, data: Any, windows: Windows, w: int, columns: Sequence[str] | None
) -> QualityReport:
    """The quality report of one window's rows."""
    return check_quality(prof, _take(data, windows.indices(w)), columns=columns)


def _take(data: Any, rows: Any) -> Any:
    """The rows ``rows`` of a DataFrame, Arrow table, mapping or array, in its own form."""
    if hasattr(data, "iloc"):
        return data.iloc[rows]
    if hasattr(data, "take") and hasattr(data, "schema"):
        return data.take(rows)
    if isinstance(data, Mapping):
        return {k: np.asarray(v)[rows] for k, v in data.items()}
    return np.asarray(data)[rows]


def _inside(windows: Windows) -> int:
    if windows.overlapping:
        return windows.data_rows - len(windows.missing)
    return int(np.count_nonzero(windows.ids() >= 0))


def _length(data: object) -> int:
    if isinstance(data, Mapping):
        return len(next(iter(data.values()))) if data else 0
    if hasattr(data, "num_rows"):
        return int(data.num_rows)
    if hasattr(data, "shape"):
        return int(data.shape[0])
    raise DriftInputError(
        f"cannot monitor a {type(data).__name__}; pass a pandas DataFrame, a pyarrow Table, a "
        "2-D NumPy array or a mapping of column name to values",
        type_name=type(data).__name__,
    )
