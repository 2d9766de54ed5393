"""The registry on S3 (moto on loopback): the same guarantees, through conditional writes."""

from __future__ import annotations

import multiprocessing

import pytest

from modelyard.yard import open_yard

from . import _workers
from .test_processes import _gather

pytestmark = [pytest.mark.s3, pytest.mark.slow]


def test_registry_round_trip_and_concurrent_registrations_on_s3(
    s3_url: str, s3_endpoint: str
) -> None:
    options = {"endpoint_url": s3_endpoint, "key": "testing", "secret": "testing"}
    yard = open_yard(s3_url, actor="ana", **options)
    assert yard.store.capabilities.atomic_create
    artifact = yard.artifacts.put({"weights": [1, 2]}, name="churn-model")
    mv = yard.registry.register("churn", artifact, metrics={"auc": 0.9})
    yard.registry.transition("churn", mv.version, "staging")
    yard.registry.set_alias("churn", "champion", mv.version, expected=None)
    assert open_yard(s3_url, **options).registry.load("churn@champion") == {"weights": [1, 2]}

    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(4), ctx.Queue()
    procs = [
        ctx.Process(
            target=_workers.register_many_s3,
            args=(s3_url, s3_endpoint, artifact.id, w, 5, barrier, queue),
        )
        for w in range(4)
    ]
    for proc in procs:
        proc.start()
    results = _gather(queue, procs, 20)
    assert sorted(v for _, _, v in results) == list(range(2, 22))
    versions = open_yard(s3_url, **options).registry.versions("churn")
    assert [v.version for v in versions] == list(range(1, 22))
