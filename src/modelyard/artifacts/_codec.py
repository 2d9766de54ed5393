"""The codec protocol: how objects become bytes and come back."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from typing_extensions import Self

from modelyard.artifacts._manifest import Manifest
from modelyard.artifacts._refs import ArtifactRef

__all__ = ["Codec", "Content", "Encoded", "Payload", "SelfDescribing"]

#: What an encoder hands back: the bytes themselves, a file or directory to stream from, or a
#: function that writes the bytes into a binary file object (so large values stream).
Content = bytes | os.PathLike[str] | Callable[[IO[bytes]], None]


@dataclass(frozen=True)
class Encoded:
    """The result of :meth:`Codec.encode`.

    Attributes:
        media_type: the content's media type, recorded in the manifest.
        content: bytes; a path to a file (streamed) or a directory (its files stored as the
            store decides: small ones in packs, see ``docs/artifacts.md``); or a
            callable that writes the bytes into the binary file object it is given.
        params: JSON values the codec needs at decode time, stored in ``Manifest.codec_params``.
        packages: distribution names whose installed versions are recorded in
            ``Manifest.environment`` (e.g. ``("pandas", "pyarrow")``).

    >>> Encoded("text/csv", b"a,b", params={"sep": ","}).media_type
    'text/csv'
    >>> import io
    >>> streamed = Encoded("text/plain", lambda sink: sink.write(b"written on demand"))
    >>> buffer = io.BytesIO()
    >>> _ = streamed.content(buffer)
    >>> buffer.getvalue()
    b'written on demand'
    """

    media_type: str
    content: Content
    params: Mapping[str, Any] = field(default_factory=dict)
    packages: tuple[str, ...] = ()


class Payload(Protocol):
    """What :meth:`Codec.decode` reads from. Every byte it yields has been verified."""

    @property
    def ref(self) -> ArtifactRef:
        """The artifact being decoded (name it in error messages)."""
        ...

    @property
    def manifest(self) -> Manifest:
        """The manifest of the artifact being decoded."""
        ...

    def read(self) -> bytes:
        """All the content, verified against its digest before it is returned."""
        ...

    def open(self) -> BinaryIO:
        """The content as a stream; raises ``IntegrityError`` at its end if the bytes are wrong."""
        ...

    def materialize(self) -> Path:
        """Write a file or directory artifact into the folder the caller of ``get`` chose (``dest``;
        by default a new temp folder) and return its path. The path appears only once every byte
        has been verified. Names the store chose that Python or the system could import or run,
        and executable bits, are written only if the caller passed ``trusted=True``."""
        ...


@runtime_checkable
class Codec(Protocol):
    """Turns objects of some types into bytes and back.

    ``name`` is recorded in each manifest and picks the codec again at ``get``. ``can_encode``
    decides automatic selection (codecs registered later are asked first); a codec that should
    be used only when named (``put(obj, codec="pickle")``) returns False there. Register one with
    :func:`modelyard.artifacts.register_codec` or the entry point group ``modelyard.codecs``.
    """

    name: str

    def can_encode(self, obj: Any) -> bool:
        """Whether this codec should be chosen automatically for ``obj``."""
        ...

    def encode(self, obj: Any) -> Encoded:
        """Describe how to store ``obj``."""
        ...

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        """Rebuild the object. Codecs that would unpickle must refuse unless ``trusted``."""
        ...


@runtime_checkable
class SelfDescribing(Protocol):
    """An object that turns itself into bytes plus a media type, and back.

    Such objects (drift profiles, for example) are stored by the ``self-describing`` codec once
    their class is registered (:func:`~modelyard.artifacts.register_type`, or the entry point group
    ``modelyard.types``): the manifest records the registered name, and ``get`` calls
    ``from_bytes`` of the class registered under it, after checking that it really has
    ``from_bytes``, ``to_bytes`` and ``media_type``. Nothing is unpickled, and nothing a manifest
    names is imported. ``from_bytes`` receives bytes from the store: it must check every size it
    reads from them before allocating.
    """

    media_type: ClassVar[str]

    def to_bytes(self) -> bytes: ...

    @classmethod
    def from_bytes(cls, data: bytes) -> Self: ...
