"""Codecs for arrays and tables: NumPy ``.npy`` (never pickled), Parquet for pandas and Arrow.

pandas and pyarrow are imported only when such an object is stored or loaded.
"""

from __future__ import annotations

import io
from typing import IO, Any

import numpy as np

from modelyard.artifacts._codec import Encoded, Payload

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
        return isinstance(obj, np.ndarray) and not obj.dtype.hasobject

    def encode(self, obj: Any) -> Encoded:
        array = obj

        def write(sink: IO[bytes]) -> None:
            np.save(sink, array, allow_pickle=False)

        return Encoded("application/x-npy", write, packages=("numpy",))

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        return np.load(io.BytesIO(payload.read()), allow_pickle=False)


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
