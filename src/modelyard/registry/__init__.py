"""The model registry: named models, versions, aliases, tags, lifecycle stages and history.

Event-sourced on any :class:`~modelyard.storage.Store` with an atomic ``create``: no server, no
lock. See ``docs/registry.md``.

>>> import modelyard as my
>>> yard = my.open_yard("memory://registry-doctest")
>>> mv = yard.registry.register("fraud", b"model bytes", metrics={"auc": 0.88}, actor="ana")
>>> yard.registry.resolve("fraud@latest").version
1
"""

import modelyard._internal.public as _public
from modelyard.registry._card import ModelCard
from modelyard.registry._copy import CopyResult
from modelyard.registry._governance_events import GovernanceEntry
from modelyard.registry._provenance import Provenance
from modelyard.registry._records import (
    AliasMove,
    Evidence,
    FeedEvent,
    FeedPage,
    HistoryEntry,
    ModelSnapshot,
    ModelVersion,
    RegisteredModel,
    RegistryEvent,
)
from modelyard.registry._references import ReferenceProblem
from modelyard.registry._registry import Registry, RegistryListener
from modelyard.registry._report import LogProblem, ModelCheck, RegistryReport
from modelyard.registry._search import OrderBy
from modelyard.registry._snapshots import SnapshotWarning

__all__ = [
    "AliasMove",
    "CopyResult",
    "Evidence",
    "FeedEvent",
    "FeedPage",
    "GovernanceEntry",
    "HistoryEntry",
    "LogProblem",
    "ModelCard",
    "ModelCheck",
    "ModelSnapshot",
    "ModelVersion",
    "OrderBy",
    "Provenance",
    "ReferenceProblem",
    "RegisteredModel",
    "Registry",
    "RegistryEvent",
    "RegistryListener",
    "RegistryReport",
    "SnapshotWarning",
]

_public.publish(__name__, globals(), __all__)
