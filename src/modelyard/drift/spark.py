"""Drift profiles of a Spark DataFrame, computed on the executors.

Each partition is profiled inside ``mapInArrow`` (Spark hands it over as Arrow record batches),
on one thread, and returns its profile's bytes as one row; the driver collects those rows with
Arrow and merges them all at once. The result is the :class:`~modelyard.drift.DriftProfile`
that :func:`modelyard.drift.profile` makes of the same data in one process: equal for an exact
profile, within the ``rank_error`` it states for a sketch (the default).

Needs ``pip install pyspark`` (modelyard's ``spark`` extra) and Java 17. The executors' Python
must have modelyard installed (in local mode: set ``PYSPARK_PYTHON`` to the driver's Python).

The guide's page on scale walks through a Parquet lake on Spark (a session is needed, so
the example is there rather than here).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from modelyard.drift._compare import StatsArg
from modelyard.drift._compare import compare as compare_profiles
from modelyard.drift._config import DriftConfig
from modelyard.drift._engine import (
    DEFAULT_SAMPLE_SIZE,
    PinnedKind,
    Settings,
    exact_memory_warning,
    install_hint,
    merge_parts,
)
from modelyard.drift._engine_windows import (
    Range,
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
from modelyard.drift._times import _wrong_type, read_times
from modelyard.errors import ColumnMismatchError, DriftInputError

__all__ = ["compare", "monitor", "profile"]


def _spark_frame() -> Any:
    try:
        from pyspark.sql import DataFrame
    except ImportError as exc:
        raise install_hint("spark", "pyspark", "spark") from exc
    return DataFrame


def profile(
    data: Any,
    *,
    bins: int = 10,
    binning: Binning = "quantile",
    sample_size: int | None = DEFAULT_SAMPLE_SIZE,
    kinds: Mapping[str, PinnedKind] | DriftProfile | None = None,
    columns: Sequence[str] | None = None,
) -> DriftProfile:
    """Profile a Spark DataFrame, one task per partition.

    Args:
        data: a ``pyspark.sql.DataFrame``.
        bins: number of bins for PSI, KL and JS on numeric columns.
        binning: ``"quantile"`` or ``"uniform"``, as in :func:`modelyard.drift.profile`.
        sample_size: points kept per numeric column (default 10,000): the profile's ECDF is
            within ``rank_error`` (about ``1/(2 * sample_size)``) of the exact one, and each
            partition ships at most ``sample_size * 8`` bytes per column. ``None`` keeps every
            value (exact), which collects the whole data in the driver and warns with the
            memory it will need.
        kinds: ``{column: "numeric" | "categorical"}``, or a reference profile, whose columns,
            kinds, bins and binning are then used. By default kinds come from the schema:
            numbers, dates and timestamps are numeric, everything else (bool included)
            categorical.
        columns: profile only these columns.

    Raises:
        EmptyDataError: no partition has a row.
        DriftInputError: not a Spark DataFrame, an unknown column, or a bad parameter.
    """
    _check_frame(data, "profile")
    settings = Settings.build(
        bins=bins,
        binning=binning,
        sample_size=sample_size,
        kinds=kinds if kinds is not None else _schema_kinds(data.schema),
        columns=columns,
    )
    settings.check_columns(list(data.columns))
    selected = data.select(*settings.read_columns)
    if sample_size is None:
        exact_memory_warning(int(selected.count()), len(settings.numeric_read_columns))

    def partition(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        encoded = settings.profile_bytes(batches)
        if encoded is not None:
            yield pa.RecordBatch.from_arrays([pa.array([encoded], pa.binary())], ["profile"])

    table = _collect(selected.mapInArrow(partition, "profile binary"), [("profile", "binary")])
    return merge_parts(table.column("profile").to_pylist())


def _check_frame(data: Any, verb: str) -> None:
    if not isinstance(data, _spark_frame()):
        raise DriftInputError(
            f"modelyard.drift.spark {verb}s a pyspark.sql.DataFrame, got "
            f"{type(data).__name__}; for data in memory use modelyard.drift.{verb}"
        )


def _collect(frame: Any, fields: list[tuple[str, str]]) -> Any:
    """A Spark DataFrame collected as one Arrow table."""
    import pyarrow as pa

    table = frame.toArrow() if hasattr(frame, "toArrow") else frame._collect_as_arrow()
    if not hasattr(table, "column"):  # Spark 3 returns a list of record batches
        schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in fields])
        table = pa.Table.from_batches(table, schema=schema)
    return table


def compare(
    reference: DriftProfile,
    data: Any,
    *,
    sample_size: int | None = DEFAULT_SAMPLE_SIZE,
    stats: StatsArg = None,
    thresholds: Mapping[str, float] | None = None,
    columns: Sequence[str] | None = None,
    config: DriftConfig | str | None = None,
) -> DriftReport:
    """Compare a Spark DataFrame with a reference profile: :func:`profile` it with the
    reference's columns and kinds, then :func:`modelyard.drift.compare` the two profiles.

    ``sample_size`` is as in :func:`profile`; ``stats``, ``thresholds``, ``columns`` and
    ``config`` as in :func:`modelyard.drift.compare`.

    Raises:
        DriftInputError: the reference is not a profile, or the data lacks its columns.
        EmptyDataError: no partition has a row.
    """
    if not isinstance(reference, DriftProfile):
        raise DriftInputError(
            f"reference must be a DriftProfile, got {type(reference).__name__}; profile the "
            "reference data first (modelyard.drift.spark.profile)"
        )
    current = profile(data, kinds=reference, sample_size=sample_size)
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
) -> Monitoring:
    """Drift of every time window of a Spark DataFrame against one reference profile: the
    :class:`~modelyard.drift.Monitoring` that :func:`modelyard.drift.monitor` gives.

    One aggregation of the time column alone gives the time range; the driver cuts it into
    windows as :func:`modelyard.drift.windows` does; then each partition, in ``mapInArrow``,
    profiles each of its windows' rows with the reference's columns and kinds, and the driver
    merges each window's parts and judges it with :func:`modelyard.drift.compare`. No rows are
    collected. Exact (``sample_size=None``), every window equals ``drift.monitor`` on the same
    rows; as a sketch, KS and Wasserstein are within the two profiles' ``rank_error``.

    Spark's ``TIMESTAMP`` is an instant shown in the session's time zone
    (``spark.sql.session.timeZone``): its windows follow that zone's calendar (days start at
    its midnight; the result's ``timezone`` names it). ``TIMESTAMP_NTZ`` and ``DATE`` columns
    are taken as they are written, as naive times are by :func:`modelyard.drift.windows`.

    Arguments are those of :func:`modelyard.drift.dask.monitor` (without ``storage_options``),
    with ``data`` a ``pyspark.sql.DataFrame``::

        from modelyard.drift import spark as on_spark

        reference = on_spark.profile(spark.read.parquet("s3a://lake/2026-04/"))
        result = on_spark.monitor(
            reference, spark.read.parquet("s3a://lake/2026-05/"), time="ts", every="1D"
        )
        result.summary()

    Raises:
        DriftInputError: the reference is not a profile, the data is not a Spark DataFrame or
            lacks the reference's columns, or a bad parameter.
        InputError: a missing or unknown ``every``, ``step`` or ``anchor``.
        ColumnMismatchError: no column named ``time``.
        ColumnTypeError: the time column does not hold timestamps or dates.
        EmptyDataError: the data has no rows.
    """
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
        engine="spark",
    )
    _check_frame(data, "monitor")
    plan.settings.check_columns(list(data.columns))
    timezone = _time_zone(data, time)
    found = _time_range(data, time)
    grid = grid_of(found, timezone, plan)

    def partition(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        table = _table(batches)
        if table is None:
            return
        part = window_part(table, plan, grid)
        window, rows, encoded = zip(*part.records(), strict=True)
        yield pa.RecordBatch.from_arrays(
            [pa.array(window, pa.int64()), pa.array(rows, pa.int64()), pa.array(encoded)],
            ["window", "rows", "profile"],
        )

    parts = data.select(*plan.read_columns).mapInArrow(
        partition, "window long, rows long, profile binary"
    )
    table = _collect(parts, [("window", "int64"), ("rows", "int64"), ("profile", "binary")])
    shipped = (table.column(n).to_pylist() for n in ("window", "rows", "profile"))
    records = zip(*shipped, strict=True)
    return judge(plan, grid, gather(records))


def _time_zone(data: Any, time: str) -> str | None:
    """Refuse a missing or non-time time column before any task runs; its time zone as the
    partitions see it (Spark hands a ``TIMESTAMP`` over in the session's time zone)."""
    import pyarrow as pa
    from pyspark.sql import types

    fields = {f.name: f for f in data.schema.fields}
    if time not in fields:
        raise ColumnMismatchError(
            f"no time column {time!r} in the data; its columns are {list(fields)[:20]}",
            missing=[time],
            unexpected=[],
        )
    kind = fields[time].dataType
    arrow: Any = None
    if isinstance(kind, types.DateType):
        arrow = pa.date32()
    elif type(kind).__name__ == "TimestampNTZType":
        arrow = pa.timestamp("us")
    elif isinstance(kind, types.TimestampType):
        arrow = pa.timestamp("us", tz=data.sparkSession.conf.get("spark.sql.session.timeZone"))
    if arrow is None:
        raise _wrong_type(kind.simpleString())
    return read_times(pa.table({time: pa.array([], arrow)}), time).timezone


def _table(batches: Iterator[Any]) -> Any:
    """A partition's batches as one table (a partition is sized to fit a task), or None."""
    import pyarrow as pa

    listed = list(batches)
    return pa.Table.from_batches(listed) if listed else None


def _time_range(data: Any, time: str) -> Range:
    """The time range from one pass over the time column alone, aggregated by Spark."""
    from pyspark.sql import functions as F

    def partition(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        table = _table(batches)
        if table is None:
            return
        found = time_range(table, time)
        yield pa.RecordBatch.from_arrays(
            [
                pa.array([found.rows], pa.int64()),
                pa.array([found.missing], pa.int64()),
                pa.array([found.low], pa.int64()),
                pa.array([found.high], pa.int64()),
            ],
            ["rows", "missing", "low", "high"],
        )

    ranges = data.select(time).mapInArrow(partition, "rows long, missing long, low long, high long")
    row = ranges.agg(F.sum("rows"), F.sum("missing"), F.min("low"), F.max("high")).collect()[0]
    return Range(rows=int(row[0] or 0), missing=int(row[1] or 0), low=row[2], high=row[3])


def _schema_kinds(schema: Any) -> dict[str, PinnedKind]:
    from pyspark.sql import types

    numeric = (types.NumericType, types.DateType, types.TimestampType)
    return {
        field.name: "numeric" if isinstance(field.dataType, numeric) else "categorical"
        for field in schema.fields
    }
