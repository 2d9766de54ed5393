"""Reading what the drift commands are given: a Parquet or CSV file, or a stored profile.

pandas and pyarrow are imported inside the functions, so declaring the commands stays light.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.errors import InputError, NotFoundError

if TYPE_CHECKING:
    from modelyard.cli._context import Context

__all__ = [
    "FORMATS",
    "Reference",
    "data_format",
    "read_data",
    "reference",
    "row_groups",
    "write_whole",
]

FORMATS = ("parquet", "csv")

# pandas reads these compressions of a CSV file by its name.
_COMPRESSED = (".gz", ".bz2", ".zst", ".xz", ".zip")
# What a profile's bytes start with: an Arrow IPC stream's continuation marker.
_PROFILE_MAGIC = b"\xff\xff\xff\xff"


def data_format(path: Path, given: str | None) -> str:
    """``parquet`` or ``csv``: ``given`` (``--format``), else the file's suffix."""
    if given is not None:
        return given
    suffixes = [s.lower() for s in path.suffixes]
    last = suffixes[-1] if suffixes else ""
    if last in (".parquet", ".pq"):
        return "parquet"
    if last == ".csv" or (len(suffixes) > 1 and suffixes[-2] == ".csv" and last in _COMPRESSED):
        return "csv"
    raise InputError(
        f"cannot tell the format of {str(path)!r} from its name: name it *.parquet or *.csv, or "
        "pass --format parquet|csv",
        path=str(path),
    )


def _existing(path: Path) -> Path:
    if not path.exists():
        raise NotFoundError(f"no file {str(path)!r}", path=str(path))
    if path.is_dir():
        raise InputError(f"{str(path)!r} is a folder; give a Parquet or CSV file", path=str(path))
    return path


def _parquet(path: Path) -> Any:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path, memory_map=True, pre_buffer=False)
    except Exception as error:  # pyarrow's own errors name neither the file nor the fix
        raise InputError(
            f"{str(path)!r} is not a readable Parquet file ({error}); check the file or pass "
            "--format csv if it is CSV",
            path=str(path),
        ) from None


def row_groups(path: Path, fmt: str, ctx: Context, label: str) -> tuple[Iterator[Any], int | None]:
    """The file as batches (one per Parquet row group, each read column by column, so that the
    reader's buffers hold one column) and its row count when known; a bar on a terminal."""
    _existing(path)
    if fmt == "csv":
        return iter([read_data(path, fmt)]), None
    import pyarrow as pa

    parquet = _parquet(path)
    names = parquet.schema_arrow.names
    total = parquet.num_row_groups

    def batches() -> Iterator[Any]:
        bar = ctx.progress(label, unit=" row groups")
        try:
            for i in range(total):
                columns = [parquet.read_row_group(i, columns=[n]).column(0) for n in names]
                yield pa.Table.from_arrays(columns, names=names)
                if bar is not None:
                    bar.update(i + 1, total)
        finally:
            if bar is not None:
                bar.close()

    return batches(), parquet.metadata.num_rows


def read_data(path: Path, fmt: str, *, time: str | None = None) -> Any:
    """The whole file: a pyarrow Table for Parquet, a pandas DataFrame for CSV (pandas infers a
    column's type from all its values, where a streaming CSV reader guesses from the first
    block). ``time`` names a CSV column to read as datetimes."""
    _existing(path)
    if fmt == "parquet":
        return _parquet(path).read()
    import pandas as pd

    try:
        frame = pd.read_csv(path, low_memory=False)
    except Exception as error:
        raise InputError(
            f"{str(path)!r} is not a readable CSV file ({error}); check the file or pass "
            "--format parquet if it is Parquet",
            path=str(path),
        ) from None
    if time is not None and time in frame.columns:
        try:
            frame[time] = pd.to_datetime(frame[time], format="ISO8601")
        except (ValueError, TypeError) as error:
            raise InputError(
                f"the time column {time!r} of {str(path)!r} does not hold ISO 8601 times ({error})",
                column=time,
            ) from None
    return frame


class Reference:
    """What REFERENCE named: a profile or data, and the artifact it came from (if stored)."""

    def __init__(self, value: Any, artifact: str | None, shown: str) -> None:
        self.value = value
        self.artifact = artifact
        self.shown = shown


def _is_stored(text: str) -> bool:
    """Whether ``text`` is spelled as an artifact reference rather than a path: with the
    ``artifacts:/`` scheme, an id, or ``name@latest`` / ``name:<short id>`` naming no file."""
    if text.startswith(("artifacts:/", "sha256:")):
        return True
    if Path(text).exists() or not ("@" in text or ":" in text):
        return False
    from modelyard.artifacts._refs import parse_ref

    try:
        parse_ref(text)
    except InputError:
        return False
    return True


def reference(text: str, fmt: str | None, ctx: Context) -> Reference:
    """REFERENCE of ``compare`` and ``monitor``: a stored artifact (a profile, or data such as a
    DataFrame or Arrow table), a profile file written by ``drift profile --output`` (known by
    its first bytes, whatever its name), or a data file."""
    from modelyard.drift import DriftProfile

    if _is_stored(text):
        store = ctx.yard().artifacts
        found = store.resolve(text)
        value = store.get(found)
        if not isinstance(value, DriftProfile) and not _tabular(value):
            raise InputError(
                f"artifact {found.spec} holds {found.media_type}, not a drift profile or a table; "
                "give a profile stored by 'modelyard drift profile', or a data file",
                ref=found.id,
            )
        return Reference(value, found.id, found.spec)
    path = _existing(Path(text))
    with path.open("rb") as head:
        magic = head.read(len(_PROFILE_MAGIC))
    # No Parquet or CSV file starts so (0xFF is never UTF-8), whatever --format says of CURRENT.
    if magic == _PROFILE_MAGIC:
        return Reference(DriftProfile.from_bytes(path.read_bytes()), None, text)
    return Reference(read_data(path, data_format(path, fmt)), None, text)


def _tabular(value: object) -> bool:
    module = type(value).__module__.split(".")[0]
    return module in ("pandas", "pyarrow")


def write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader never sees half a file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


@contextlib.contextmanager
def warnings_noted(ctx: Context) -> Iterator[list[str]]:
    """Collect the library's warnings (a constant column, a column with no values) and print
    each once on stderr as a line of its own, not as Python's source-located warning text."""
    seen: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield seen
        finally:
            for warning in caught:
                text = str(warning.message)
                if text not in seen:
                    seen.append(text)
                    ctx.out.note(f"modelyard: warning: {text}")
