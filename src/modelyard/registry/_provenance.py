"""Where a copied version came from: the record a ``version.copied`` event carries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelyard.registry._fields import Malformed, get_int, get_str
from modelyard.storage import MemoryStore, Store

__all__ = ["Provenance", "location_of"]


@dataclass(frozen=True)
class Provenance:
    """The source of a version copied from another yard (see :meth:`Registry.copy
    <modelyard.registry.Registry.copy>`).

    Who copied it and when are the copied version's ``created_by`` and ``created_at``.

    Attributes:
        location: where the source yard is (its URL or folder, as the copying process saw it).
        model: the source model's name.
        model_id: the source model's identity (the random id its log carries); None for a
            model whose log predates identities. This, not ``location``, tells copies apart: the
            same yard may be reached under several URLs.
        version: the source version's number.
        artifact: the artifact id (the same in both yards).

    >>> p = Provenance("s3://dev/yard", "churn", "6f1c", 3, "sha256:" + "0" * 64)
    >>> Provenance.from_dict(p.to_dict()) == p, p.ref
    (True, 'churn/3')
    """

    location: str
    model: str
    model_id: str | None
    version: int
    artifact: str

    @property
    def ref(self) -> str:
        """The source version's reference in its own yard: ``"churn/3"``."""
        return f"{self.model}/{self.version}"

    def same_source(self, other: Provenance) -> bool:
        """Whether ``other`` records a copy of the same source version (and artifact)."""
        if self.version != other.version or self.artifact != other.artifact:
            return False
        if self.model_id is not None and other.model_id is not None:
            return self.model_id == other.model_id
        return (self.location, self.model) == (other.location, other.model)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (the stored form)."""
        return {
            "location": self.location,
            "model": self.model,
            "model_id": self.model_id,
            "version": self.version,
            "artifact": self.artifact,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provenance:
        """Read the stored form back; :class:`ValueError` if it does not have that shape."""
        try:
            model_id = data.get("model_id")
            if model_id is not None and not isinstance(model_id, str):
                raise Malformed(f"'model_id' must be a string or null, got {model_id!r}")
            return cls(
                location=get_str(data, "location"),
                model=get_str(data, "model"),
                model_id=model_id,
                version=get_int(data, "version", minimum=1),
                artifact=get_str(data, "artifact"),
            )
        except Malformed as exc:
            raise ValueError(f"not a provenance record: {exc}") from None


def location_of(store: Store) -> str:
    """Where ``store`` is, in words a person can use: its URL, its folder, or its repr."""
    if isinstance(store, MemoryStore):
        # Its repr counts keys; its URL is the name it was opened under, if any.
        named = [name for name, other in MemoryStore._named.items() if other is store]
        return f"memory://{named[0]}" if named else "memory://"
    for attribute in ("url", "root"):
        value = getattr(store, attribute, None)
        if value is not None:
            return str(value)
    return repr(store)
