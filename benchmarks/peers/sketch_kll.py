"""modelyard's quantile sketch against Apache DataSketches' KLL, at about equal size in bytes.

    pip install -r benchmarks/peers/requirements-sketch.txt
    python benchmarks/peers/sketch_kll.py            # 10,000,000 values per distribution
    python benchmarks/peers/sketch_kll.py --quick    # 1,000,000 values, for a smoke run

For each distribution (seeded), both sketches read the same values in batches of 1,000,000 (as
Parquet row groups arrive): modelyard through ``drift.profile(batches, sample_size=K,
workers=1)``, KLL through ``update`` of each batch. Reported per distribution:

- size: bytes of the sketch's points (modelyard, 8 per point) and of KLL's ``serialize()``;
- max rank error: ``max |F_sketch(x) - F(x)|`` against the exact ECDF of all values, over every
  sketch point and 2,000 quantiles of the data;
- the bound each states: modelyard's ``rank_error`` (deterministic), KLL's
  ``normalized_rank_error(False)`` (a 99% confidence bound);
- build time, and the same after merging 256 parts profiled apart (``drift.merge`` flat vs
  KLL's ``merge`` one by one).

The build times are a ratio (modelyard / KLL) taken in the same run; absolute times depend on
the machine and its load.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import cast

import numpy as np

import modelyard.drift as drift

K_MODELYARD = 1250  # 10,000 bytes of points


def distributions(n: int) -> dict[str, Callable[[], np.ndarray]]:
    def rng() -> np.random.Generator:
        return np.random.default_rng(7)

    return {
        "normal": lambda: rng().normal(size=n),
        "lognormal": lambda: rng().lognormal(sigma=1.5, size=n),
        "pareto(1.2)": lambda: rng().pareto(1.2, size=n),
        "bimodal": lambda: np.where(
            rng().random(n) < 0.3, rng().normal(-4, 0.5, n), rng().normal(2, 1.0, n)
        ),
        "integers 0..99": lambda: rng().integers(0, 100, size=n).astype(np.float64),
    }


def kll_k_for(target_bytes: int, values: np.ndarray) -> int:
    """The KLL ``k`` whose serialised sketch of ``values`` is closest to ``target_bytes``."""
    from datasketches import kll_doubles_sketch

    best_k, best_gap = 200, None
    for k in range(200, 1400, 40):
        sketch = kll_doubles_sketch(k)
        sketch.update(values)
        gap = abs(len(sketch.serialize()) - target_bytes)
        if best_gap is None or gap < best_gap:
            best_k, best_gap = k, gap
    return best_k


def max_rank_error(exact: np.ndarray, grid: np.ndarray, ranks: np.ndarray) -> float:
    truth = np.searchsorted(exact, grid, side="right") / exact.size
    return float(np.abs(ranks - truth).max())


def modelyard_ranks(profile: drift.DriftProfile, grid: np.ndarray) -> np.ndarray:
    points = profile.sample[: profile.sample_counts[0], 0]
    return np.searchsorted(points, grid, side="right") / points.size


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run(n: int, parts: int) -> list[dict[str, object]]:
    from datasketches import kll_doubles_sketch

    rows = []
    made = distributions(n)
    # KLL's k sized once, on the first distribution, to modelyard's bytes of points.
    kll_k = kll_k_for(8 * K_MODELYARD, made["normal"]())
    for name, make in made.items():
        values = make()
        batches = [values[i : i + 1_000_000, None] for i in range(0, n, 1_000_000)]
        exact = np.sort(values)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            my_time, mine = timed(
                lambda b=batches: drift.profile(iter(b), sample_size=K_MODELYARD, workers=1)
            )

        def build_kll(b: list[np.ndarray] = batches, k: int = kll_k) -> object:
            sketch = kll_doubles_sketch(k)
            for batch in b:
                sketch.update(batch[:, 0])
            return sketch

        kll_time, kll = timed(build_kll)
        assert isinstance(mine, drift.DriftProfile)
        points = mine.sample[: mine.sample_counts[0], 0]
        grid = np.unique(np.concatenate([points, np.quantile(exact, np.linspace(0, 1, 2000))]))
        kll_ranks = np.asarray(kll.get_cdf(grid, True))[:-1]  # type: ignore[attr-defined]
        # Many parts profiled apart, then merged.
        pieces = np.array_split(values, parts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            part_profiles = [
                drift.profile(p[:, None], sample_size=K_MODELYARD, workers=1) for p in pieces
            ]
        part_klls = []
        for p in pieces:
            s = kll_doubles_sketch(kll_k)
            s.update(p)
            part_klls.append(s)
        my_merge_time, merged = timed(lambda pp=part_profiles: drift.merge(*pp))

        def merge_kll(pk: list[object] = part_klls, k: int = kll_k) -> object:
            total = kll_doubles_sketch(k)
            for s in pk:
                total.merge(s)
            return total

        kll_merge_time, kll_merged = timed(merge_kll)
        assert isinstance(merged, drift.DriftProfile)
        kll_merged_ranks = np.asarray(kll_merged.get_cdf(grid, True))[:-1]  # type: ignore[attr-defined]
        rows.append(
            {
                "distribution": name,
                "modelyard bytes": 8 * int(mine.sample_counts[0]),
                "kll bytes": len(kll.serialize()),  # type: ignore[attr-defined]
                "kll k": kll_k,
                "modelyard error": max_rank_error(exact, grid, modelyard_ranks(mine, grid)),
                "modelyard bound": float(mine.rank_error[0]),
                "kll error": max_rank_error(exact, grid, kll_ranks),
                "kll bound (99%)": float(kll.normalized_rank_error(False)),  # type: ignore[attr-defined]
                "modelyard build s": my_time,
                "kll build s": kll_time,
                f"modelyard merged {parts} error": max_rank_error(
                    exact, grid, modelyard_ranks(merged, grid)
                ),
                f"modelyard merged {parts} bound": float(merged.rank_error[0]),
                f"kll merged {parts} error": max_rank_error(exact, grid, kll_merged_ranks),
                "modelyard merge s": my_merge_time,
                "kll merge s": kll_merge_time,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000,000 values, 64 parts")
    args = parser.parse_args()
    n, parts = (1_000_000, 64) if args.quick else (10_000_000, 256)
    rows = run(n, parts)
    print(f"{n:,} values per distribution; modelyard K={K_MODELYARD}, KLL k={rows[0]['kll k']}")
    header = (
        f"{'distribution':16} {'bytes my/kll':>13} {'error my':>9} {'bound my':>9} "
        f"{'error kll':>9} {'bound kll':>9} {'build my/kll':>13} "
        f"{'merged err my':>13} {'bound':>8} {'merged err kll':>14}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['distribution']:16} {r['modelyard bytes']:>6}/{r['kll bytes']:<6} "
            f"{r['modelyard error']:9.2e} {r['modelyard bound']:9.2e} "
            f"{r['kll error']:9.2e} {r['kll bound (99%)']:9.2e} "
            f"{r['modelyard build s']:5.2f}/{r['kll build s']:<5.2f}s  "
            f"{r[f'modelyard merged {parts} error']:13.2e} "
            f"{r[f'modelyard merged {parts} bound']:8.2e} "
            f"{r[f'kll merged {parts} error']:14.2e}"
        )
    mine = sum(cast(float, r["modelyard build s"]) for r in rows)
    theirs = sum(cast(float, r["kll build s"]) for r in rows)
    ratio = mine / theirs
    print(f"build time, modelyard / KLL (same run): {ratio:.2f}")


if __name__ == "__main__":
    main()
