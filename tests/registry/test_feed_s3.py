"""The feed on S3 (moto on loopback): an idle poll's requests, counted at the server."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from modelyard.registry import Registry
from modelyard.storage import FsspecStore
from modelyard.testing import FakeClock

from ..conftest import S3Requests

pytestmark = [pytest.mark.s3, pytest.mark.slow]


def _methods(s3_requests: S3Requests) -> list[str]:
    return ["LIST" if "list-type=2" in query else method for method, _, query in s3_requests.take()]


def test_an_idle_poll_costs_the_same_few_listings_with_5_and_200_models_on_s3(
    s3_url: str, s3_endpoint: str, s3_requests: S3Requests
) -> None:
    pytest.importorskip("s3fs", minversion="2024.12.0")
    idle: list[list[str]] = []
    for models in (5, 200):
        store = FsspecStore(
            f"{s3_url}/{models}", endpoint_url=s3_endpoint, key="testing", secret="testing"
        )
        # The same times in both yards, so that the polls look at the same minute folders.
        clock = FakeClock(datetime(2026, 1, 1, 12, 0, 40, tzinfo=timezone.utc))
        registry = Registry(store, actor="ana", clock=clock)
        for m in range(models):
            registry.register(f"m{m:03d}", b"w")
        watcher = Registry(store, actor="ana", clock=clock)
        cursor = watcher.events().cursor
        clock.advance(seconds=1)
        s3_requests.take()
        cursor = watcher.events(cursor).cursor
        idle.append(_methods(s3_requests))
        clock.advance(seconds=30)  # the look-back now reaches into the minute before
        cursor = watcher.events(cursor).cursor
        idle.append(_methods(s3_requests))
        # A promotion is seen at the next poll, for a GET or two on top of the listings.
        registry.transition("m001", 1, "staging")
        s3_requests.take()
        page = watcher.events(cursor)
        assert [(e.model, e.seq, e.kind) for e in page] == [("m001", 2, "transition")]
        assert _methods(s3_requests).count("LIST") <= 2
    assert idle[:2] == idle[2:]
    assert idle[:2] == [["LIST"], ["LIST", "LIST"]]
