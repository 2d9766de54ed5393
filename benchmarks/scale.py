"""Scale benchmark: profiling a Parquet lake on Dask and on Spark beside one process.

    python benchmarks/scale.py                      # 10,000,000 x 20, PASS/FAIL on the targets
    python benchmarks/scale.py --quick              # 1,000,000 x 20, a smoke run
    python benchmarks/scale.py --whylogs PYTHON     # also whylogs, run by PYTHON (an environment
                                                    # made from benchmarks/peers/requirements-whylogs.txt)
    python benchmarks/scale.py --no-spark           # without pyspark or Java

Data: seeded float64, 20 columns, written once to a temporary folder as 10 Parquet files of
row groups of 131,072 rows (the reference), and a current lake of a tenth of the rows where
columns 0, 1 and 2 are shifted by 0.02 standard deviations (3 of 20 columns drift).

Each path runs in a fresh process, so that its peak RSS is its own: the single-process streaming
path (``drift.profile`` over the files' Arrow row groups), ``modelyard.drift.dask`` over the list
of files (``distributed.LocalCluster``, 2 worker processes of one thread), and
``modelyard.drift.spark`` over ``spark.read.parquet`` (``local[2]``). Cluster and session start
up before the clock starts. "Driver peak" is the peak RSS of the Python process that calls
``profile`` (for Spark, not the JVM's). "Shipped per partition" is the length of the bytes a
partition's task returns (its profile, ``DriftProfile.to_bytes``); Spark ships the same bytes.
Every figure that has a target is a ratio of two timings taken in this run.

Accuracy: each profile's sketch KS statistics (reference lake against current lake) are checked
against the KS of exact profiles of both lakes, and their verdicts against the exact verdicts
(which, for a random false alarm or a missed shift, need not be exactly the 3 shifted columns).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

COLUMNS = 20
DRIFTING = (0, 1, 2)
SHIFT = 0.02
FILES = 10
ROW_GROUP = 131_072
SAMPLE_SIZE = 10_000
MIB = 2**20


def write_lake(folder: Path, rows: int, seed: int, shift: float) -> list[Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "_complete"
    paths = [folder / f"part-{i:03d}.parquet" for i in range(FILES)]
    if done.exists():
        return paths
    rng = np.random.default_rng(seed)
    per_file = rows // FILES
    for path in paths:
        values = rng.normal(size=(per_file, COLUMNS))
        values[:, list(DRIFTING)] += shift
        table = pa.table({f"c{j:02d}": values[:, j] for j in range(COLUMNS)})
        pq.write_table(table, path, row_group_size=ROW_GROUP)
    done.touch()
    return paths


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_single(folder: Path, kinds: Any) -> dict[str, Any]:
    import itertools

    import pyarrow.parquet as pq

    import modelyard.drift as drift

    paths = sorted(folder.glob("*.parquet"))
    start = time.perf_counter()
    batches = itertools.chain.from_iterable(pq.ParquetFile(p).iter_batches() for p in paths)
    result = drift.profile(batches, sample_size=SAMPLE_SIZE, kinds=kinds)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak_rss": _peak_rss(), "shipped": None, "profile": result}


def run_dask(folder: Path, kinds: Any) -> dict[str, Any]:
    import dask
    import distributed

    from modelyard.drift import dask as on_dask
    from modelyard.drift._engine import Settings

    paths = [str(p) for p in sorted(folder.glob("*.parquet"))]
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # Workers are warm in a running deployment: imports happen before the clock.
        client.run(_warm)
        start = time.perf_counter()
        result = on_dask.profile(paths, sample_size=SAMPLE_SIZE, kinds=kinds)
        seconds = time.perf_counter() - start
        peak = _peak_rss()
        # What one task returns, measured once more outside the clock.
        settings = Settings.build(
            bins=10,
            binning="quantile",
            sample_size=SAMPLE_SIZE,
            kinds=dict.fromkeys(result.columns, "numeric"),
            columns=None,
        )
        tasks = [dask.delayed(_file_bytes)(p, settings) for p in paths]
        shipped = max(dask.compute(*tasks))
    return {"seconds": seconds, "peak_rss": peak, "shipped": shipped, "profile": result}


def _warm() -> None:
    import numpy as np
    import pyarrow as pa

    import modelyard.drift as drift

    drift.profile(pa.table({"x": np.arange(100.0)}), kinds={"x": "numeric"}, workers=1)


def _file_bytes(path: str, settings: Any) -> int:
    import pyarrow.parquet as pq

    encoded = settings.profile_bytes(pq.ParquetFile(path).iter_batches(use_threads=False))
    return 0 if encoded is None else len(encoded)


def run_spark(folder: Path, kinds: Any) -> dict[str, Any]:
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    from modelyard.drift import spark as on_spark

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        # One Arrow batch per row group rather than 10,000 rows at a time.
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(ROW_GROUP))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    frame = session.read.parquet(str(folder))
    # Python workers are reused between jobs: start and warm them before the clock.
    on_spark.profile(session.createDataFrame([(float(i),) for i in range(100)], ["x"]))
    start = time.perf_counter()
    result = on_spark.profile(frame, sample_size=SAMPLE_SIZE, kinds=kinds)
    seconds = time.perf_counter() - start
    partitions = frame.rdd.getNumPartitions()
    session.stop()
    return {
        "seconds": seconds,
        "peak_rss": _peak_rss(),
        "partitions": partitions,
        "profile": result,
    }


RUNNERS = {"single": run_single, "dask": run_dask, "spark": run_spark}


def child(path: str, folder: Path, out: Path, reference: str) -> None:
    import modelyard.drift as drift

    # The current side is profiled with the reference's columns, kinds and bin edges.
    kinds = drift.DriftProfile.from_bytes(Path(reference).read_bytes()) if reference else None
    result = RUNNERS[path](folder, kinds)
    out.with_suffix(".profile").write_bytes(result.pop("profile").to_bytes())
    out.write_text(json.dumps(result))


def in_process(
    path: str, folder: Path, work: Path, reference: Path | None = None
) -> dict[str, Any]:
    import modelyard.drift as drift

    out = work / f"{path}-{folder.name}.json"
    subprocess.run(
        [sys.executable, __file__, "--child", path, str(folder), str(out), str(reference or "")],
        check=True,
        stderr=subprocess.DEVNULL if path == "spark" else None,
    )
    result: dict[str, Any] = json.loads(out.read_text())
    result["profile"] = drift.DriftProfile.from_bytes(out.with_suffix(".profile").read_bytes())
    return result


def exact_verdicts(reference: Path, current: Path) -> tuple[np.ndarray, set[str]]:
    """KS statistics and verdicts of exact profiles of both lakes (every value kept)."""
    import itertools

    import pyarrow.parquet as pq

    import modelyard.drift as drift

    def exact(folder: Path) -> drift.DriftProfile:
        files = [pq.ParquetFile(p) for p in sorted(folder.glob("*.parquet"))]
        rows = sum(f.metadata.num_rows for f in files)
        batches = itertools.chain.from_iterable(f.iter_batches() for f in files)
        return drift.profile(batches, sample_size=None, expected_rows=rows)

    report = drift.compare(exact(reference), exact(current), stats=["ks"])
    ks = np.array([report.column(f"c{j:02d}").statistic("ks").value for j in range(COLUMNS)])
    return ks, set(report.drifted)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1,000,000 rows instead of 10,000,000")
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark path")
    parser.add_argument("--whylogs", metavar="PYTHON", help="a Python that has whylogs")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]), args.child[3])
        return 0

    import modelyard.drift as drift

    rows = 1_000_000 if args.quick else 10_000_000
    root = Path(tempfile.gettempdir()) / f"modelyard-scale-{rows}"
    print(
        f"data: {rows:,} x {COLUMNS} float64 in {FILES} Parquet files under {root} ...", flush=True
    )
    reference = root / "reference"
    current = root / "current"
    write_lake(reference, rows, seed=1, shift=0.0)
    write_lake(current, rows // 10, seed=2, shift=SHIFT)
    work = Path(tempfile.mkdtemp(prefix="modelyard-scale-"))
    paths = ["single", "dask"] + ([] if args.no_spark else ["spark"])
    results = {}
    for path in paths:
        results[path] = in_process(path, reference, work)
        stored = work / f"{path}-{reference.name}.profile"
        results[path]["current"] = in_process(path, current, work, stored)["profile"]
        r = results[path]
        shipped = f"{r['shipped'] / MIB:.2f} MiB" if r.get("shipped") else "-"
        print(
            f"{path:>7}: {r['seconds']:7.2f} s   driver peak {r['peak_rss'] / MIB:7.0f} MiB   "
            f"shipped per partition {shipped}",
            flush=True,
        )
    print("exact profiles of both lakes, for the exact KS and verdicts ...", flush=True)
    exact, truth = exact_verdicts(reference, current)
    shifted = {f"c{j:02d}" for j in DRIFTING}
    print(
        f"  exact: flagged {sorted(truth)} ({len(truth & shifted)} of the {len(shifted)} "
        "shifted columns)"
    )
    verdicts_ok = True
    for path, r in results.items():
        report = drift.compare(r["profile"], r["current"], stats=["ks"])
        ks = np.array([report.column(f"c{j:02d}").statistic("ks").value for j in range(COLUMNS)])
        bound = r["profile"].rank_error + r["current"].rank_error
        error = np.abs(ks - exact)
        flagged = set(report.drifted)
        verdicts_ok &= flagged == truth
        print(
            f"{path:>7}: KS error max {error.max():.2e} (stated bound {bound.max():.2e}); "
            f"flagged {len(flagged)} of {COLUMNS} columns, "
            f"{'the same as' if flagged == truth else 'NOT the same as'} exact; "
            f"profile {len(r['profile'].to_bytes()) / MIB:.2f} MiB"
        )
    single, dask_ = results["single"], results["dask"]
    checks = {
        "Dask sketch time <= 1.5x single-process streaming": dask_["seconds"] / single["seconds"]
        <= 1.5,
        "Dask ships <= 2 MiB per partition": dask_["shipped"] <= 2 * MIB,
        "verdicts of every sketch equal the exact verdicts": verdicts_ok,
    }
    print(f"ratio Dask / single process: {dask_['seconds'] / single['seconds']:.2f}")
    if "spark" in results:
        print(
            f"ratio Spark / single process: {results['spark']['seconds'] / single['seconds']:.2f}"
        )
    if args.whylogs:
        done = subprocess.run(
            [
                args.whylogs,
                str(Path(__file__).parent / "peers" / "whylogs_profile.py"),
                str(reference),
                str(current),
                "--json",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        why = json.loads(done.stdout.strip().splitlines()[-1])
        why_error = np.abs(np.array(why["ks"]) - exact)
        print(
            f"whylogs: {why['seconds']:7.2f} s   profile {why['size'] / MIB:.2f} MiB   KS error max "
            f"{why_error.max():.2e}; flagged {len(why['drifted'])} of {COLUMNS} columns, "
            f"{'the same as' if set(why['drifted']) == truth else 'NOT the same as'} exact"
        )
        ratio = why["seconds"] / dask_["seconds"]
        print(f"ratio whylogs / Dask: {ratio:.1f}")
        checks["Dask >= 20x faster than whylogs"] = ratio >= 20
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
