"""A folder of many small files, stored and restored by modelyard and by DVC, in one run.

The same tree (``--files`` files of 1-8 KiB of random bytes in 100 sub-folders) is

* **stored**: by modelyard with ``ArtifactStore(LocalStore(...)).put(folder, name=...)`` (durable:
  every blob fsynced; the small files go into packs of 32 MiB), and by DVC with ``dvc add`` followed by ``dvc push`` to a local remote;
* **restored**: by modelyard with ``get(ref, dest=...)`` into an empty folder, and by DVC into a
  clean work tree (a new folder holding only ``data.dvc`` and the remote's configuration) with
  ``dvc fetch`` (remote to cache) then ``dvc checkout`` (cache to folder); the checkout alone is
  reported too.

modelyard's put and get are also timed with a blob per file, as before packs
(``MODELYARD_PACK_FILES=0``, the files created in batches made durable together), the put with
Python's garbage collector left running (``MODELYARD_PAUSE_GC=0``), and put and get on 8 threads
(the library moves a local folder's files on one), so the run shows what each choice is worth on
the machine at hand.

modelyard's put returns once every file is on disk; DVC's steps return with theirs still in
memory, written back later. The line ``put, on disk`` times a ``sync`` after each step too, so that
both stores end on disk (for modelyard it finds almost nothing left to write).

A re-put after one file changed is timed for both (modelyard: a new version of the same name;
DVC: ``dvc add`` and ``dvc push`` again). Each step runs in its own process, DVC through its
command line as its users run it, and both tools work on the same disk. Every step starts on a
quiet disk (flushed, with little left to write back). Each tool stores and restores the tree
``--rounds`` times into new stores, taking turns at going first, and its best round counts: on a
shared virtual disk one step can take twice as long as the same step a minute later. Ratios are
DVC's time over modelyard's, so >= 5 meets the target.

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
from typing import Any


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


def settle(limit_mib: float = 64.0, patience: float = 60.0) -> None:
    """Start from a quiet disk: flush, then wait until the kernel's dirty and in-flight pages
    are few (a step must not pay for the writeback of the one before), and a moment more."""
    os.sync()
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        pending = 0
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith(("Dirty:", "Writeback:")):
                    pending += int(line.split()[1])
        if pending / 1024 < limit_mib:
            break
        time.sleep(0.5)
    time.sleep(2.0)


def _timed(command: list[str], cwd: Path) -> float:
    settle()
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _synced() -> float:
    """How long what the step before left in memory takes to reach the disk: modelyard's put
    returns with its files on disk, DVC's steps with theirs written back later."""
    start = time.perf_counter()
    os.sync()
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


def _dvc_round(dvc: str, source: Path, work: Path, name: str) -> dict[str, float]:
    """``dvc add`` + ``dvc push`` of a copy of the tree, then ``dvc fetch`` + ``dvc checkout``
    into a clean work tree, each step timed."""
    repo = work / f"dvc-repo-{name}"
    repo.mkdir()
    shutil.copytree(source, repo / "data")
    remote = work / f"dvc-remote-{name}"
    subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=repo, check=True)
    subprocess.run([dvc, "remote", "add", "-d", "local", str(remote)], cwd=repo, check=True)
    timed = {"add": _timed([dvc, "add", "data", "-q"], repo), "add sync": _synced()}
    timed["push"] = _timed([dvc, "push", "-q"], repo)
    timed["push sync"] = _synced()
    clean = work / f"dvc-clean-{name}"
    clean.mkdir()
    subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=clean, check=True)
    subprocess.run([dvc, "remote", "add", "-d", "local", str(remote)], cwd=clean, check=True)
    shutil.copy(repo / "data.dvc", clean / "data.dvc")
    timed["fetch"] = _timed([dvc, "fetch", "-q"], clean)
    timed["checkout"] = _timed([dvc, "checkout", "-q"], clean)
    return timed


def run(files: int, threads: int, work: Path, rounds: int = 2) -> dict[str, Any]:
    """Each tool stores and restores the tree ``rounds`` times, into new stores, taking turns
    at going first (the disk is never quite the same twice); the best round counts."""
    dvc = _dvc()
    os.environ.update(_dvc_env(dvc))
    source = work / "source" / "data"
    total = make_tree(source, files)
    rows: dict[str, list[float]] = {}

    def note(label: str, seconds: float) -> None:
        rows.setdefault(label, []).append(seconds)

    def modelyard_round(name: str) -> None:
        note("modelyard put", _modelyard("put", work / f"store-{name}", source, threads))
        note("modelyard put, on disk", rows["modelyard put"][-1] + _synced())
        out = work / f"out-{name}"
        note("modelyard get", _modelyard("get", work / f"store-{name}", out, threads))

    def dvc_round(name: str) -> None:
        timed = _dvc_round(dvc, source, work, name)
        for step, seconds in timed.items():
            note(f"dvc {step}", seconds)
        note("dvc put", timed["add"] + timed["push"])
        note(
            "dvc put, on disk",
            sum(timed[step] for step in ("add", "add sync", "push", "push sync")),
        )
        note("dvc restore", timed["fetch"] + timed["checkout"])

    for r in range(rounds):
        first, second = (modelyard_round, dvc_round) if r % 2 == 0 else (dvc_round, modelyard_round)
        first(str(r))
        second(str(r))

    # The same put with a blob per file, as before packs (MODELYARD_PACK_FILES=0), with the
    # garbage collector left running (MODELYARD_PAUSE_GC=0), and on 8 threads: what each choice
    # is worth on this machine (one round each).
    for label, variable in (
        ("a blob per file", "MODELYARD_PACK_FILES"),
        ("collector running", "MODELYARD_PAUSE_GC"),
    ):
        os.environ[variable] = "0"
        try:
            note(f"modelyard put, {label}", _modelyard("put", work / label, source, threads))
            if variable == "MODELYARD_PACK_FILES":
                out = work / f"out, {label}"
                note(f"modelyard get, {label}", _modelyard("get", work / label, out, threads))
        finally:
            del os.environ[variable]
    if threads != 8:
        eight = work / "store, 8 threads"
        note("modelyard put, 8 threads", _modelyard("put", eight, source, 8))
        note("modelyard get, 8 threads", _modelyard("get", eight, work / "out, 8", 8))

    # One changed file, stored again (round 0's store and repository).
    changed = next((source / "007").iterdir())
    changed.write_bytes(b"changed")
    repo = work / "dvc-repo-0"
    (repo / "data" / "007" / changed.name).unlink()
    (repo / "data" / "007" / changed.name).write_bytes(b"changed")
    note("modelyard re-put", _modelyard("put", work / "store-0", source, threads))
    readd = _timed([dvc, "add", "data", "-q"], repo)
    note("dvc re-put", readd + _timed([dvc, "push", "-q"], repo))

    restored, clean = work / "out-0" / "data", work / "dvc-clean-0" / "data"
    got = sorted(p.relative_to(restored) for p in restored.rglob("*.bin"))
    want = sorted(p.relative_to(clean) for p in clean.rglob("*.bin"))
    if got != want or len(got) != files:
        raise SystemExit(f"the restored trees differ: {len(got)} and {len(want)} files")
    results: dict[str, Any] = {"files": files, "mib": total / 2**20, "rounds": rows}
    results.update({label: min(times) for label, times in rows.items()})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 files")
    parser.add_argument(
        "--threads", type=int, default=0, help="modelyard's io_threads (default: the library's)"
    )
    parser.add_argument("--rounds", type=int, default=2, help="rounds of put and get per tool")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    files = 10_000 if args.quick else args.files
    work = Path(tempfile.mkdtemp(prefix="dvc-files-bench-"))
    try:
        results = run(files, args.threads, work, rounds=args.rounds)
        report(results, args.threads, as_json=args.json)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict[str, Any], threads: int, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(results), flush=True)
        return
    shown = threads or "the library's default"
    rounds = results["rounds"]
    print(
        f"{results['files']:,.0f} files, {results['mib']:.0f} MiB, io_threads={shown}; "
        f"best of {len(rounds['modelyard put'])} rounds (every round in brackets)"
    )

    def each(label: str) -> str:
        return "[" + ", ".join(f"{t:.2f}" for t in rounds[label]) + "]"

    for key in ("put", "put, on disk", "get/restore", "re-put"):
        mine, theirs = key.split("/")[0], key.split("/")[-1]
        ours, peer = results[f"modelyard {mine}"], results[f"dvc {theirs}"]
        print(
            f"  {key:13} modelyard {ours:7.2f} s {each(f'modelyard {mine}'):18} "
            f"dvc {peer:7.2f} s {each(f'dvc {theirs}'):18} dvc/modelyard {peer / ours:5.1f}x"
        )
    for label in (
        "put, a blob per file",
        "get, a blob per file",
        "put, collector running",
        "put, 8 threads",
        "get, 8 threads",
    ):
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
