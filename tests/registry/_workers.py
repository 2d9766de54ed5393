"""Functions run in child processes by the registry's multi-process tests."""

from __future__ import annotations

from typing import Any

from modelyard.errors import ConcurrentModificationError, InputError
from modelyard.yard import open_yard


def register_many(
    path: str, artifact: str, worker: int, count: int, barrier: Any, out: Any
) -> None:
    registry = open_yard(path).registry
    barrier.wait(timeout=120)
    for n in range(count):
        mv = registry.register(
            "churn", artifact, tags={"worker": str(worker), "n": str(n)}, actor=f"w{worker}"
        )
        out.put((worker, n, mv.version))


def promote(path: str, version: int, barrier: Any, out: Any) -> None:
    registry = open_yard(path).registry
    barrier.wait(timeout=120)
    try:
        registry.transition("churn", version, "production", actor=f"w{version}")
        out.put((version, "ok"))
    except Exception as exc:
        out.put((version, repr(exc)))


def move_alias(path: str, version: int, barrier: Any, out: Any) -> None:
    registry = open_yard(path).registry
    barrier.wait(timeout=120)
    try:
        registry.set_alias("churn", "champion", version, expected=1, actor=f"w{version}")
        out.put((version, "won"))
    except ConcurrentModificationError:
        out.put((version, "conflict"))
    except Exception as exc:
        out.put((version, repr(exc)))


def register_name(path: str, artifact: str, name: str, barrier: Any, out: Any) -> None:
    registry = open_yard(path).registry
    barrier.wait(timeout=120)
    try:
        registry.register(name, artifact)
        out.put((name, "registered"))
    except InputError as exc:
        out.put((name, f"refused for {exc.existing}"))
    except Exception as exc:
        out.put((name, repr(exc)))


def register_forever(path: str, artifact: str, started: Any) -> None:
    registry = open_yard(path).registry
    n = 0
    while True:
        registry.register("churn", artifact, metrics={"n": n}, tags={"n": str(n)})
        n += 1
        started.set()  # from here on, a kill lands in the middle of some register()


def register_many_s3(
    url: str, endpoint: str, artifact: str, worker: int, count: int, barrier: Any, out: Any
) -> None:
    registry = open_yard(url, endpoint_url=endpoint, key="testing", secret="testing").registry
    barrier.wait(timeout=120)
    for n in range(count):
        mv = registry.register("churn", artifact, tags={"worker": str(worker), "n": str(n)})
        out.put((worker, n, mv.version))


def churn_production(path: str, seed: int, count: int, barrier: Any, out: Any) -> None:
    """Promote, demote and roll back at random, racing another writer doing the same."""
    import random

    from modelyard.errors import TransitionRejected

    rng = random.Random(seed)
    registry = open_yard(path).registry
    barrier.wait(timeout=120)
    done = 0
    for _ in range(count):
        version = rng.randint(1, 6)
        try:
            state = registry.version("churn", version).state
            if state == "production" and rng.random() < 0.5:
                registry.rollback("churn", "production", actor=f"w{seed}")
            elif state == "production":
                registry.transition("churn", version, "staging", actor=f"w{seed}")
            elif state == "staging":
                registry.transition("churn", version, "production", actor=f"w{seed}")
            elif state == "archived":
                registry.transition("churn", version, "development", actor=f"w{seed}")
            else:
                registry.transition("churn", version, "staging", actor=f"w{seed}")
            done += 1
        except (TransitionRejected, ConcurrentModificationError):
            pass  # the other writer moved it first: the state we decided on is gone
    out.put(("writer", seed, done))


def watch_champion(path: str, stop: Any, barrier: Any, out: Any) -> None:
    """Read the following alias and the stage holder, each pair from one state, until told."""
    from modelyard.errors import NotFoundError

    registry = open_yard(path).registry
    barrier.wait(timeout=120)
    reads, bad = 0, []
    while not stop.is_set() or reads == 0:
        versions = registry.versions("churn")  # one fold: states and aliases together
        holders = [v.version for v in versions if v.state == "production"]
        behind = [v.version for v in versions if "champion" in v.aliases]
        if holders != behind:
            bad.append((holders, behind))
        try:
            champion = registry.resolve("churn@champion")
            if champion.state != "production":
                bad.append(("resolve", champion.version, champion.state))
        except NotFoundError:
            pass  # production is empty between a demotion and the next promotion
        reads += 1
    out.put(("reader", reads, bad[:5], len(bad)))


def copy_version(source: str, dest: str, worker: int, barrier: Any, out: Any) -> None:
    registry = open_yard(source, actor=f"w{worker}").registry
    target = open_yard(dest, create=False)
    barrier.wait(timeout=120)
    try:
        result = registry.copy("churn/1", to=target)
        out.put((worker, result.created, result.version.version))
    except Exception as exc:
        out.put((worker, repr(exc), 0))
