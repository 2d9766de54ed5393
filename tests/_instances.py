"""Typical instances of the public classes, reached from ordinary calls, for checks that cover
every public class (reprs, module paths)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

import modelyard as my
from modelyard import drift
from modelyard.lifecycle import Lifecycle
from modelyard.storage import CountingStore, FsspecStore, LatencyStore


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    n = 600

    def frame(shift: float) -> pd.DataFrame:
        x = rng.normal(shift, 1.0, n)
        score = 1 / (1 + np.exp(-x))
        return pd.DataFrame(
            {
                "x": x,
                "y": rng.normal(0, 1, n) + shift * 0.5,
                "plan": rng.choice(["a", "b", "c"], n),
                "p": score,
                "label": (rng.uniform(size=n) < score).astype(int),
                "ts": pd.date_range("2026-01-01", periods=n, freq="h"),
            }
        )

    return frame(0.0), frame(1.0)


def roots() -> list[Any]:
    """Objects from one run through every layer; :func:`pool` walks what they hold."""
    ref, cur = _frames()
    yard = my.open_yard("memory://instances")
    data = yard.artifacts.put(ref, name="churn-data")
    model = yard.artifacts.put(b"weights", name="churn-model", parents=[data])
    version = yard.registry.register("churn", model, metrics={"auc": 0.8}, actor="ana")
    yard.registry.transition("churn", 1, "staging", actor="ana")
    evidence = yard.registry.attach("churn/1", {"auc": 0.8}, kind="evaluation", actor="ana")
    profile = drift.profile(ref[["x", "y", "plan"]])
    report = drift.compare(profile, cur[["x", "y", "plan"]])
    monitoring = drift.monitor(
        ref,
        cur,
        time="ts",
        every="5D",
        prediction="p",
        label="label",
        quality=True,
        columns=["x", "y", "plan"],
    )
    estimated = drift.estimate_performance(
        ref, cur, prediction="p", label="label", time="ts", every="1D"
    )
    multi = drift.multivariate(ref[["x", "y"]], cur[["x", "y", "ts"]], time="ts", every="5D")
    quality = drift.quality(profile, cur[["x", "y", "plan"]])
    perf = drift.performance(cur, prediction="p", label="label", time="ts", every="5D")
    # A code record is made here, not only by a put with lineage on: a checkout without git (a
    # source archive) records none.
    code = my.artifacts.CodeRecord(
        commit="0123456789abcdef0123456789abcdef01234567", dirty=False, branch="main", argv=("x",)
    )
    return [
        code,
        yard,
        yard.store,
        yard.artifacts,
        yard.registry,
        data,
        yard.artifacts.manifest(data),
        yard.artifacts.lineage(model),
        yard.artifacts.verify(),
        yard.artifacts.gc(dry_run=True),
        version,
        evidence,
        yard.registry.events(),
        yard.registry.model("churn"),
        yard.registry.history("churn"),
        yard.registry.verify(),
        yard.registry.card("churn/1"),
        Lifecycle.default(),
        profile,
        report,
        monitoring,
        estimated,
        multi,
        quality,
        perf,
        drift.DriftConfig(),
        drift.windows(cur, time="ts", every="1D"),
        drift.LiveMonitor(profile, every="1D"),
        # Over a store without staging, so that the wrappers are their public classes exactly.
        CountingStore(FsspecStore("memory://instances-counted")),
        LatencyStore(FsspecStore("memory://instances-slow")),
    ]


def pool() -> dict[type, Any]:
    """One instance of every class reachable from :func:`roots`, the first found."""
    found: dict[type, Any] = {}
    seen: set[int] = set()

    def walk(obj: Any, depth: int) -> None:
        if id(obj) in seen or depth > 4:
            return
        seen.add(id(obj))
        found.setdefault(type(obj), obj)
        if isinstance(obj, (str, bytes, int, float)):
            return
        if isinstance(obj, dict):
            items = list(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            items = list(obj)
        elif dataclasses.is_dataclass(obj):
            items = [getattr(obj, f.name) for f in dataclasses.fields(obj)]
        elif hasattr(type(obj), "model_fields"):
            items = [getattr(obj, name) for name in type(obj).model_fields]
        else:
            return
        for item in items[:50]:
            walk(item, depth + 1)

    for root in roots():
        walk(root, 0)
    return found
