"""What an operation costs on a remote bucket: store requests and time with a latency per request.

    python benchmarks/store_requests.py [--quick] [--latency 0.02] [--files 100] [--s3]

For each operation (put, get, register, resolve, load, search) on a yard opened afresh, as a new
process or pipeline step opens it: the store requests it makes (counted with CountingStore), its
time on a local folder (the baseline), and its time on the same folder with ``--latency`` seconds
added to every request (LatencyStore, default 20 ms, a round trip to S3 in the same region). The
last column is the latency run's time over ``baseline + requests x latency``: 1.0 when every
request waits for the one before it, below 1 when requests overlap. ``--s3`` adds the requests and
time on a moto S3 server on loopback (needs moto and s3fs). ``--quick`` runs each operation once
on a folder of 10 files (well under a minute); the full run takes the median of 3 on 100 files.

Prints a Markdown table (the one quoted in docs/storage.md).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from modelyard.storage import CountingStore, LatencyStore, LocalStore, Store
from modelyard.yard import Yard, open_yard

SEARCHED_MODELS = 4

Setup = Callable[[Yard, Path], Any]
Run = Callable[[Yard, Path, Any], object]


def _nothing(yard: Yard, root: Path) -> Any:
    return None


def _folder(root: Path, files: int) -> Path:
    folder = root / "folder"
    folder.mkdir(exist_ok=True)
    for index in range(files):
        (folder / f"part-{index:05d}.txt").write_text(f"file {index}\n")
    return folder


def _model(yard: Yard, name: str = "churn") -> Any:
    artifact = yard.artifacts.put({"weights": [1, 2, 3]}, name=f"{name}-model")
    yard.registry.register(name, artifact, tags={"team": "risk"})
    return artifact


def _two_versions(yard: Yard, root: Path) -> Any:
    _model(yard)
    yard.registry.register("churn", yard.artifacts.put({"weights": [4]}, name="churn-model"))
    yard.registry.set_alias("churn", "champion", 1)


def _models(yard: Yard, root: Path) -> Any:
    for index in range(SEARCHED_MODELS):
        _model(yard, f"model-{index}")


def _small(yard: Yard, root: Path) -> Any:
    return yard.artifacts.put({"weights": [1]}, name="churn-model")


def scenarios(files: int) -> dict[str, tuple[Setup, Run]]:
    """Each operation: what is stored first (not measured), then what is measured."""

    def tree(yard: Yard, root: Path) -> Any:
        return yard.artifacts.put(_folder(root, files), name="tree")

    return {
        "open a yard": (_nothing, lambda yard, root, _: None),
        "put a small object": (_nothing, lambda yard, root, _: _small(yard, root)),
        f"put a folder of {files} files": (_nothing, lambda yard, root, _: tree(yard, root)),
        "get a small object (name@latest)": (
            _small,
            lambda yard, root, _: yard.artifacts.get("churn-model@latest"),
        ),
        f"get a folder of {files} files": (
            tree,
            lambda yard, root, _: yard.artifacts.get("tree@latest", dest=root / "restored"),
        ),
        "register a first version": (
            _small,
            lambda yard, root, artifact: yard.registry.register("churn", artifact),
        ),
        "register a second version": (
            lambda yard, root: _model(yard),
            lambda yard, root, artifact: yard.registry.register("churn", artifact),
        ),
        "resolve an alias": (
            _two_versions,
            lambda yard, root, _: yard.registry.resolve("churn@champion"),
        ),
        "resolve @latest": (
            _two_versions,
            lambda yard, root, _: yard.registry.resolve("churn@latest"),
        ),
        "load @latest": (_two_versions, lambda yard, root, _: yard.registry.load("churn@latest")),
        f"search {SEARCHED_MODELS} models": (_models, lambda yard, root, _: yard.registry.search()),
    }


def measure(
    make: Callable[[], Store], setup: Setup, run: Run, root: Path, *, opening: bool
) -> tuple[float, CountingStore]:
    """Seconds and requests of ``run`` on a yard opened afresh on ``make()`` after ``setup``."""
    prepared = setup(open_yard(make()), root)
    counting = CountingStore(make())
    if opening:
        started = time.perf_counter()
        open_yard(counting)
        return time.perf_counter() - started, counting
    yard = open_yard(counting)
    counting.reset()
    started = time.perf_counter()
    run(yard, root, prepared)
    return time.perf_counter() - started, counting


def median_run(
    make_root: Callable[[], tuple[Callable[[], Store], Path]],
    setup: Setup,
    run: Run,
    *,
    opening: bool,
    repeat: int,
) -> tuple[float, int]:
    times, requests = [], 0
    for _ in range(repeat):
        make, root = make_root()
        seconds, counting = measure(make, setup, run, root, opening=opening)
        times.append(seconds)
        requests = counting.total
    return statistics.median(times), requests


@contextmanager
def moto_server() -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one run each, 10 files")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    parser.add_argument("--files", type=int, default=None, help="files in the folder (100)")
    parser.add_argument("--s3", action="store_true", help="also on a moto S3 server on loopback")
    args = parser.parse_args(argv)
    files = args.files or (10 if args.quick else 100)
    repeat = 1 if args.quick else 3
    # Artifact ids would record this checkout's commit; the costs are those of a plain put.
    os.environ.setdefault("MODELYARD_CODE_LINEAGE", "0")
    base = Path(tempfile.mkdtemp(prefix="modelyard-requests-"))

    def local() -> tuple[Callable[[], Store], Path]:
        root = base / uuid.uuid4().hex
        store = LocalStore(root / "yard")
        return (lambda: store), root

    def slow() -> tuple[Callable[[], Store], Path]:
        make, root = local()
        return (lambda: LatencyStore(make(), latency=args.latency)), root

    endpoint: str | None = None
    server = moto_server() if args.s3 else None
    if server is not None:
        import s3fs

        from modelyard.storage import FsspecStore

        endpoint = server.__enter__()
        s3fs.S3FileSystem(endpoint_url=endpoint).mkdir("modelyard-requests")

    def s3() -> tuple[Callable[[], Store], Path]:
        url = f"s3://modelyard-requests/{uuid.uuid4().hex}"
        root = base / uuid.uuid4().hex
        root.mkdir()
        return (lambda: FsspecStore(url, endpoint_url=endpoint)), root

    ms = args.latency * 1000
    header = [
        "operation",
        "requests",
        "local folder",
        f"+{ms:g} ms per request",
        f"local + requests x {ms:g} ms",
        "ratio",
    ]
    if endpoint:
        header += ["requests on S3", "S3 (moto, loopback)"]
    print(f"{os.cpu_count()} CPUs; median of {repeat}; times in ms; yard opened afresh per run\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
    try:
        for label, (setup, run) in scenarios(files).items():
            opening = label == "open a yard"
            fast, requests = median_run(local, setup, run, opening=opening, repeat=repeat)
            waited, slow_requests = median_run(slow, setup, run, opening=opening, repeat=repeat)
            # A search lists the event feed by time slice: one listing more when its look-back
            # window crosses a slice boundary (see SLACK in tests/storage/test_operation_requests.py).
            assert abs(slow_requests - requests) <= label.startswith("search"), (
                label,
                requests,
                slow_requests,
            )
            predicted = fast + requests * args.latency
            row = [
                label,
                str(requests),
                f"{fast * 1000:.1f}",
                f"{waited * 1000:.0f}",
                f"{predicted * 1000:.0f}",
                f"{waited / predicted:.2f}",
            ]
            if endpoint:
                remote, remote_requests = median_run(s3, setup, run, opening=opening, repeat=repeat)
                row += [str(remote_requests), f"{remote * 1000:.0f}"]
            print("| " + " | ".join(row) + " |")
    finally:
        if server is not None:
            server.__exit__(None, None, None)


if __name__ == "__main__":
    main()
