"""One model's row in the search catalog, and the search filters a row can answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from modelyard.registry._search import metrics_match
from modelyard.registry._state import ModelState

__all__ = ["Filters", "ModelRow"]

# One version in a row: (number, state, created_at in epoch microseconds or None, deleted, tags,
# metrics). Tuples, not objects: a catalog of 100,000 versions loads in tens of milliseconds.
VersionRow = tuple[int, str, "int | None", bool, Mapping[str, str], Mapping[str, float]]


@dataclass(frozen=True)
class ModelRow:
    """What the catalog knows of one model, as of its event ``head``."""

    name: str
    head: int
    tags: Mapping[str, str]
    aliases: Mapping[str, int]
    versions: tuple[VersionRow, ...]

    @classmethod
    def of(cls, state: ModelState) -> ModelRow:
        return cls(
            name=state.name,
            head=state.head,
            tags=dict(state.tags),
            aliases=state.all_aliases(),
            versions=tuple(
                (
                    v.version,
                    v.state,
                    _micros(v.created_at),
                    v.deleted,
                    dict(v.tags),
                    dict(v.metrics),
                )
                for _, v in sorted(state.versions.items())
            ),
        )

    def to_json(self) -> list[Any]:
        return [
            self.name,
            self.head,
            self.tags,
            self.aliases,
            [[n, s, c, int(d), t, m] for n, s, c, d, t, m in self.versions],
        ]

    @classmethod
    def from_json(cls, row: Any) -> ModelRow:
        name, head, tags, aliases, versions = row
        if not (
            isinstance(name, str)
            and isinstance(head, int)
            and isinstance(tags, dict)
            and isinstance(aliases, dict)
            and isinstance(versions, list)
        ):
            raise ValueError(f"a catalog row of an unexpected shape: {row[:2]!r}")
        return cls(
            name,
            head,
            tags,
            aliases,
            tuple((n, s, c, bool(d), t, m) for n, s, c, d, t, m in versions),
        )


@dataclass(frozen=True)
class Filters:
    """The filters of a search that a catalog row can answer (see ``search_versions``)."""

    tags: Mapping[str, str]
    model_tags: Mapping[str, str]
    min_metrics: Mapping[str, float]
    max_metrics: Mapping[str, float]
    state: str | None
    alias: str | None
    include_deleted: bool

    def admits(self, row: ModelRow) -> bool:
        """Whether any version of ``row`` matches, by the rules of ``search_versions``."""
        if row.head == 0 or any(row.tags.get(k) != v for k, v in self.model_tags.items()):
            return False
        aliased = row.aliases.get(self.alias) if self.alias is not None else None
        if self.alias is not None and aliased is None:
            return False
        for number, state, _, deleted, tags, metrics in row.versions:
            if deleted and not self.include_deleted:
                continue
            if self.state is not None and state != self.state:
                continue
            if aliased is not None and aliased != number:
                continue
            if any(tags.get(k) != v for k, v in self.tags.items()):
                continue
            if metrics_match(metrics, self.min_metrics, self.max_metrics):
                return True
        return False


def _micros(at: datetime | None) -> int | None:
    if at is None:
        return None
    delta = at.astimezone(timezone.utc) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
