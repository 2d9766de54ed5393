from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.artifacts import ArtifactRef, ArtifactStore
from modelyard.registry import Registry
from modelyard.storage import LocalStore, MemoryStore, Store
from modelyard.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "local"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "memory":
        return MemoryStore()
    return LocalStore(tmp_path / "yard", durable=False)


@pytest.fixture
def registry(store: Store, clock: FakeClock) -> Registry:
    return Registry(store, ArtifactStore(store, clock=clock), clock=clock, actor="ana")


@pytest.fixture
def model_ref(registry: Registry) -> ArtifactRef:
    return registry.artifacts.put({"weights": [0.25, 0.5]}, name="churn-model")
