"""Codecs for arrays and tables: NumPy ``.npy`` (never pickled), Parquet for pandas and Arrow.

NumPy, pandas and pyarrow are imported only when such an object is stored or loaded (a command
that only resolves a name never loads them).
"""

from __future__ import annotations

import ast
import io
import math
from typing import IO, Any

from modelyard.artifacts._codec import Encoded, Payload
from modelyard.errors import CodecError

__all__ = ["ArrowCodec", "NumpyCodec", "PandasCodec", "PARQUET_MEDIA_TYPE"]

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"


def _from_module(obj: Any, package: str) -> bool:
    # Checked before importing the package, so that asking about an unrelated object never
    # imports pandas or pyarrow.
    return any(klass.__module__.split(".", 1)[0] == package for klass in type(obj).__mro__)


class NumpyCodec:
    """NumPy arrays as ``.npy`` files, written and read with ``allow_pickle=False``.

    Arrays of Python objects are not taken (they would need pickle); store those with
    ``codec="pickle"`` if you trust every reader.
    """

    name = "numpy"

    def can_encode(self, obj: Any) -> bool:
        if not _from_module(obj, "numpy"):
            return False
        import numpy as np

        return isinstance(obj, np.ndarray) and not obj.dtype.hasobject

    def encode(self, obj: Any) -> Encoded:
        import numpy as np

        array = obj

        def write(sink: IO[bytes]) -> None:
            np.save(sink, array, allow_pickle=False)

        return Encoded("application/x-npy", write, packages=("numpy",))

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        data = payload.read()
        try:
            check_npy(data)
        except CodecError as exc:
            raise CodecError(
                f"artifact {payload.ref.spec} is not a valid .npy file: {exc}", ref=payload.ref.id
            ) from None
        import numpy as np

        return np.load(io.BytesIO(data), allow_pickle=False)


_MAGIC = b"\x93NUMPY"
# What np.load accepts without allow_pickle; a longer header is refused there too.
_MAX_HEADER = 10_000


def check_npy(data: bytes) -> None:
    """Check that the array a ``.npy`` header describes is exactly the bytes that follow it.

    np.load allocates the array its header describes before reading the data, so a few bytes of
    header could ask for any amount of memory; here the header's shape and dtype are checked
    against the bytes actually there first. Raises :class:`CodecError`.

    >>> import numpy as np
    >>> buffer = io.BytesIO()
    >>> np.save(buffer, np.zeros((2, 3)))
    >>> check_npy(buffer.getvalue())
    >>> try:
    ...     check_npy(buffer.getvalue()[:-8])
    ... except CodecError as exc:
    ...     print(exc)
    its header describes 48 bytes of data (shape (2, 3), float64) but 40 follow
    """
    import numpy as np

    if data[:6] != _MAGIC or len(data) < 10:
        raise CodecError("it does not start with the .npy magic string")
    major = data[6]
    if major == 1:
        length, start, encoding = int.from_bytes(data[8:10], "little"), 10, "latin1"
    elif major in (2, 3):
        length = int.from_bytes(data[8:12], "little")
        start, encoding = 12, "latin1" if major == 2 else "utf8"
    else:
        raise CodecError(f"format version {major} is unknown")
    if length > _MAX_HEADER or start + length > len(data):
        raise CodecError(f"its header length {length} does not fit the {len(data)} bytes")
    try:
        header = ast.literal_eval(data[start : start + length].decode(encoding))
        shape, fortran = header["shape"], header["fortran_order"]
        dtype = np.lib.format.descr_to_dtype(header["descr"])
    except (ValueError, SyntaxError, TypeError, KeyError, UnicodeDecodeError) as exc:
        raise CodecError(f"its header does not parse ({exc})") from None
    if (
        not isinstance(shape, tuple)
        or not all(isinstance(n, int) and n >= 0 for n in shape)
        or not isinstance(fortran, bool)
    ):
        raise CodecError(f"its header has a bad shape {shape!r} or fortran_order {fortran!r}")
    expected = math.prod(shape) * dtype.itemsize
    body = len(data) - start - length
    if expected != body:
        raise CodecError(
            f"its header describes {expected} bytes of data (shape {shape}, {dtype}) but "
            f"{body} follow"
        )


def _write_parquet(table: Any, sink: IO[bytes]) -> None:
    import pyarrow.parquet as pq

    # Fixed writer options: equal tables give equal bytes (the format stores no timestamps), so
    # storing unchanged data again is a dedup hit.
    pq.write_table(table, sink, compression="zstd", write_statistics=True)


def _read_parquet(payload: Payload) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Parquet needs random access (the footer is at the end): read the verified bytes first.
    return pq.read_table(pa.BufferReader(payload.read()))


class PandasCodec:
    """pandas DataFrames as Parquet (index and dtypes kept through pandas' Arrow metadata)."""

    name = "pandas"

    def can_encode(self, obj: Any) -> bool:
        if not _from_module(obj, "pandas"):
            return False
        import pandas as pd

        return isinstance(obj, pd.DataFrame)

    def encode(self, obj: Any) -> Encoded:
        import pyarrow as pa

        table = pa.Table.from_pandas(obj)
        return Encoded(
            PARQUET_MEDIA_TYPE,
            lambda sink: _write_parquet(table, sink),
            packages=("pandas", "pyarrow"),
        )

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        return _read_parquet(payload).to_pandas()


class ArrowCodec:
    """pyarrow Tables as Parquet."""

    name = "arrow"

    def can_encode(self, obj: Any) -> bool:
        if not _from_module(obj, "pyarrow"):
            return False
        import pyarrow as pa

        return isinstance(obj, pa.Table)

    def encode(self, obj: Any) -> Encoded:
        return Encoded(
            PARQUET_MEDIA_TYPE, lambda sink: _write_parquet(obj, sink), packages=("pyarrow",)
        )

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        return _read_parquet(payload)
