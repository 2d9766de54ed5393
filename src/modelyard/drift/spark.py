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
from typing import Any

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
from modelyard.drift._profile import Binning, DriftProfile
from modelyard.drift._report import DriftReport
from modelyard.errors import DriftInputError

__all__ = ["compare", "profile"]


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
    frame_type = _spark_frame()
    if not isinstance(data, frame_type):
        raise DriftInputError(
            f"modelyard.drift.spark profiles a pyspark.sql.DataFrame, got "
            f"{type(data).__name__}; for data in memory use modelyard.drift.profile"
        )
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

    parts = selected.mapInArrow(partition, "profile binary")
    table = parts.toArrow() if hasattr(parts, "toArrow") else parts._collect_as_arrow()
    if not hasattr(table, "column"):  # Spark 3 returns a list of record batches
        import pyarrow as pa

        table = pa.Table.from_batches(table, schema=pa.schema([("profile", pa.binary())]))
    return merge_parts(table.column("profile").to_pylist())


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


def _schema_kinds(schema: Any) -> dict[str, PinnedKind]:
    from pyspark.sql import types

    numeric = (types.NumericType, types.DateType, types.TimestampType)
    return {
        field.name: "numeric" if isinstance(field.dataType, numeric) else "categorical"
        for field in schema.fields
    }
