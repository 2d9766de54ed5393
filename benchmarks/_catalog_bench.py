"""The search catalog's figures for ``benchmarks/registry.py``: a tag search over 100, 1,000 and
10,000 models of 10 versions each, cold (a new ``Registry`` object, as a new process has) and
warm, with its store requests, beside search by folding every model's log (the path before the
catalog, run on the same yards in the same run: the baseline of the ratios).

Each yard is built once per run through ``register`` itself, in two processes that each register
half of the models on a folder that does not fsync (what is written does not depend on fsync),
with a clock set a day back: the yard has been filled over time, as a yard of 10,000 models has,
so a search's read of the feed looks at quiet minutes. The search matches 10 models (100 versions)
at every size.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from _feed_bench import CountingStore  # beside this script, which is run as a file

from modelyard.registry import Registry
from modelyard.registry._search import search_versions
from modelyard.storage import LocalStore
from modelyard.testing import FakeClock

VERSIONS = 10


def _fill(path: str, models: int, part: int, parts: int) -> None:
    start = datetime.now(timezone.utc) - timedelta(days=1) + timedelta(minutes=part)
    registry = Registry(
        LocalStore(path, durable=False),
        actor="bench",
        clock=FakeClock(start, tick=timedelta(milliseconds=1)),
    )
    artifact = registry.artifacts.put(b"w" * 100, name="m")
    squads = max(models // 10, 1)
    for m in range(part, models, parts):
        for v in range(VERSIONS):
            registry.register(
                f"m{m:05d}",
                artifact,
                tags={"team": f"t{m % 7}", "squad": f"s{m % squads}"},
                metrics={"auc": (m * VERSIONS + v) % 97 / 97},
            )


def build(path: Path, models: int) -> float:
    """Fill a yard at ``path``; the seconds it took."""
    ctx = multiprocessing.get_context("spawn")
    start = time.perf_counter()
    procs = [ctx.Process(target=_fill, args=(str(path), models, p, 2)) for p in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit(f"building the {models}-model yard failed")
    return time.perf_counter() - start


def _ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _fold_every_log(path: Path, tags: dict[str, str]) -> list[Any]:
    registry = Registry(LocalStore(path))
    states = [registry._log.state(name) for name in registry._log.names()]
    return search_versions(
        [s for s in states if s.head > 0],
        tags=tags,
        model_tags={},
        min_metrics={},
        max_metrics={},
        state=None,
        alias=None,
        include_deleted=False,
        order_by="created_at",
        descending=True,
        limit=None,
    )


def catalog_rows(root: Path, sizes: tuple[int, ...]) -> list[str]:
    lines = [
        "",
        "Tag search through the catalog (10 matching models, 100 versions), median ms; baseline:",
        "folding every model's log (the search before the catalog), cold, same yard, same run.",
        f"{'models':>7} {'build s':>8} {'rebuild s':>9} {'catalog KiB':>11} {'cold':>8} "
        f"{'warm':>7} {'req cold':>9} {'req warm':>9} {'fold all':>9} {'cold/fold':>9}",
    ]
    lines += [_size_row(root, models) for models in sizes]
    lines.append(
        "Targets at 10,000 models x 10 versions: cold <= 100 ms, warm <= 10 ms; requests the same"
        " at every size."
    )
    return lines


def _size_row(root: Path, models: int) -> str:
    path = root / f"catalog-{models}"
    built = build(path, models)
    tags = {"squad": "s7"}
    start = time.perf_counter()
    count = Registry(LocalStore(path)).rebuild_catalog()
    rebuilt = time.perf_counter() - start
    if count != models:
        raise SystemExit(f"the catalog holds {count} models, not {models}")
    size = len(LocalStore(path).read("catalog/catalog.json")) / 1024
    expected = _fold_every_log(path, tags)
    found = Registry(LocalStore(path)).search(tags=tags)
    if found != expected or len(found) != 10 * VERSIONS:
        raise SystemExit("the catalog's search differs from folding every log")
    cold = _ms(lambda: Registry(LocalStore(path)).search(tags=tags), 7)
    warm_registry = Registry(LocalStore(path))
    warm_registry.search(tags=tags)
    warm = _ms(lambda: warm_registry.search(tags=tags), 50)
    counting = CountingStore(LocalStore(path))
    counted = Registry(counting)
    counted.search(tags=tags)
    cold_requests = sum(counting.calls.values())
    counting.calls = Counter()
    counted.search(tags=tags)
    warm_requests = sum(counting.calls.values())
    fold = _ms(lambda: _fold_every_log(path, tags), 1 if models > 1000 else 3)
    return (
        f"{models:>7} {built:>8.1f} {rebuilt:>9.2f} {size:>11.0f} {cold:>8.2f} {warm:>7.3f} "
        f"{cold_requests:>9} {warm_requests:>9} {fold:>9.1f} {cold / fold:>9.4f}"
    )
