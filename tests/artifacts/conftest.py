"""Fixtures for the artifact tests: one ArtifactStore per backend kind."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from modelyard.artifacts import ArtifactStore
from modelyard.storage import FsspecStore, LocalStore, MemoryStore, Store
from modelyard.testing import FakeClock


def _make(kind: str, tmp_path: Path) -> Store:
    if kind == "local":
        return LocalStore(tmp_path / "store")
    if kind == "memory":
        return MemoryStore()
    if kind == "fsspec-memory":  # no staging support: exercises the spool-file path
        return FsspecStore(f"memory://artifacts-{uuid.uuid4().hex}")
    raise AssertionError(kind)


@pytest.fixture(params=["local", "memory", "fsspec-memory"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return _make(request.param, tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def artifacts(tmp_path: Path, clock: FakeClock) -> ArtifactStore:
    """A store on a local folder with a fake clock."""
    return ArtifactStore(LocalStore(tmp_path / "store"), clock=clock)


@pytest.fixture
def mem_artifacts(clock: FakeClock) -> ArtifactStore:
    return ArtifactStore(MemoryStore(), clock=clock)
