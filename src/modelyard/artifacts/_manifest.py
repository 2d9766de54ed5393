"""The manifest: what an artifact is, and the source of its id."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from modelyard._internal.canonical import canonical_json
from modelyard._internal.hashing import DIGEST_PATTERN, digest_bytes
from modelyard._internal.reprs import brief
from modelyard.artifacts._code import CodeRecord

__all__ = ["SCHEMA_VERSION", "TREE_LISTING", "Environment", "Manifest", "TreeEntry"]

#: Bumped on any change to the manifest's fields or their meaning. Schema 2 adds ``code``; a
#: manifest without it is written as schema 1, byte for byte as before, so that the release before
#: reads it (and refuses a schema 2 one with advice to upgrade, rather than misread it).
SCHEMA_VERSION = 2


class _Frozen(BaseModel):
    # Schemas are built on first use, not at import: services embedding modelyard start faster.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class TreeEntry(_Frozen):
    """One file of a directory artifact: its ``/``-separated path inside the directory, and the
    digest and size of its content blob."""

    path: str
    digest: str
    size: int = Field(ge=0)
    executable: bool = False

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        # Paths come back out of storage and are joined onto a destination folder: anything that
        # could step outside it is refused.
        parts = value.split("/")
        if any(p in ("", ".", "..") or "\\" in p or "\x00" in p for p in parts):
            raise ValueError(f"unsafe path in a directory tree: {value!r}")
        return value

    @field_validator("digest")
    @classmethod
    def _check_digest(cls, value: str) -> str:
        if not DIGEST_PATTERN.match(value):
            raise ValueError(f"{value!r} is not a 'sha256:<64 hex>' digest")
        return value


#: A folder's listing (its content blob) read or written in one call, not one entry at a time.
TREE_LISTING = TypeAdapter(list[TreeEntry])


class Environment(_Frozen):
    """Where an artifact was produced: the Python version and the packages its codec used."""

    python: str
    packages: dict[str, str] = Field(default_factory=dict)


class Manifest(_Frozen):
    """Everything known about one artifact. Frozen; the artifact's id is :meth:`compute_id`.

    Attributes:
        schema_version: the manifest format version: 2 when it records ``code``, else 1.
        digest: ``sha256:<hex>`` of the content blob (for a directory: of its tree listing).
        size: content size in bytes (for a directory: the sum of its files' sizes).
        media_type: the content's media type.
        codec: the name of the codec that wrote it (and reads it back).
        codec_params: what that codec needs to read it back (e.g. the class of a self-describing
            object, the original file name).
        name: the artifact's name, or None.
        metadata: user metadata (JSON values).
        parents: ids of the artifacts this one was made from (lineage).
        created_at: when it was stored (aware UTC).
        environment: Python version and versions of the packages the codec used.
        tree: for a directory artifact, one entry per file (sorted by path); else None.
        code: the code that ran the put (git commit, dirty state, remote, command line), when
            it was known and recorded (see ``docs/artifacts.md``); else None.

    >>> from datetime import datetime, timezone
    >>> m = Manifest(digest="sha256:" + "0" * 64, size=2, media_type="application/json",
    ...              codec="json", created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    ...              environment=Environment(python="3.11.7"))
    >>> m.compute_id() == Manifest.model_validate_json(m.canonical_bytes()).compute_id()
    True
    """

    schema_version: Literal[1, 2] = 1
    digest: str
    size: int = Field(ge=0)
    media_type: str
    codec: str
    codec_params: dict[str, Any] = Field(default_factory=dict)
    name: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    parents: tuple[str, ...] = ()
    created_at: datetime
    environment: Environment
    tree: tuple[TreeEntry, ...] | None = None
    code: CodeRecord | None = None

    @model_validator(mode="after")
    def _check_schema(self) -> Manifest:
        if (self.code is not None) != (self.schema_version == 2):
            raise ValueError(
                "a schema 2 manifest records its code, and a schema 1 manifest cannot: write "
                "schema_version=2 with code, 1 without"
            )
        return self

    @field_validator("digest", "parents")
    @classmethod
    def _check_digests(cls, value: Any) -> Any:
        for item in (value,) if isinstance(value, str) else value:
            if not DIGEST_PATTERN.match(item):
                raise ValueError(f"{item!r} is not a 'sha256:<64 hex>' digest")
        return value

    @field_validator("created_at")
    @classmethod
    def _check_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("created_at must be timezone-aware (UTC)")
        return value

    def canonical_bytes(self) -> bytes:
        """The manifest as canonical JSON: the exact bytes that are stored and hashed."""
        data = self.model_dump(mode="json")
        if data["code"] is None:
            del data["code"]  # a schema 1 manifest has no such field
        else:
            data["code"] = self.code.to_dict() if self.code is not None else None
        return canonical_json(data)

    def compute_id(self) -> str:
        """The artifact id: ``sha256:`` of :meth:`canonical_bytes`."""
        return digest_bytes(self.canonical_bytes())

    def content_size(self) -> int | None:
        """Size of the content blob: ``size``, or None for a directory (whose ``size`` is the
        sum of its files and whose blob is the tree listing)."""
        return self.size if self.tree is None else None

    def blob_digests(self) -> list[str]:
        """Every blob this artifact needs: the content (for a directory, the tree listing and
        each file)."""
        digests = [self.digest]
        if self.tree is not None:
            digests.extend(entry.digest for entry in self.tree)
        return digests

    def __repr__(self) -> str:
        return brief(
            self, "name", "media_type", "size", "codec", "digest", parents=len(self.parents)
        )
