"""Artifact references: what ``put`` returns and every other method accepts."""

from __future__ import annotations

from dataclasses import dataclass

from modelyard._internal.references import parse_reference
from modelyard._internal.reprs import brief

__all__ = ["ArtifactRef", "ParsedRef", "parse_ref"]

#: How many hex digits of an id :attr:`ArtifactRef.short_id` shows.
SHORT_ID_LENGTH = 12


@dataclass(frozen=True)
class ArtifactRef:
    """A pointer to one stored artifact. Immutable and hashable; ``str(ref) == ref.id``.

    Attributes:
        id: ``"sha256:<hex>"``, the sha256 of the artifact's manifest (its canonical JSON).
        name: the name it was stored under, or None.
        digest: ``"sha256:<hex>"`` of the content (for a directory: of its tree listing).
        size: the content size in bytes (for a directory: the sum of its files).
        media_type: e.g. ``"application/vnd.apache.parquet"``.

    >>> ref = ArtifactRef(id="sha256:" + "ab" * 32, name="churn-train",
    ...                   digest="sha256:" + "cd" * 32, size=10, media_type="application/json")
    >>> str(ref) == ref.id, ref.short_id, ref.spec
    (True, 'abababababab', 'churn-train:abababababab')
    """

    id: str
    name: str | None
    digest: str
    size: int
    media_type: str

    def __str__(self) -> str:
        return self.id

    @property
    def hex(self) -> str:
        """The id without its ``sha256:`` prefix."""
        return self.id.split(":", 1)[1]

    @property
    def short_id(self) -> str:
        """The first 12 hex digits of the id, as shown in ``name:<short id>``."""
        return self.hex[:SHORT_ID_LENGTH]

    @property
    def spec(self) -> str:
        """``name:<short id>`` for a named artifact, else the full id."""
        return f"{self.name}:{self.short_id}" if self.name else self.id

    def __repr__(self) -> str:
        return brief(self, "id", "name", "size", "media_type")


@dataclass(frozen=True)
class ParsedRef:
    """A reference string taken apart. Exactly one of ``id`` and ``name`` is set."""

    id: str | None = None
    name: str | None = None
    short: str | None = None  # hex prefix for "name:<short id>"; None means latest


def parse_ref(text: str) -> ParsedRef:
    """Parse ``sha256:<hex>``, ``name@latest``, ``name:<short id>`` or a bare ``name``, each
    with or without the ``artifacts:/`` scheme; a ``models:/`` reference is refused.

    >>> parse_ref("churn@latest")
    ParsedRef(id=None, name='churn', short=None)
    >>> parse_ref("artifacts:/churn:1a2b3c")
    ParsedRef(id=None, name='churn', short='1a2b3c')
    >>> parse_ref("churn:1a2b3c\\n")
    Traceback (most recent call last):
    ...
    modelyard.errors.InvalidReferenceError: invalid artifact reference 'churn:1a2b3c\\n': ...
    """
    parsed = parse_reference(text, expect="artifact")
    return ParsedRef(id=parsed.id, name=parsed.name, short=parsed.short)
