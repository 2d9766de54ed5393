"""whylogs profiling the Parquet lakes of benchmarks/scale.py: time, profile size, KS.

    python benchmarks/peers/whylogs_profile.py REFERENCE_FOLDER CURRENT_FOLDER [--json]

Runs in its own environment (benchmarks/peers/requirements-whylogs.txt). Each file is read with
pyarrow one row group at a time, converted to pandas (whylogs logs pandas frames) and logged; the
views are merged, as a distributed whylogs run would merge its partitions' views. The time is
that of profiling the reference lake. Its KS statistic per column comes from whylogs' own drift
scores (``calculate_drift_scores``, KS on its KLL sketches) of the current lake's view against
the reference's, and a column counts as drifted when whylogs puts it in its ``DRIFT`` category.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any


def profile(folder: Path) -> Any:
    import pyarrow.parquet as pq
    import whylogs as why

    view = None
    for path in sorted(folder.glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=131_072):
            part = why.log(pandas=batch.to_pandas()).view()
            view = part if view is None else view.merge(part)
    return view


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("reference", type=Path)
    parser.add_argument("current", type=Path)
    parser.add_argument("--json", action="store_true", help="print one JSON line at the end")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    start = time.perf_counter()
    reference = profile(args.reference)
    seconds = time.perf_counter() - start
    current = profile(args.current)
    scores = calculate_drift_scores(target_view=current, reference_view=reference)
    names = sorted(scores)
    result = {
        "seconds": seconds,
        "size": len(reference.serialize()),
        "columns": names,
        "ks": [float(scores[n]["statistic"]) for n in names],
        "drifted": [n for n in names if scores[n]["drift_category"] == "DRIFT"],
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"whylogs: {seconds:.2f} s, profile {result['size'] / 2**20:.2f} MiB")
        print(f"drifted: {result['drifted']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
