"""Writes ``legacy-yard/``: a yard whose registry log predates the chain (event schema 1).

The files under ``legacy-yard/`` were written by this script running the modelyard of commit
1eb08fa, the last one before the registry log was chained, with that version's ``src`` first on
the path::

    python tests/registry/data/make_legacy_yard.py tests/registry/data/legacy-yard

``test_legacy.py`` reads them with the current modelyard. ``churn`` has 40 events of every kind
(and so a snapshot, at event 32), ``fraud`` has 3.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone

from modelyard.artifacts import ArtifactStore
from modelyard.registry import Registry
from modelyard.storage import LocalStore
from modelyard.testing import FakeClock


def write(path: str) -> None:
    clock = FakeClock(datetime(2025, 6, 1, tzinfo=timezone.utc), tick=timedelta(minutes=1))
    store = LocalStore(path, durable=False)
    registry = Registry(store, ArtifactStore(store, clock=clock), clock=clock, actor="ana")
    weights = [registry.artifacts.put(f"weights {n}".encode(), name="churn-model") for n in (1, 2)]
    for n in range(1, 6):
        registry.register(
            "churn",
            weights[n % 2],
            metrics={"auc": 0.8 + n / 100},
            params={"C": n},
            tags={"team": "risk"},
            description=f"retrain {n}",
        )
    registry.set_alias("churn", "champion", 2, reason="best auc")
    registry.set_alias("churn", "canary", 4)
    registry.delete_alias("churn", "canary")
    registry.set_tag("churn", "owner", "ana")
    registry.set_tag("churn", "checked", "yes", version=1)
    registry.delete_tag("churn", "checked", version=1)
    registry.set_description("churn", "weekly churn model")
    registry.set_description("churn", "the second one", version=2)
    registry.transition("churn", 2, "staging", reason="offline eval passed")
    registry.approve("churn", 2, "production", actor="lee", comment="reviewed")
    registry.transition("churn", 2, "production", actor="lee")
    registry.transition("churn", 3, "staging")
    registry.transition("churn", 3, "production", actor="lee")
    registry.rollback("churn", "production", actor="lee", reason="incident 42")
    registry.delete_version("churn", 5, reason="bad data")
    n = 6
    while registry.model("churn").head < 40:
        registry.register("churn", weights[n % 2], metrics={"auc": 0.7})
        n += 1
    for _ in range(3):
        registry.register("fraud", weights[0], actor="lee")


if __name__ == "__main__":
    write(sys.argv[1])
