"""The catalog's rows in memory and in the store, laid out so that a search decodes only the rows
of the models it may return.

Stored form (``catalog/catalog.json``), three parts separated by a newline:

* a header: ``{"schema_version", "cursor", "digest"}``, the digest (sha256) covering the rest;
* an index: ``{"names", "heads", "ends", "tags", "model_tags"}``: the model names in order,
  the event each model's row is current to, where each model's row ends in the rows part, and
  which models have a version (``tags``) or the model
  itself (``model_tags``) tagged ``key=value``, as ``{key: {value: [names]}}``;
* the rows, one JSON document per model, back to back (see ``ModelRow.to_json``).

Decoding a row is most of what a full decode would cost, so a search by tag decodes the index
and the rows its tags select, and nothing else.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from collections.abc import Iterable

from modelyard.errors import IntegrityError, ModelyardError
from modelyard.registry._catalog_rows import Filters, ModelRow
from modelyard.registry._cursor import Cursor
from modelyard.registry._layout import CATALOG

__all__ = ["SCHEMA_VERSION", "Table", "decode", "encode"]

SCHEMA_VERSION = 1

Postings = dict[str, dict[str, set[str]]]


class Table:
    """Every model's row: stored bytes decoded on first use, and postings of tags to models."""

    def __init__(self) -> None:
        self._blob: bytes | memoryview = b""
        self._spans: dict[str, tuple[int, int]] = {}
        self._heads: dict[str, int] = {}
        self._rows: dict[str, ModelRow] = {}
        self.tags: Postings = {}
        self.model_tags: Postings = {}

    @classmethod
    def of(cls, rows: Iterable[ModelRow]) -> Table:
        table = cls()
        for row in rows:
            table.put(row)
        return table

    def __len__(self) -> int:
        return len(self._spans.keys() | self._rows.keys())

    def head(self, name: str) -> int | None:
        return self._heads.get(name)

    def get(self, name: str) -> ModelRow | None:
        row = self._rows.get(name)
        if row is None and name in self._spans:
            start, end = self._spans[name]
            try:
                row = ModelRow.from_json(json.loads(bytes(self._blob[start:end])))
            except (ValueError, TypeError) as exc:
                raise IntegrityError(
                    f"{CATALOG}: the row of {name!r} cannot be read: {exc}"
                ) from None
            if row.name != name or row.head != self._heads.get(name):
                raise IntegrityError(f"{CATALOG}: the row of {name!r} is not the one indexed")
            self._rows[name] = row
        return row

    def put(self, row: ModelRow) -> None:
        old = self.get(row.name)
        if old is not None:
            for key, value in _version_tags(old):
                self.tags.get(key, {}).get(value, set()).discard(row.name)
            for key, value in old.tags.items():
                self.model_tags.get(key, {}).get(value, set()).discard(row.name)
        self._spans.pop(row.name, None)
        self._rows[row.name] = row
        self._heads[row.name] = row.head
        for key, value in _version_tags(row):
            self.tags.setdefault(key, {}).setdefault(value, set()).add(row.name)
        for key, value in row.tags.items():
            self.model_tags.setdefault(key, {}).setdefault(value, set()).add(row.name)

    def select(self, filters: Filters, glob: str | None) -> list[str]:
        """Names of the models with a version that matches ``filters`` (and ``glob``)."""
        names: set[str] | None = None
        for postings, wanted in ((self.tags, filters.tags), (self.model_tags, filters.model_tags)):
            for key, value in wanted.items():
                having = postings.get(key, {}).get(value, set())
                names = set(having) if names is None else names & having
        if names is None:
            names = self._spans.keys() | self._rows.keys()
        if glob is not None:
            names = {n for n in names if fnmatch.fnmatchcase(n, glob)}
        found = []
        for name in sorted(names):
            row = self.get(name)
            if row is not None and filters.admits(row):
                found.append(name)
        return found


def encode(table: Table, cursor: Cursor) -> bytes:
    """The stored form of ``table``, current to ``cursor``."""
    names = sorted(table._spans.keys() | table._rows.keys())
    parts: list[bytes] = []
    ends: list[int] = []
    end = 0
    for name in names:
        if name in table._rows:
            text = json.dumps(
                table._rows[name].to_json(), separators=(",", ":"), ensure_ascii=False
            ).encode()
        else:
            start, stop = table._spans[name]
            text = bytes(table._blob[start:stop])
        parts.append(text)
        end += len(text)
        ends.append(end)
    index = {
        "names": names,
        "heads": [table._heads[name] for name in names],
        "ends": ends,
        "tags": _lists(table.tags),
        "model_tags": _lists(table.model_tags),
    }
    rest = json.dumps(index, separators=(",", ":"), ensure_ascii=False).encode()
    rest += b"\n" + b"".join(parts)
    header = {
        "schema_version": SCHEMA_VERSION,
        "cursor": cursor.encode(),
        "digest": "sha256:" + hashlib.sha256(rest).hexdigest(),
    }
    return json.dumps(header, sort_keys=True).encode() + b"\n" + rest


def decode(raw: bytes) -> tuple[Table, Cursor]:
    """A stored catalog; :class:`IntegrityError` for one that cannot be used as it is."""
    # Offsets into one buffer, not slices: the rows part is most of the bytes, copied for nothing.
    view = memoryview(raw)
    first = raw.find(b"\n")
    try:
        header = json.loads(raw[:first] if first >= 0 else raw)
        if not isinstance(header, dict):
            raise ValueError("the header is not an object")
        version = header.get("schema_version")
        if version != SCHEMA_VERSION:
            raise IntegrityError(
                f"{CATALOG} has schema_version {version!r}; this version of modelyard reads "
                f"{SCHEMA_VERSION}",
                key=CATALOG,
            )
        digest = "sha256:" + hashlib.sha256(view[first + 1 :]).hexdigest()
        if first < 0 or header.get("digest") != digest:
            raise IntegrityError(f"{CATALOG} does not match its digest", key=CATALOG)
        cursor = Cursor.decode(header.get("cursor"))
        second = raw.find(b"\n", first + 1)
        if second < 0:
            raise ValueError("the rows are missing")
        index = json.loads(raw[first + 1 : second])
        names, heads, ends = index["names"], index["heads"], index["ends"]
        if not len(names) == len(heads) == len(ends) or (
            ends and ends[-1] != len(raw) - second - 1
        ):
            raise ValueError("the index does not match the rows")
        table = Table()
        table._blob = view[second + 1 :]
        table._heads = dict(zip(names, heads, strict=True))
        table._spans = dict(zip(names, zip([0, *ends[:-1]], ends, strict=True), strict=True))
        table.tags = _sets(index["tags"])
        table.model_tags = _sets(index["model_tags"])
    except IntegrityError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, ModelyardError) as exc:
        raise IntegrityError(f"{CATALOG} cannot be read: {exc}", key=CATALOG) from None
    return table, cursor


def _version_tags(row: ModelRow) -> set[tuple[str, str]]:
    return {pair for version in row.versions for pair in version[4].items()}


def _lists(postings: Postings) -> dict[str, dict[str, list[str]]]:
    return {
        key: {value: sorted(names) for value, names in sorted(values.items()) if names}
        for key, values in sorted(postings.items())
    }


def _sets(stored: object) -> Postings:
    if not isinstance(stored, dict):
        raise ValueError("tags are not an object")
    return {
        key: {value: set(names) for value, names in values.items()}
        for key, values in stored.items()
    }
