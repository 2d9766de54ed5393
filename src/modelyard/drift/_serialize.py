"""Arrow IPC encoding of :class:`DriftProfile` (one row per column, settings in the metadata)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._columns import NUMERIC_KINDS
from modelyard.drift._profile import DriftProfile
from modelyard.errors import CodecError

__all__ = ["profile_from_bytes", "profile_to_bytes"]

FORMAT = "modelyard.drift-profile"
# Version 2 adds ``fixed_edges`` (a current profile binned on a reference's edges); version 1
# profiles are read as ``fixed_edges=False``.
VERSION = 2
_READABLE = (1, 2)

# One row per column. Numeric columns fill the sample, edges and counts; categorical columns
# the categories. Per-column scalars are stored under these names.
_LIST_FIELDS = ("sample", "edges", "bin_counts", "categories", "category_counts")
_INT_FIELDS = ("sample_count", "count", "missing", "infinite")
_FLOAT_FIELDS = ("minimum", "maximum", "std", "rank_error")
# The DriftProfile attribute behind a scalar field, where the names differ.
_ATTRIBUTE = {"sample_count": "sample_counts", "count": "counts"}


def _list_array(pa: Any, parts: Sequence[NDArray[Any]], value_type: Any) -> Any:
    lengths = np.array([len(p) for p in parts], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = np.concatenate(parts) if parts else np.empty(0)
    values = pa.array(flat, type=value_type)
    return pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), values)


def profile_to_bytes(profile: DriftProfile) -> bytes:
    import pyarrow as pa

    numeric = profile._numeric_index
    categorical = profile._categorical_index
    empty_f = np.empty(0, dtype=np.float64)
    empty_i = np.empty(0, dtype=np.int64)
    rows: dict[str, list[Any]] = {k: [] for k in _LIST_FIELDS + _INT_FIELDS + _FLOAT_FIELDS}
    for name, kind in zip(profile.columns, profile.kinds, strict=True):
        if kind in NUMERIC_KINDS:
            i = numeric[name]
            rows["sample"].append(profile.sample[: profile.sample_counts[i], i])
            rows["edges"].append(profile.edges[i])
            rows["bin_counts"].append(profile.bin_counts[i])
            rows["categories"].append([])
            rows["category_counts"].append(empty_i)
            for key in _INT_FIELDS + _FLOAT_FIELDS:
                rows[key].append(getattr(profile, _ATTRIBUTE.get(key, key))[i].item())
        else:
            j = categorical[name]
            rows["sample"].append(empty_f)
            rows["edges"].append(empty_f)
            rows["bin_counts"].append(empty_i)
            rows["categories"].append(list(profile.categories[j]))
            rows["category_counts"].append(profile.category_counts[j])
            for key in _INT_FIELDS:
                rows[key].append(int(profile.categorical_missing[j]) if key == "missing" else 0)
            for key in _FLOAT_FIELDS:
                rows[key].append(float("nan"))
    table = pa.table(
        {
            "name": pa.array(list(profile.columns), type=pa.string()),
            "kind": pa.array(list(profile.kinds), type=pa.string()),
            "sample": _list_array(pa, rows["sample"], pa.float64()),
            "edges": _list_array(pa, rows["edges"], pa.float64()),
            "bin_counts": _list_array(pa, rows["bin_counts"], pa.int64()),
            "categories": pa.array(rows["categories"], type=pa.large_list(pa.string())),
            "category_counts": _list_array(pa, rows["category_counts"], pa.int64()),
            **{k: pa.array(rows[k], type=pa.int64()) for k in _INT_FIELDS},
            **{k: pa.array(rows[k], type=pa.float64()) for k in _FLOAT_FIELDS},
        }
    )
    settings = {
        "format": FORMAT,
        "version": VERSION,
        "rows": profile.rows,
        "bins": profile.bins,
        "binning": profile.binning,
        "sample_size": profile.sample_size,
        # The stored sample's longest column: the reader sizes the sample by what is stored.
        "sample_rows": int(profile.sample_counts.max(initial=0)),
        "edge_count": int(profile.edges.shape[1]),
        "fixed_edges": profile.fixed_edges,
    }
    table = table.replace_schema_metadata({"modelyard": json.dumps(settings, sort_keys=True)})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _schema(pa: Any) -> Any:
    """The columns :func:`profile_to_bytes` writes, with their types (settings aside)."""
    return pa.schema(
        [
            ("name", pa.string()),
            ("kind", pa.string()),
            ("sample", pa.large_list(pa.float64())),
            ("edges", pa.large_list(pa.float64())),
            ("bin_counts", pa.large_list(pa.int64())),
            ("categories", pa.large_list(pa.string())),
            ("category_counts", pa.large_list(pa.int64())),
            *((k, pa.int64()) for k in _INT_FIELDS),
            *((k, pa.float64()) for k in _FLOAT_FIELDS),
        ]
    )


def _column_lists(table: Any, name: str, dtype: type) -> list[NDArray[Any]]:
    column = table.column(name).combine_chunks()
    offsets = column.offsets.to_numpy()
    values = column.values.to_numpy(zero_copy_only=False).astype(dtype, copy=False)
    return [values[offsets[i] : offsets[i + 1]] for i in range(len(column))]


def _setting(settings: dict[str, Any], key: str, least: int) -> int:
    value = settings.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise CodecError(f"not a valid drift profile: setting {key!r} is {value!r}")
    return value


def _invalid(what: str) -> CodecError:
    return CodecError(f"not a valid drift profile: {what}")


def profile_from_bytes(data: bytes) -> DriftProfile:
    """Rebuild a profile; every size is checked against the bytes before anything is allocated.

    The bytes may come from a store that someone else can write to. The stream's own offsets and
    lengths are validated in full by Arrow, each column's lists must have the lengths the settings
    and the other columns imply, and the sample matrix is sized by the longest column actually
    stored (its NaN padding is not stored, and a setting cannot ask for more).
    """
    import pyarrow as pa

    try:
        table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
        table.validate(full=True)
        settings = json.loads(table.schema.metadata[b"modelyard"])
    except (pa.ArrowException, KeyError, TypeError, ValueError) as exc:
        raise CodecError(f"not a serialised drift profile: {exc}") from exc
    if not isinstance(settings, dict):
        raise _invalid("its settings are not a JSON object")
    version = settings.get("version")
    if settings.get("format") != FORMAT or isinstance(version, bool) or version not in _READABLE:
        raise CodecError(
            f"unsupported drift profile format {settings.get('format')!r} version "
            f"{settings.get('version')!r}; this modelyard reads versions {list(_READABLE)}: "
            "upgrade modelyard to read it"
        )
    fixed_edges = settings.get("fixed_edges", False)
    if not isinstance(fixed_edges, bool):
        raise _invalid(f"setting 'fixed_edges' is {fixed_edges!r}")
    if not table.schema.remove_metadata().equals(_schema(pa)):
        raise _invalid("its columns are not those of a drift profile")
    rows = _setting(settings, "rows", 0)
    bins = _setting(settings, "bins", 1)
    sample_rows = _setting(settings, "sample_rows", 0)
    edge_count = _setting(settings, "edge_count", 0)
    sample_size = settings.get("sample_size")
    if sample_size is not None:
        sample_size = _setting(settings, "sample_size", 2)
    if settings.get("binning") not in ("quantile", "uniform", "doane"):
        raise _invalid(f"binning {settings.get('binning')!r}")
    names = table.column("name").to_pylist()
    kinds = table.column("kind").to_pylist()
    if any(k not in ("numeric", "datetime", "categorical", "boolean") for k in kinds):
        raise _invalid("a column of an unknown kind")
    if any(n is None for n in names) or len(set(names)) != len(names):
        raise _invalid("missing or repeated column names")
    samples = _column_lists(table, "sample", np.float64)
    edges = _column_lists(table, "edges", np.float64)
    counts_lists = _column_lists(table, "bin_counts", np.int64)
    categories = table.column("categories").to_pylist()
    category_counts = _column_lists(table, "category_counts", np.int64)
    scalars = {k: table.column(k).to_numpy() for k in _INT_FIELDS + _FLOAT_FIELDS}
    is_numeric = np.array([k in NUMERIC_KINDS for k in kinds], dtype=bool)
    positions = np.nonzero(is_numeric)[0]
    for row in positions:
        if (
            samples[row].size != scalars["sample_count"][row]
            or edges[row].size != edge_count
            or counts_lists[row].size != edge_count + 1
        ):
            raise _invalid(f"column {names[row]!r} does not hold the lengths it records")
    for row in np.nonzero(~is_numeric)[0]:
        if categories[row] is None or len(categories[row]) != category_counts[row].size:
            raise _invalid(f"column {names[row]!r} has categories and counts of unequal length")
    # Rows past the longest stored column would be NaN padding; the setting is checked, never
    # used as a size (earlier versions recorded the row count there).
    longest = max((samples[r].size for r in positions), default=0)
    if not longest <= sample_rows <= max(rows, longest):
        raise _invalid(f"a sample of {sample_rows} rows recorded for {rows} rows of data")
    sample = np.full((longest, positions.size), np.nan)
    for index, row in enumerate(positions):
        sample[: samples[row].size, index] = samples[row]
    from modelyard.drift._profile import DriftProfile as Profile

    return Profile(
        columns=tuple(names),
        kinds=tuple(kinds),
        rows=rows,
        bins=bins,
        binning=settings["binning"],
        sample_size=sample_size,
        sample=sample,
        sample_counts=scalars["sample_count"][is_numeric].astype(np.int64),
        counts=scalars["count"][is_numeric].astype(np.int64),
        missing=scalars["missing"][is_numeric].astype(np.int64),
        infinite=scalars["infinite"][is_numeric].astype(np.int64),
        minimum=scalars["minimum"][is_numeric].astype(np.float64),
        maximum=scalars["maximum"][is_numeric].astype(np.float64),
        std=scalars["std"][is_numeric].astype(np.float64),
        rank_error=scalars["rank_error"][is_numeric].astype(np.float64),
        edges=np.array([edges[r] for r in positions], dtype=np.float64).reshape(
            positions.size, edge_count
        ),
        bin_counts=np.array([counts_lists[r] for r in positions], dtype=np.int64).reshape(
            positions.size, edge_count + 1
        ),
        categories=tuple(tuple(categories[r]) for r in np.nonzero(~is_numeric)[0]),
        category_counts=tuple(
            category_counts[r].astype(np.int64) for r in np.nonzero(~is_numeric)[0]
        ),
        categorical_missing=scalars["missing"][~is_numeric].astype(np.int64),
        fixed_edges=fixed_edges,
    )
