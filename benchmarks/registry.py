"""Registry benchmark: local folder, durable writes, every figure from this one run.

    python benchmarks/registry.py [--quick]

The 1,000-model figures (skipped by ``--quick``) include one ``registry.verify()`` of every chain.
The search catalog's growth table runs at 100, 1,000 and 10,000 models (``--quick``: 100 and
1,000; see ``_catalog_bench.py``).
The event feed's figures (requests of an idle poll with 1,000 models, latency from a commit to a
watcher, ``events()`` throughput) are measured in both modes, on a folder that does not fsync.

Prints per-operation medians beside the targets of the registry issue and beside MLflow's figures
(measured separately on the same kind of machine and quoted, not re-measured here; run
`nox -s bench_peers` to measure MLflow yourself). The baseline measured in this run is one durable
exclusive create of a small file, the floor under any durable registration, timed between the
registrations it is compared with.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _catalog_bench import catalog_rows  # beside this script, which is run as a file
from _feed_bench import feed_rows

from modelyard.registry import Registry
from modelyard.storage import LocalStore
from modelyard.yard import open_yard

MLFLOW_SQLITE = {  # ms, measured separately (see the registry issue and benchmarks/peers/)
    "register (per version)": "3.2",
    "alias set": "5.1",
    "alias resolve": "1.2",
    "tag search, 30 models x 10 versions": "3 to 7",
    "resolve latest": "-",
}
MLFLOW_FILE = {
    "register (per version)": "13 -> 220 at v300",
    "resolve latest": "600",
}


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def median(values: list[float]) -> float:
    return statistics.median(values)


def _register_worker(path: str, artifact: str, worker: int, count: int, barrier: object) -> None:
    registry = open_yard(path).registry
    barrier.wait()  # type: ignore[attr-defined]
    for n in range(count):
        registry.register("concurrent", artifact, tags={"w": str(worker), "n": str(n)})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the 1,000-model figures")
    args = parser.parse_args()
    rows: list[tuple[str, float, str, str]] = []  # (what, ms, target, verdict)
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        root = Path(tmp)
        store = LocalStore(root / "yard")  # durable: files and folders fsynced
        registry = Registry(store)
        artifact = registry.artifacts.put(b"model weights" * 1000, name="bench-model")

        # Register 300 versions of one model: the median and its flatness up to v300.
        per_version = timed(
            lambda: registry.register("churn", artifact, tags={"team": "risk"}), 300
        )
        first, last = median(per_version[:30]), median(per_version[-30:])
        reg_median = median(per_version)
        rows.append(("register (per version), median of 300", reg_median, "<= 1.5", ""))
        rows.append(("  versions 1-30 / 271-300 medians", first, "", f"{last:.3f} at v300"))
        rows.append(("  flatness: v271-300 / v1-30", last / first, "~1", ""))

        alias_set = median(timed(lambda: registry.set_alias("churn", "champion", 150), 100))
        rows.append(("alias set", alias_set, "", ""))
        resolve = median(timed(lambda: registry.resolve("churn@champion"), 2000))
        rows.append(("alias resolve", resolve, "<= 0.05", ""))
        cold = median(timed(lambda: Registry(store).resolve("churn@champion"), 50))
        rows.append(("  alias resolve, new Registry object (cold)", cold, "", ""))

        latest = median(timed(lambda: registry.load("churn@latest"), 500))
        rows.append(("resolve + load latest", latest, "", ""))

        for m in range(30):
            for v in range(10):
                registry.register(
                    f"model-{m:02d}", artifact, tags={"team": "risk" if v % 3 else "ops"}
                )
        search = median(timed(lambda: registry.search(tags={"team": "ops"}), 200))
        rows.append(("tag search, 30 models x 10 versions", search, "<= 3", ""))
        cold_search = median(timed(lambda: Registry(store).search(tags={"team": "ops"}), 10))
        rows.append(("  tag search, new Registry object (cold)", cold_search, "", ""))

        # The baseline: one durable exclusive create of a small file, timed alternately with 200
        # registrations of a new model (placed after the search, which it would slow), so that
        # both see the same disk and journal state. Timed in a block of its own before the
        # registrations, it ran on a quieter journal and came out 10-15% lower than the same
        # creates made between registrations.
        payload = b'{"kind":"version.registered"}' * 8
        counter = iter(range(10**9))
        creates: list[float] = []
        paired: list[float] = []
        for _ in range(200):
            creates += timed(lambda: store.create(f"baseline/{next(counter)}", payload), 1)
            paired += timed(lambda: registry.register("paired", artifact, tags={"team": "risk"}), 1)
        baseline = median(creates)
        rows.insert(
            3,
            (
                "  register / durable create, alternated (x)",
                median(paired) / baseline,
                "<= 1.5",
                "",
            ),
        )

        # 4 processes x 25 concurrent registrations on one model.
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(4)
        procs = [
            ctx.Process(
                target=_register_worker, args=(str(root / "yard"), artifact.id, w, 25, barrier)
            )
            for w in range(4)
        ]
        start = time.perf_counter()
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        elapsed = time.perf_counter() - start
        versions = Registry(store).versions("concurrent")
        ok = [v.version for v in versions] == list(range(1, 101)) and all(
            p.exitcode == 0 for p in procs
        )
        concurrent_verdict = f"{len(versions)}/100 ok" if ok else f"FAIL: {len(versions)}/100"

        feed = feed_rows(root / "feed")
        catalog = catalog_rows(root, (100, 1000) if args.quick else (100, 1000, 10_000))

        big: list[tuple[str, float]] = []
        if not args.quick:
            big_store = LocalStore(root / "big")
            big_registry = Registry(big_store)
            big_artifact = big_registry.artifacts.put(b"w" * 100, name="m")
            start = time.perf_counter()
            for m in range(1000):
                for _ in range(10):
                    big_registry.register(f"m{m:04d}", big_artifact, tags={"team": f"t{m % 7}"})
            big.append(
                (
                    "register, 1,000 models x 10 versions (per version)",
                    (time.perf_counter() - start) / 10,
                )
            )
            big.append(
                (
                    "alias resolve (1,000 models)",
                    median(timed(lambda: big_registry.resolve("m0500@latest"), 1000)),
                )
            )
            big.append(
                (
                    "tag search (1,000 models x 10 versions)",
                    median(timed(lambda: big_registry.search(tags={"team": "t3"}), 20)),
                )
            )
            big.append(
                (
                    "  same, new Registry object (cold)",
                    median(timed(lambda: Registry(big_store).search(tags={"team": "t3"}), 3)),
                )
            )
            start = time.perf_counter()
            report = big_registry.verify()
            verify_ms = (time.perf_counter() - start) * 1000
            if not report.ok or len(report.models) != 1000:
                raise SystemExit(f"verify found problems in a sound registry: {report.problems}")
            big.append(("registry.verify(), 1,000 models x 10 events", verify_ms))

    print(
        f"\nmodelyard registry on a local folder (durable). Baseline: durable create {baseline:.3f} ms\n"
    )
    print(
        f"{'operation':52} {'modelyard ms':>12} {'target':>8}  {'MLflow sqlite*':>15} {'MLflow file*':>18}"
    )
    mlflow_key = {
        "register (per version), median of 300": "register (per version)",
        "alias set": "alias set",
        "alias resolve": "alias resolve",
        "tag search, 30 models x 10 versions": "tag search, 30 models x 10 versions",
        "resolve + load latest": "resolve latest",
    }
    for what, value, target, note in rows:
        verdict = ""
        if target.startswith("<="):
            verdict = "PASS" if value <= float(target[2:]) else "FAIL"
        key = mlflow_key.get(what, "")
        print(
            f"{what:52} {value:12.3f} {target:>8}  {MLFLOW_SQLITE.get(key, ''):>15} "
            f"{MLFLOW_FILE.get(key, ''):>18} {verdict} {note}"
        )
    print(
        f"{'4 processes x 25 concurrent registrations':52} {elapsed * 1000:12.1f} {'all ok':>8}  "
        f"{'':>15} {'lost 19/100':>18} {'PASS' if ok else 'FAIL'} {concurrent_verdict}"
    )
    for what, value in big:
        print(f"{what:52} {value:12.3f}")
    for line in feed:
        print(line)
    for line in catalog:
        print(line)
    print(
        "\n* MLflow figures measured separately on this kind of machine, quoted from the registry issue."
    )


if __name__ == "__main__":
    main()
