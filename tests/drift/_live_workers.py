"""Functions run in child processes by the live monitor's restart tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from modelyard import YardCheckpoint, open_yard
from modelyard.drift import LiveMonitor


def batches(count: int, rows: int = 300) -> list[dict[str, Any]]:
    """The same traffic in every process: batch ``i`` is a function of ``i`` alone."""
    out = []
    for i in range(count):
        rng = np.random.default_rng(1000 + i)
        shift = 1.0 if i >= count // 2 else 0.0
        out.append(
            {
                "x": rng.normal(shift, size=rows),
                "c": rng.choice(["a", "b", "c"], size=rows).astype(object),
            }
        )
    return out


def reference() -> dict[str, Any]:
    rng = np.random.default_rng(7)
    return {"x": rng.normal(size=4000), "c": rng.choice(["a", "b", "c"], size=4000).astype(object)}


def feed_and_checkpoint(path: str, count: int, out: Any) -> None:
    """Update with every batch and save after each, reporting each saved batch; runs until
    killed (then sleeps)."""
    live = LiveMonitor(
        reference(), rows=1000, sketch_size=200, checkpoint=YardCheckpoint(open_yard(path), "live")
    )
    for i, batch in enumerate(batches(count)):
        live.update(batch)
        live.save()
        out.put(i)
    out.put("done")
    import time

    time.sleep(600)
