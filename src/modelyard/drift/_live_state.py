"""A live monitor's state as bytes: a NumPy ``.npz`` archive of a JSON header and arrays.

The archive is a zip whose members carry CRC-32 checksums, so a truncated or altered state is
refused on read rather than half-read. The header carries ``schema_version``.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._schema import refuse_unreadable
from modelyard.errors import IntegrityError

__all__ = ["SCHEMA_VERSION", "read_state", "write_state"]

SCHEMA_VERSION = 1


def write_state(header: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> bytes:
    """``header`` (JSON values) and ``arrays`` as one archive."""
    text = json.dumps({**header, "schema_version": SCHEMA_VERSION}, separators=(",", ":"))
    out = io.BytesIO()
    members: dict[str, Any] = {"header": np.frombuffer(text.encode(), dtype=np.uint8), **arrays}
    np.savez(out, **members)
    return out.getvalue()


def read_state(data: bytes) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """The header and arrays of :func:`write_state`; :class:`IntegrityError` for bytes that are
    not a whole live monitor state, or one of a newer schema."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise IntegrityError(
            f"a live monitor state is bytes, not a {type(data).__name__}; pass what "
            "LiveMonitor.to_bytes() returned"
        )
    try:
        with np.load(io.BytesIO(bytes(data)), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        header = json.loads(arrays.pop("header").tobytes().decode())
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as exc:
        raise IntegrityError(
            "these bytes are not a whole live monitor state (truncated or damaged); restore "
            f"from an earlier checkpoint or start afresh ({exc})"
        ) from exc
    if not isinstance(header, dict) or "schema_version" not in header:
        raise IntegrityError("these bytes are not a live monitor state: the header is missing")
    refuse_unreadable(header, SCHEMA_VERSION, "live monitor state")
    return header, arrays
