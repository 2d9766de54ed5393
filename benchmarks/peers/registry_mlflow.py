"""MLflow's model registry on the operations of benchmarks/registry.py, for comparison.

Runs in its own environment (`nox -s bench_peers`), never in modelyard's. Uses MLflow's sqlite
backend in a temporary folder, the fastest local backend it has, and prints per-operation medians:

    python benchmarks/peers/registry_mlflow.py
"""

from __future__ import annotations

import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _client(uri: str):  # type: ignore[no-untyped-def]
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _worker(uri: str, worker: int, count: int, barrier, out) -> None:  # type: ignore[no-untyped-def]
    client = _client(uri)
    barrier.wait()
    ok = 0
    for n in range(count):
        try:
            client.create_model_version(
                "concurrent", f"file:///tmp/m{worker}-{n}", tags={"w": str(worker)}
            )
            ok += 1
        except Exception:
            pass
    out.put(ok)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        uri = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
        client = _client(uri)
        client.create_registered_model("churn")
        per_version = timed(
            lambda: client.create_model_version(
                "churn", "file:///tmp/model", tags={"team": "risk"}
            ),
            300,
        )
        alias_set = timed(
            lambda: client.set_registered_model_alias("churn", "champion", "150"), 100
        )
        resolve = timed(lambda: client.get_model_version_by_alias("churn", "champion"), 500)
        for m in range(30):
            client.create_registered_model(f"model-{m:02d}")
            for v in range(10):
                client.create_model_version(
                    f"model-{m:02d}", "file:///tmp/model", tags={"team": "risk" if v % 3 else "ops"}
                )
        search = timed(
            lambda: client.search_model_versions("tags.team = 'ops'", max_results=1000), 50
        )
        latest = timed(lambda: client.get_latest_versions("churn"), 200)

        client.create_registered_model("concurrent")
        ctx = multiprocessing.get_context("spawn")
        barrier, queue = ctx.Barrier(4), ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(uri, w, 25, barrier, queue)) for w in range(4)]
        for proc in procs:
            proc.start()
        succeeded = sum(queue.get(timeout=600) for _ in procs)
        for proc in procs:
            proc.join()
        stored = len(client.search_model_versions("name = 'concurrent'", max_results=1000))

    med = statistics.median
    print("\nMLflow model registry, sqlite backend (medians, ms)")
    print(
        f"register per version, median of 300  {med(per_version):8.3f}  (v1-30 {med(per_version[:30]):.3f}, v271-300 {med(per_version[-30:]):.3f})"
    )
    print(f"alias set                            {med(alias_set):8.3f}")
    print(f"alias resolve                        {med(resolve):8.3f}")
    print(f"tag search, 30 models x 10 versions  {med(search):8.3f}")
    print(f"latest versions                      {med(latest):8.3f}")
    print(f"4 processes x 25 registrations       {succeeded}/100 reported, {stored}/100 stored")


if __name__ == "__main__":
    main()
