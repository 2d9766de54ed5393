"""The registry on S3 (moto on loopback): the same guarantees, through conditional writes."""

from __future__ import annotations

import multiprocessing
from urllib.parse import parse_qs

import pytest

from modelyard.yard import open_yard

from ..conftest import S3Requests
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


def test_requests_per_operation_on_s3(
    s3_url: str, s3_endpoint: str, s3_requests: S3Requests, capsys: pytest.CaptureFixture[str]
) -> None:
    """Counted on the wire (the S3 server's own log). A warm resolve is the registry's freshness
    check: one failed read of the next event's key, so one request."""
    options = {"endpoint_url": s3_endpoint, "key": "testing", "secret": "testing"}
    counts: dict[str, list[tuple[str, str, str]]] = {}
    writer = open_yard(s3_url, actor="ana", **options)
    counts["open_yard (new yard)"] = s3_requests.take()
    artifact = writer.artifacts.put({"weights": [1, 2]}, name="churn-model")
    counts["artifact put"] = s3_requests.take()
    writer.registry.register("churn", artifact)
    counts["register (new model)"] = s3_requests.take()
    writer.registry.register("churn", artifact)
    counts["register (version 2)"] = s3_requests.take()
    reader = open_yard(s3_url, create=False, **options)
    counts["open_yard"] = s3_requests.take()
    reader.registry.resolve("churn@latest")
    counts["cold resolve"] = s3_requests.take()
    reader.registry.resolve("churn@latest")
    counts["warm resolve"] = s3_requests.take()
    reader.artifacts.get(artifact.id)
    counts["artifact get"] = s3_requests.take()
    reader.registry.load("churn@latest")
    counts["warm load"] = s3_requests.take()

    with capsys.disabled():
        print("\nS3 requests per operation (counted at the server):")
        for operation, requests in counts.items():
            shown = ", ".join(_request(*request) for request in requests)
            print(f"  {operation:22} {len(requests):2}  {shown}"[:160])

    warm = counts["warm resolve"]
    assert len(warm) == 1, warm
    method, path, _ = warm[0]
    assert method == "GET" and path.endswith("/models/churn/log/000000000003.json")
    assert len(counts["open_yard"]) == 1  # one GET of the yard's marker
    # The other figures belong to the layers above; what the store adds is nothing: no read is a
    # HEAD then a GET, and no missing key costs a folder probe (a LIST of one key after a 404).
    for operation, requests in counts.items():
        assert not [q for _, _, q in requests if "max-keys=1" in q], operation
        heads = {path for method, path, _ in requests if method == "HEAD"}
        gets = {path for method, path, _ in requests if method == "GET"}
        assert not heads & gets, operation


def _request(method: str, path: str, query: str) -> str:
    if "list-type=2" in query:
        prefix = parse_qs(query).get("prefix", [""])[0]
        return f"LIST {prefix.split('/', 1)[-1]}"
    return f"{method} {path.split('/', 3)[-1]}"
