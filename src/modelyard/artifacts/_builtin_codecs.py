"""The built-in codecs, in registration order (automatic selection asks the last one first)."""

from __future__ import annotations

from modelyard.artifacts._codec import Codec
from modelyard.artifacts._codecs_basic import BytesCodec, DirectoryCodec, FileCodec, JsonCodec
from modelyard.artifacts._codecs_data import ArrowCodec, NumpyCodec, PandasCodec
from modelyard.artifacts._codecs_python import (
    JoblibCodec,
    PickleCodec,
    SelfDescribingCodec,
    SklearnCodec,
)

__all__ = ["BUILTIN_CODECS"]

# JSON is the most general test, so it is asked last; self-describing objects are asked first
# because a class that implements the protocol has said how it wants to be stored.
BUILTIN_CODECS: tuple[Codec, ...] = (
    PickleCodec(),
    JoblibCodec(),
    JsonCodec(),
    FileCodec(),
    DirectoryCodec(),
    BytesCodec(),
    SklearnCodec(),
    NumpyCodec(),
    ArrowCodec(),
    PandasCodec(),
    SelfDescribingCodec(),
)
