"""Drift profiles of data on Dask: a Dask DataFrame, or Parquet files on any fsspec URL.

Every partition (or file) is profiled where it lives, in one task on one thread, and handed to
the driver as its profile's bytes; the driver merges them all at once. The result is the
:class:`~modelyard.drift.DriftProfile` that :func:`modelyard.drift.profile` makes of the same
data in one process: equal for an exact profile, within the ``rank_error`` it states for a
sketch (the default). Tasks run on whatever scheduler is active: a ``distributed.Client`` when
one is open, Dask's default otherwise.

Needs ``pip install 'dask[dataframe]' distributed`` (modelyard's ``dask`` extra).

Example:
    >>> import numpy as np
    >>> import pandas as pd
    >>> import dask.dataframe as dd
    >>> import modelyard.drift as drift
    >>> from modelyard.drift import dask as on_dask
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"x": rng.normal(size=40_000), "c": rng.choice(["a", "b"], 40_000)})
    >>> reference = on_dask.profile(dd.from_pandas(frame, npartitions=4))
    >>> reference.rows, reference.column_kinds
    (40000, {'x': 'numeric', 'c': 'categorical'})
    >>> float(reference.rank_error[0]) <= 1 / (2 * 10_000)
    True
    >>> later = frame.assign(x=frame["x"] + 0.5)
    >>> on_dask.compare(reference, dd.from_pandas(later, npartitions=4)).drifted
    ['x']
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from modelyard.drift._compare import StatsArg
from modelyard.drift._compare import compare as compare_profiles
from modelyard.drift._config import DriftConfig
from modelyard.drift._engine import (
    DEFAULT_SAMPLE_SIZE,
    PinnedKind,
    Settings,
    exact_memory_warning,
    install_hint,
    kind_of_arrow_type,
    merge_parts,
)
from modelyard.drift._engine_windows import (
    Grid,
    Plan,
    Range,
    WindowPart,
    check_time,
    gather,
    grid_of,
    judge,
    time_range,
    window_part,
)
from modelyard.drift._engine_windows import plan as plan_windows
from modelyard.drift._monitoring import Monitoring
from modelyard.drift._profile import Binning, DriftProfile
from modelyard.drift._report import DriftReport
from modelyard.errors import DriftInputError, EmptyDataError

if TYPE_CHECKING:
    from dask.delayed import Delayed

__all__ = ["compare", "monitor", "profile"]

Paths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def _dask() -> Any:
    try:
        import dask
        import dask.dataframe
    except ImportError as exc:
        raise install_hint("dask", "'dask[dataframe]' distributed", "dask") from exc
    return dask


def profile(
    data: Any,
    *,
    bins: int = 10,
    binning: Binning = "quantile",
    sample_size: int | None = DEFAULT_SAMPLE_SIZE,
    kinds: Mapping[str, PinnedKind] | DriftProfile | None = None,
    columns: Sequence[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> DriftProfile:
    """Profile a Dask DataFrame, or Parquet files, one task per partition or file.

    Args:
        data: a ``dask.dataframe.DataFrame``; or a Parquet file's path or URL (a glob such as
            ``"s3://lake/2026/*.parquet"`` is expanded), or a list of them.
        bins: number of bins for PSI, KL and JS on numeric columns.
        binning: ``"quantile"`` or ``"uniform"``, as in :func:`modelyard.drift.profile`.
        sample_size: points kept per numeric column (default 10,000): the profile's ECDF is
            within ``rank_error`` (about ``1/(2 * sample_size)``) of the exact one, and each
            partition ships at most ``sample_size * 8`` bytes per column. ``None`` keeps every
            value (exact), which ships and merges the whole data in the driver and warns with
            the memory it will need.
        kinds: ``{column: "numeric" | "categorical"}``, or a reference profile, whose columns,
            kinds, bins and binning are then used (the result can be the current side of a
            comparison). By default kinds come from the schema: numbers, dates and times are
            numeric, everything else (bool included) categorical.
        columns: profile only these columns.
        storage_options: passed to fsspec to open Parquet URLs (credentials, endpoint).

    Raises:
        EmptyDataError: no partition has a row.
        DriftInputError: unsupported input, an unknown column, or a bad parameter.
    """
    dask = _dask()
    settings, tasks, rows = _plan(data, bins, binning, sample_size, kinds, columns, storage_options)
    if sample_size is None:
        exact_memory_warning(rows(), len(settings.numeric_read_columns))
    return merge_parts(dask.compute(*tasks))


def compare(
    reference: DriftProfile,
    data: Any,
    *,
    sample_size: int | None = DEFAULT_SAMPLE_SIZE,
    stats: StatsArg = None,
    thresholds: Mapping[str, float] | None = None,
    columns: Sequence[str] | None = None,
    config: DriftConfig | str | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> DriftReport:
    """Compare data on Dask with a reference profile: :func:`profile` it with the reference's
    columns and kinds, then :func:`modelyard.drift.compare` the two profiles.

    ``data``, ``sample_size`` and ``storage_options`` are as in :func:`profile`; ``stats``,
    ``thresholds``, ``columns`` and ``config`` as in :func:`modelyard.drift.compare`. With a
    sketch the KS statistic is within the two profiles' ``rank_error`` of the exact one.

    Raises:
        DriftInputError: the reference is not a profile, or the data lacks its columns.
        EmptyDataError: no partition has a row.
    """
    if not isinstance(reference, DriftProfile):
        raise DriftInputError(
            f"reference must be a DriftProfile, got {type(reference).__name__}; profile the "
            "reference data first (modelyard.drift.dask.profile)"
        )
    current = profile(
        data, kinds=reference, sample_size=sample_size, storage_options=storage_options
    )
    return compare_profiles(
        reference, current, stats=stats, thresholds=thresholds, columns=columns, config=config
    )


def monitor(
    reference: DriftProfile,
    data: Any,
    *,
    time: str,
    every: object,
    step: object = None,
    anchor: Literal["calendar", "first"] = "calendar",
    sample_size: int | None = DEFAULT_SAMPLE_SIZE,
    stats: StatsArg = None,
    thresholds: Mapping[str, float] | None = None,
    columns: Sequence[str] | None = None,
    config: DriftConfig | str | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Monitoring:
    """Drift of every time window of data on Dask against one reference profile: the
    :class:`~modelyard.drift.Monitoring` that :func:`modelyard.drift.monitor` gives.

    Three steps, none of which gathers rows: one task per partition or file reads the time
    column alone for the time range; the driver cuts that range into windows as
    :func:`modelyard.drift.windows` does; one task per partition or file profiles each of its
    windows' rows with the reference's columns and kinds, and the driver merges each window's
    parts and judges it with :func:`modelyard.drift.compare`. Exact (``sample_size=None``), every
    window equals ``drift.monitor`` on the same rows; as a sketch, KS and Wasserstein are within
    the two profiles' ``rank_error``.

    Args:
        reference: the reference :class:`~modelyard.drift.DriftProfile`.
        data: as in :func:`profile`: a Dask DataFrame, or Parquet paths or URLs.
        time: the name of the time column (datetimes or dates, with a time zone or without);
            rows without a time are in no window (:attr:`Monitoring.outside_rows`).
        every: the windows' length, as in :func:`modelyard.drift.windows` (``"1h"``,
            ``"1D"``, ``"1M"``, ...).
        step: how far apart windows start (rolling windows when shorter than ``every``).
        anchor: ``"calendar"`` or ``"first"``, as in :func:`modelyard.drift.windows`.
        sample_size: as in :func:`profile`, for each window's profile.
        stats: as in :func:`modelyard.drift.compare`.
        thresholds: as in :func:`modelyard.drift.compare`.
        columns: as in :func:`modelyard.drift.compare`.
        config: as in :func:`modelyard.drift.compare`.
        storage_options: passed to fsspec to open Parquet URLs.

    Raises:
        DriftInputError: the reference is not a profile, the data lacks its columns, or a bad
            parameter.
        InputError: a missing or unknown ``every``, ``step`` or ``anchor``.
        ColumnMismatchError: no column named ``time``.
        ColumnTypeError: the time column does not hold datetimes.
        EmptyDataError: the data has no rows.

    Example:
        >>> import numpy as np
        >>> import pandas as pd
        >>> import dask.dataframe as dd
        >>> import modelyard.drift as drift
        >>> from modelyard.drift import dask as on_dask
        >>> rng = np.random.default_rng(1)
        >>> reference = drift.profile(pd.DataFrame({"x": rng.normal(size=3000)}))
        >>> live = pd.DataFrame({
        ...     "ts": pd.date_range("2026-05-01", periods=1800, freq="144s"),
        ...     "x": np.r_[rng.normal(size=1200), rng.normal(1.0, size=600)],
        ... })
        >>> result = on_dask.monitor(reference, dd.from_pandas(live, npartitions=3),
        ...                          time="ts", every="1D")
        >>> result.summary()[["window", "rows", "verdict"]]
           window  rows verdict
        0       0   600  stable
        1       1   600  stable
        2       2   600   drift
    """
    dask = _dask()
    plan = plan_windows(
        reference,
        time=time,
        every=every,
        step=step,
        anchor=anchor,
        sample_size=sample_size,
        stats=stats,
        thresholds=thresholds,
        columns=columns,
        config=config,
        engine="dask",
    )
    ranges, windows, timezone = _window_tasks(data, plan, storage_options)
    found = sum(dask.compute(*ranges), Range())
    grid = grid_of(found, timezone, plan)
    # One copy of the plan (which holds the reference) and the grid for every task.
    shared = _delayed(_pair)(plan, grid)
    parts = dask.compute(*(task(shared) for task in windows))
    return judge(plan, grid, gather(r for part in parts for r in part.records()))


def _window_tasks(
    data: Any, plan: Plan, storage_options: Mapping[str, Any] | None
) -> tuple[list[Delayed], list[Any], str | None]:
    """Checks the data, then: one time-range task per partition or file, a way to make each
    one's window task, and the time column's zone."""
    import dask.dataframe as dd

    if isinstance(data, dd.DataFrame):
        plan.settings.check_columns(list(data.columns))
        timezone = check_time(data._meta, plan.time)
        ranges = [_delayed(_frame_range)(p, plan.time) for p in data[[plan.time]].to_delayed()]
        parts = data[plan.read_columns].to_delayed()
        return ranges, [_bind(_frame_windows, p) for p in parts], timezone
    if isinstance(data, (str, os.PathLike)) or (
        isinstance(data, Sequence) and all(isinstance(p, (str, os.PathLike)) for p in data)
    ):
        import pyarrow.parquet as pq

        fs, paths = _parquet_paths(data, storage_options)
        with fs.open(paths[0], "rb") as file:
            schema = pq.read_schema(file)
        plan.settings.check_columns(list(schema.names))
        timezone = check_time(schema.empty_table(), plan.time)
        ranges = [_delayed(_parquet_range)(fs, path, plan.time) for path in paths]
        return ranges, [_bind(_parquet_windows, fs, path) for path in paths], timezone
    raise DriftInputError(
        f"modelyard.drift.dask monitors a dask DataFrame or Parquet paths, got "
        f"{type(data).__name__}; for data in memory use modelyard.drift.monitor"
    )


def _pair(plan: Plan, grid: Grid) -> tuple[Plan, Grid]:
    return plan, grid


def _bind(function: Any, *args: Any) -> Any:
    """A maker of ``function(*args, shared)`` tasks, once the shared plan and grid exist."""
    return lambda shared: _delayed(function)(*args, shared)


def _frame_range(frame: Any, time: str) -> Range:
    return time_range(frame, time)


def _frame_windows(frame: Any, shared: tuple[Plan, Grid]) -> WindowPart:
    import pyarrow as pa

    plan, grid = shared
    return window_part(pa.Table.from_pandas(frame, preserve_index=False), plan, grid)


def _parquet_range(fs: Any, path: str, time: str) -> Range:
    """One file's time range, from its time column alone."""
    import pyarrow.parquet as pq

    with fs.open(path, "rb") as file:
        return time_range(pq.read_table(file, columns=[time], use_threads=False), time)


def _parquet_windows(fs: Any, path: str, shared: tuple[Plan, Grid]) -> WindowPart:
    import pyarrow.parquet as pq

    plan, grid = shared
    with fs.open(path, "rb") as file:
        table = pq.read_table(file, columns=plan.read_columns, use_threads=False)
    return window_part(table, plan, grid)


def _plan(
    data: Any,
    bins: int,
    binning: Binning,
    sample_size: int | None,
    kinds: Mapping[str, PinnedKind] | DriftProfile | None,
    columns: Sequence[str] | None,
    storage_options: Mapping[str, Any] | None,
) -> tuple[Settings, list[Delayed], Any]:
    """The settings, one task per partition or file, and a way to count the rows."""
    import dask.dataframe as dd

    if isinstance(data, dd.DataFrame):
        schema_kinds = kinds if kinds is not None else _frame_kinds(data)
        settings = Settings.build(
            bins=bins, binning=binning, sample_size=sample_size, kinds=schema_kinds, columns=columns
        )
        settings.check_columns(list(data.columns))
        frame = data[settings.read_columns]
        tasks = [_delayed(_frame_part)(part, settings) for part in frame.to_delayed()]
        return settings, tasks, lambda: int(frame.map_partitions(len).sum().compute())
    if isinstance(data, (str, os.PathLike)) or (
        isinstance(data, Sequence) and all(isinstance(p, (str, os.PathLike)) for p in data)
    ):
        fs, paths = _parquet_paths(data, storage_options)
        file_kinds = kinds if kinds is not None else _parquet_kinds(fs, paths[0])
        settings = Settings.build(
            bins=bins, binning=binning, sample_size=sample_size, kinds=file_kinds, columns=columns
        )
        settings.check_columns(_parquet_columns(fs, paths[0]))
        tasks = [_delayed(_parquet_part)(fs, path, settings) for path in paths]
        return settings, tasks, lambda: sum(_parquet_rows(fs, p) for p in paths)
    raise DriftInputError(
        f"modelyard.drift.dask profiles a dask DataFrame or Parquet paths, got "
        f"{type(data).__name__}; for data in memory use modelyard.drift.profile"
    )


def _delayed(function: Any) -> Any:
    from dask.delayed import delayed

    return delayed(function, pure=True)


def _frame_kinds(frame: Any) -> dict[str, PinnedKind]:
    import pandas as pd

    found: dict[str, PinnedKind] = {}
    for name, dtype in frame.dtypes.items():
        numeric = not pd.api.types.is_bool_dtype(dtype) and (
            pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype)
        )
        found[str(name)] = "numeric" if numeric else "categorical"
    return found


def _frame_part(frame: Any, settings: Settings) -> bytes | None:
    """One partition: to Arrow (profiling Arrow is several times faster than pandas)."""
    import pyarrow as pa

    if len(frame) == 0:
        return None
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return settings.profile_bytes(table.to_batches())


def _parquet_paths(data: Paths, storage_options: Mapping[str, Any] | None) -> tuple[Any, list[str]]:
    from fsspec.core import get_fs_token_paths

    urls = (
        [os.fspath(data)] if isinstance(data, (str, os.PathLike)) else [os.fspath(p) for p in data]
    )
    if not urls:
        raise EmptyDataError("no Parquet files to profile: the list of paths is empty")
    fs, _, paths = get_fs_token_paths(
        urls if len(urls) > 1 else urls[0], storage_options=dict(storage_options or {})
    )
    if not paths:
        raise EmptyDataError(f"no Parquet files match {urls[0]!r}")
    return fs, sorted(paths) if len(urls) == 1 else list(paths)


def _parquet_kinds(fs: Any, path: str) -> dict[str, PinnedKind]:
    import pyarrow.parquet as pq

    with fs.open(path, "rb") as file:
        schema = pq.read_schema(file)
    return {name: kind_of_arrow_type(schema.field(name).type) for name in schema.names}


def _parquet_columns(fs: Any, path: str) -> list[str]:
    import pyarrow.parquet as pq

    with fs.open(path, "rb") as file:
        return list(pq.read_schema(file).names)


def _parquet_rows(fs: Any, path: str) -> int:
    import pyarrow.parquet as pq

    with fs.open(path, "rb") as file:
        return int(pq.read_metadata(file).num_rows)


def _parquet_part(fs: Any, path: str, settings: Settings) -> bytes | None:
    """One file, read as Arrow one row group at a time, on the calling thread."""
    import pyarrow.parquet as pq

    with fs.open(path, "rb") as file:
        parquet = pq.ParquetFile(file)
        batches = parquet.iter_batches(columns=settings.read_columns, use_threads=False)
        return settings.profile_bytes(batches)
