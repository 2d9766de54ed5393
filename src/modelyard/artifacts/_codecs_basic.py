"""Codecs for values that need no third-party package: bytes, JSON, files and directories."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from modelyard._internal.canonical import canonical_json, loads
from modelyard.artifacts._codec import Encoded, Payload

__all__ = ["BytesCodec", "DirectoryCodec", "FileCodec", "JsonCodec", "TREE_MEDIA_TYPE"]

#: Media type of a directory artifact's content: its tree listing as canonical JSON.
TREE_MEDIA_TYPE = "application/vnd.modelyard.tree+json"


class BytesCodec:
    """``bytes``, ``bytearray`` and ``memoryview``, stored as they are; read back as ``bytes``."""

    name = "bytes"

    def can_encode(self, obj: Any) -> bool:
        return isinstance(obj, (bytes, bytearray, memoryview))

    def encode(self, obj: Any) -> Encoded:
        return Encoded("application/octet-stream", bytes(obj))

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        return payload.read()


class JsonCodec:
    """JSON values (``None``, bools, numbers, strings, lists, tuples, dicts with string keys).

    Stored as canonical JSON, so equal values are equal bytes. Read back as plain JSON types:
    tuples come back as lists. NaN and infinity are refused (JSON cannot spell them).
    """

    name = "json"

    def can_encode(self, obj: Any) -> bool:
        try:
            canonical_json(obj)
        except (TypeError, ValueError):
            return False
        return True

    def encode(self, obj: Any) -> Encoded:
        return Encoded("application/json", canonical_json(obj))

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        return loads(payload.read())


class FileCodec:
    """A :class:`pathlib.Path` to a file: its bytes are streamed; ``get`` writes the file back
    (under its original name) into ``dest`` and returns its path."""

    name = "file"

    def can_encode(self, obj: Any) -> bool:
        return isinstance(obj, Path) and obj.is_file()

    def encode(self, obj: Any) -> Encoded:
        path = Path(obj)
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Encoded(media_type, path, params={"filename": path.name})

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        return payload.materialize()


class DirectoryCodec:
    """A :class:`pathlib.Path` to a directory: its small files together in packs, larger ones a
    blob each (shared with the next version that has the same file), plus a tree listing;
    ``get`` rebuilds the directory in ``dest``."""

    name = "directory"

    def can_encode(self, obj: Any) -> bool:
        return isinstance(obj, Path) and obj.is_dir()

    def encode(self, obj: Any) -> Encoded:
        path = Path(obj)
        return Encoded(TREE_MEDIA_TYPE, path, params={"dirname": path.name})

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        return payload.materialize()
