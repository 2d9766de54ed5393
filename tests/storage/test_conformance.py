"""The built-in stores pass the public conformance suite exactly as a third-party store would."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from modelyard.storage import (
    CountingStore,
    FsspecStore,
    LatencyStore,
    LocalStore,
    MemoryStore,
    Store,
)
from modelyard.testing import StoreConformance


class TestLocalStore(StoreConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return LocalStore(tmp_path / "store")


class TestMemoryStore(StoreConformance):
    # Not shared across processes: the multi-process checks skip themselves (see capabilities).
    @pytest.fixture
    def store(self) -> Store:
        return MemoryStore()


class TestFsspecFile(StoreConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return FsspecStore(f"file://{tmp_path / 'store'}")


class TestFsspecMemory(StoreConformance):
    # fsspec's memory filesystem lives in one process: multi-process checks skip themselves.
    @pytest.fixture
    def store(self) -> Store:
        return FsspecStore(f"memory://conformance-{uuid.uuid4().hex}")


@pytest.mark.s3
class TestFsspecS3(StoreConformance):
    @pytest.fixture
    def store(self, s3_url: str, s3_endpoint: str) -> Store:
        return FsspecStore(s3_url, endpoint_url=s3_endpoint, key="testing", secret="testing")


class TestCountingLocalStore(StoreConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return CountingStore(LocalStore(tmp_path / "store"))


class TestCountingMemoryStore(StoreConformance):
    @pytest.fixture
    def store(self) -> Store:
        return CountingStore(MemoryStore())


class TestLatencyLocalStore(StoreConformance):
    # A millisecond: enough to shift the timing of the races, little enough to keep them quick.
    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return LatencyStore(LocalStore(tmp_path / "store"), latency=0.001)


class TestLatencyMemoryStore(StoreConformance):
    @pytest.fixture
    def store(self) -> Store:
        return LatencyStore(MemoryStore(), latency=0.001)
