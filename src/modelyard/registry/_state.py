"""A model's state: the fold of its event log.

States are immutable: an event's ``apply`` (see ``_events.py``) returns a new state and never
mutates the old one, so a state can be cached and shared between threads while a writer derives
the next one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from types import MappingProxyType
from typing import Any

from modelyard._internal.frozen import FrozenMap
from modelyard.lifecycle import Approval, StateChange
from modelyard.registry._records import Evidence, ModelVersion

__all__ = ["EMPTY", "ModelState", "frozen"]

EMPTY: Mapping[str, Any] = FrozenMap()


def frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only copy of ``mapping`` (the shared empty mapping when there is nothing in it)."""
    return FrozenMap(mapping) if mapping else EMPTY


@dataclass(frozen=True)
class ModelState:
    """Everything the registry knows about one model after folding its log up to ``head``.

    ``name`` is the name the log is stored under. ``model_id`` is the random identity fixed by the
    model's first chained event (None while the log holds only events written before the chain
    existed), and ``head_digest`` the sha256 of event ``head``'s stored bytes, which the next
    event must name as its predecessor. ``aliases`` maps each alias that points at a version now
    to it (following aliases included); ``follows`` maps each alias bound to a stage to the stage;
    ``evidence`` holds every attachment, oldest first.
    """

    name: str
    head: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    versions: Mapping[int, ModelVersion] = field(default_factory=lambda: MappingProxyType({}))
    aliases: Mapping[str, int] = field(default_factory=lambda: EMPTY)
    follows: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    approvals: tuple[Approval, ...] = ()
    changes: tuple[StateChange, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    max_version: int = 0
    model_id: str | None = None
    head_digest: str | None = None

    @property
    def latest(self) -> int | None:
        """The highest version that is not deleted."""
        for number in range(self.max_version, 0, -1):
            record = self.versions.get(number)
            if record is not None and not record.deleted:
                return number
        return None

    def holders(self, stage: str) -> tuple[int, ...]:
        """The live versions in ``stage``, lowest first."""
        return self._by_stage.get(stage, ())

    @cached_property
    def _by_stage(self) -> Mapping[str, tuple[int, ...]]:
        # Computed once per state (states are immutable), so resolving "name@production" on a
        # cached state does not walk every version again.
        by_stage: dict[str, list[int]] = {}
        for number, record in sorted(self.versions.items()):
            if not record.deleted:
                by_stage.setdefault(record.state, []).append(number)
        return {stage: tuple(numbers) for stage, numbers in by_stage.items()}

    def all_aliases(self) -> dict[str, int]:
        """User aliases plus the automatic ``latest``."""
        aliases = dict(self.aliases)
        latest = self.latest
        if latest is not None:
            aliases["latest"] = latest
        return aliases

    def record(self, version: ModelVersion) -> ModelVersion:
        """``version`` with its current aliases filled in."""
        names = tuple(sorted(a for a, v in self.all_aliases().items() if v == version.version))
        return replace(version, aliases=names) if names else version
