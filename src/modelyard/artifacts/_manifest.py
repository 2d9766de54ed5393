"""The manifest: what an artifact is, and the source of its id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from modelyard._internal.canonical import canonical_json
from modelyard._internal.hashing import DIGEST_PATTERN, digest_bytes
from modelyard._internal.reprs import brief
from modelyard.artifacts._code import CodeRecord

__all__ = [
    "SCHEMA_VERSION",
    "TREE_LISTING",
    "Environment",
    "Manifest",
    "Pack",
    "TreeEntry",
    "blob_sizes",
    "listing_of",
]

#: Bumped on any change to the manifest's fields or their meaning. Schema 2 adds ``code``; schema 3
#: adds ``packs`` (small files of a folder stored together, see ``_packs.py``) and where each file
#: sits in one. A manifest is written with the lowest schema that holds it: one without code or
#: packs as schema 1, byte for byte as before, so that earlier releases read it (and refuse a
#: later one with advice to upgrade, rather than misread it).
SCHEMA_VERSION = 3

#: What a tree entry says about where its bytes are stored, not what they are: left out of the
#: listing (so a folder's content digest does not depend on how it was stored) and out of the
#: manifests of schema 1 and 2.
_PLACEMENT = frozenset({"pack", "offset"})


def _digest(value: str) -> str:
    if not DIGEST_PATTERN.match(value):
        raise ValueError(f"{value!r} is not a 'sha256:<64 hex>' digest")
    return value


class _Frozen(BaseModel):
    # Schemas are built on first use, not at import: services embedding modelyard start faster.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class TreeEntry(_Frozen):
    """One file of a directory artifact: its ``/``-separated path inside the directory, the
    digest and size of its content, and whether it is executable.

    Its bytes are the blob named by ``digest``, or, when ``pack`` is set, the ``size`` bytes at
    ``offset`` in the manifest's ``packs[pack]`` (small files of a folder are stored together).
    """

    path: str
    digest: str
    size: int = Field(ge=0)
    executable: bool = False
    pack: int | None = Field(default=None, ge=0)
    offset: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _check_placement(self) -> TreeEntry:
        if (self.pack is None) != (self.offset is None):
            raise ValueError(f"{self.path!r}: a packed file needs both its pack and its offset")
        return self

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
        return _digest(value)


#: A folder's listing (its content blob) read or written in one call, not one entry at a time.
TREE_LISTING = TypeAdapter(list[TreeEntry])


def listing_of(entries: Sequence[TreeEntry]) -> bytes:
    """A folder's listing: the canonical JSON of its entries without where they are stored. Its
    digest is the folder's content digest, so the same files give the same digest however they
    were stored."""
    placement = {"__all__": set(_PLACEMENT)}
    data = TREE_LISTING.dump_python(list(entries), mode="json", exclude=placement)
    return canonical_json(data)


def blob_sizes(
    digest: str,
    size: int | None,
    tree: Sequence[TreeEntry] | None,
    packs: Sequence[Pack],
) -> dict[str, int | None]:
    """The blobs content needs (``digest`` of ``size`` bytes, if known; for a folder its
    ``packs`` and each file of its ``tree`` not in a pack), with their sizes where known."""
    sizes: dict[str, int | None] = {digest: size}
    for pack in packs:
        sizes.setdefault(pack.digest, pack.size)
    for entry in tree or ():
        if entry.pack is None:
            sizes.setdefault(entry.digest, entry.size)
    return sizes


class Pack(_Frozen):
    """A blob holding the bytes of small files of a folder, one after the other: its digest and
    size. Tree entries point into it by index and offset."""

    digest: str
    size: int = Field(ge=0)

    @field_validator("digest")
    @classmethod
    def _check_digest(cls, value: str) -> str:
        return _digest(value)


class Environment(_Frozen):
    """Where an artifact was produced: the Python version and the packages its codec used."""

    python: str
    packages: dict[str, str] = Field(default_factory=dict)


class Manifest(_Frozen):
    """Everything known about one artifact. Frozen; the artifact's id is :meth:`compute_id`.

    Attributes:
        schema_version: the manifest format version: 3 when it has ``packs``, else 2 when it
            records ``code``, else 1.
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
        packs: for a directory artifact, the blobs its small files are stored in (entries
            point into them by index); else empty.

    >>> from datetime import datetime, timezone
    >>> m = Manifest(digest="sha256:" + "0" * 64, size=2, media_type="application/json",
    ...              codec="json", created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    ...              environment=Environment(python="3.11.7"))
    >>> m.compute_id() == Manifest.model_validate_json(m.canonical_bytes()).compute_id()
    True
    """

    schema_version: Literal[1, 2, 3] = 1
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
    packs: tuple[Pack, ...] = ()

    @model_validator(mode="after")
    def _check_schema(self) -> Manifest:
        if self.schema_version != self.lowest_schema(code=self.code, packs=self.packs):
            raise ValueError(
                "a manifest has the lowest schema that holds it: 3 with packs, else 2 with "
                f"code, else 1 (this one says {self.schema_version})"
            )
        if self.packs and self.tree is None:
            raise ValueError("only a directory artifact stores files in packs")
        placed = [entry for entry in self.tree or () if entry.pack is not None]
        if placed and self.schema_version < 3:
            raise ValueError("a manifest before schema 3 has no packs to place files in")
        for entry in placed:
            assert entry.pack is not None and entry.offset is not None
            if entry.pack >= len(self.packs):
                raise ValueError(f"{entry.path!r} is in pack {entry.pack}, which is not listed")
            if entry.offset + entry.size > self.packs[entry.pack].size:
                raise ValueError(f"{entry.path!r} ends past the end of its pack")
        return self

    @staticmethod
    def lowest_schema(*, code: CodeRecord | None, packs: Sequence[Pack]) -> Literal[1, 2, 3]:
        """The schema a manifest with this ``code`` and these ``packs`` is written with.

        >>> Manifest.lowest_schema(code=None, packs=())
        1
        """
        return 3 if packs else 2 if code is not None else 1

    @field_validator("digest", "parents")
    @classmethod
    def _check_digests(cls, value: Any) -> Any:
        for item in (value,) if isinstance(value, str) else value:
            _digest(item)
        return value

    @field_validator("created_at")
    @classmethod
    def _check_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("created_at must be timezone-aware (UTC)")
        return value

    def canonical_bytes(self) -> bytes:
        """The manifest as canonical JSON: the exact bytes that are stored and hashed."""
        # Schema 1 and 2 have neither packs nor placements: their bytes stay as they were.
        exclude: Any = {"packs"} if self.schema_version < 3 else None
        if exclude is not None and self.tree is not None:
            exclude = {"packs": True, "tree": {"__all__": _PLACEMENT}}
        data = self.model_dump(mode="json", exclude=exclude)
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

    def blob_sizes(self) -> dict[str, int | None]:
        """Every blob this artifact needs, with its size where the manifest knows it: the
        content (for a directory: the tree listing, each pack, and each file not in a pack)."""
        return blob_sizes(self.digest, self.content_size(), self.tree, self.packs)

    def blob_digests(self) -> list[str]:
        """Every blob this artifact needs (see :meth:`blob_sizes`)."""
        return list(self.blob_sizes())

    def __repr__(self) -> str:
        return brief(
            self, "name", "media_type", "size", "codec", "digest", parents=len(self.parents)
        )
