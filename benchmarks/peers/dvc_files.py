"""A folder of many small files, stored and restored by modelyard and by DVC, in one run.

The same tree (``--files`` files of 1-8 KiB of random bytes in 100 sub-folders) is

* **stored**: by modelyard with ``ArtifactStore(LocalStore(...)).put(folder, name=...)`` (durable:
  every blob fsynced), and by DVC with ``dvc add`` followed by ``dvc push`` to a local remote;
* **restored**: by modelyard with ``get(ref, dest=...)`` into an empty folder, and by DVC into a
  clean work tree (a new folder holding only ``data.dvc`` and the remote's configuration) with
  ``dvc fetch`` (remote to cache) then ``dvc checkout`` (cache to folder); the checkout alone is
  reported too.

modelyard's put is also timed with one durable create per file (``MODELYARD_BATCH_CREATE=0``),
with batches flushed file by file (``MODELYARD_SYNCFS=0``), and put and get on 8 threads (the
library moves a local folder's files on one), so the run shows what each choice is worth on the
machine at hand.

A re-put after one file changed is timed for both (modelyard: a new version of the same name;
DVC: ``dvc add`` and ``dvc push`` again). Each step runs in its own process, DVC through its
command line as its users run it, and both tools work on the same disk. Ratios are DVC's time over
modelyard's, so >= 5 meets the target.

DVC runs from its own environment (``benchmarks/peers/requirements-dvc.txt``), found on ``PATH`` or
beside this Python; modelyard must be importable by this Python.

Usage: python benchmarks/peers/dvc_files.py [--files 100000] [--quick] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_tree(root: Path, files: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    total = 0
    for i in range(files):
        folder = root / f"{i % 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        size = rng.randint(1024, 8192)
        (folder / f"{i:06d}.bin").write_bytes(rng.randbytes(size))
        total += size
    return total


def _dvc() -> str:
    beside = Path(sys.executable).with_name("dvc")
    found = shutil.which("dvc") or (str(beside) if beside.exists() else None)
    if found is None:
        raise SystemExit(
            "dvc is not installed: pip install -r benchmarks/peers/requirements-dvc.txt"
        )
    return found


def _timed(command: list[str], cwd: Path) -> float:
    os.sync()
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


_MODELYARD = """
import sys, time
from pathlib import Path
from modelyard.artifacts import ArtifactStore
from modelyard.storage import LocalStore
action, store, folder, threads = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
artifacts = ArtifactStore(LocalStore(store), io_threads=threads or None, code_lineage=False)
if action == "put":
    print(artifacts.put(folder, name="images").id)
else:
    print(artifacts.get("images@latest", dest=folder))
"""


def _modelyard(action: str, store: Path, folder: Path, threads: int) -> float:
    """One put or get in its own process; ``threads`` 0 leaves io_threads to the library."""
    command = [sys.executable, "-c", _MODELYARD, action, str(store), str(folder), str(threads)]
    return _timed(command, store.parent)


def _dvc_env(dvc: str) -> dict[str, str]:
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    env["PATH"] = f"{Path(dvc).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(files: int, threads: int, work: Path) -> dict[str, float]:
    dvc = _dvc()
    os.environ.update(_dvc_env(dvc))
    source = work / "source" / "data"
    total = make_tree(source, files)
    results: dict[str, float] = {"files": files, "mib": total / 2**20}

    # modelyard
    store = work / "modelyard-store"
    results["modelyard put"] = _modelyard("put", store, source, threads)
    restored = work / "modelyard-out"
    results["modelyard get"] = _modelyard("get", store, restored, threads)
    # The same put with one durable create per file, as before batches (and as
    # MODELYARD_BATCH_CREATE=0 gives), with batches flushed file by file (MODELYARD_SYNCFS=0),
    # and on 8 threads: what each choice is worth on this machine.
    for label, variable in (
        ("one create per file", "MODELYARD_BATCH_CREATE"),
        ("no syncfs", "MODELYARD_SYNCFS"),
    ):
        os.environ[variable] = "0"
        try:
            results[f"modelyard put, {label}"] = _modelyard(
                "put", work / f"store, {label}", source, threads
            )
        finally:
            del os.environ[variable]
    if threads != 8:
        eight = work / "store, 8 threads"
        results["modelyard put, 8 threads"] = _modelyard("put", eight, source, 8)
        results["modelyard get, 8 threads"] = _modelyard("get", eight, work / "out, 8", 8)

    # DVC: a repository without git around the same files (copied, so that both start equal).
    repo = work / "dvc-repo"
    repo.mkdir()
    shutil.copytree(source, repo / "data")
    remote = work / "dvc-remote"
    subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=repo, check=True)
    subprocess.run([dvc, "remote", "add", "-d", "local", str(remote)], cwd=repo, check=True)
    add = _timed([dvc, "add", "data", "-q"], repo)
    push = _timed([dvc, "push", "-q"], repo)
    results["dvc add"], results["dvc push"] = add, push
    results["dvc put"] = add + push

    clean = work / "dvc-clean"
    clean.mkdir()
    subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=clean, check=True)
    subprocess.run([dvc, "remote", "add", "-d", "local", str(remote)], cwd=clean, check=True)
    shutil.copy(repo / "data.dvc", clean / "data.dvc")
    fetch = _timed([dvc, "fetch", "-q"], clean)
    checkout = _timed([dvc, "checkout", "-q"], clean)
    results["dvc fetch"], results["dvc checkout"] = fetch, checkout
    results["dvc restore"] = fetch + checkout

    # One changed file, stored again.
    changed = next((source / "007").iterdir())
    changed.write_bytes(b"changed")
    (repo / "data" / "007" / changed.name).unlink()
    (repo / "data" / "007" / changed.name).write_bytes(b"changed")
    results["modelyard re-put"] = _modelyard("put", store, source, threads)
    readd = _timed([dvc, "add", "data", "-q"], repo)
    repush = _timed([dvc, "push", "-q"], repo)
    results["dvc re-put"] = readd + repush

    got = sorted(p.relative_to(restored / "data") for p in (restored / "data").rglob("*.bin"))
    want = sorted(p.relative_to(clean / "data") for p in (clean / "data").rglob("*.bin"))
    if got != want or len(got) != files:
        raise SystemExit(f"the restored trees differ: {len(got)} and {len(want)} files")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 files")
    parser.add_argument(
        "--threads", type=int, default=0, help="modelyard's io_threads (default: the library's)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    files = 10_000 if args.quick else args.files
    work = Path(tempfile.mkdtemp(prefix="dvc-files-bench-"))
    try:
        results = run(files, args.threads, work)
        report(results, args.threads, as_json=args.json)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict[str, float], threads: int, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(results), flush=True)
        return
    shown = threads or "the library's default"
    print(f"{results['files']:,.0f} files, {results['mib']:.0f} MiB, io_threads={shown}")
    for key in ("put", "get/restore", "re-put"):
        mine, theirs = key.split("/")[0], key.split("/")[-1]
        ours, peer = results[f"modelyard {mine}"], results[f"dvc {theirs}"]
        print(
            f"  {key:12} modelyard {ours:8.2f} s   dvc {peer:8.2f} s   dvc/modelyard {peer / ours:5.1f}x"
        )
    for label in ("put, one create per file", "put, no syncfs", "put, 8 threads", "get, 8 threads"):
        if f"modelyard {label}" in results:
            print(f"  {label:26} modelyard {results[f'modelyard {label}']:8.2f} s")
    print(
        f"  dvc parts: add {results['dvc add']:.2f} s, push {results['dvc push']:.2f} s, "
        f"fetch {results['dvc fetch']:.2f} s, checkout {results['dvc checkout']:.2f} s "
        f"(checkout alone / modelyard get: "
        f"{results['dvc checkout'] / results['modelyard get']:.1f}x)",
        flush=True,
    )


if __name__ == "__main__":
    main()
