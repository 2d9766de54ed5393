"""Shared fixtures: a moto S3 server on 127.0.0.1, started once per test session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _quick_gc_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """A gc on a store shared between processes waits a few seconds before it reads the
    registry (see modelyard/artifacts/_references.py); tests wait a fraction of that. Child
    processes that race gc set the same value themselves."""
    from modelyard.artifacts import _references

    monkeypatch.setattr(_references, "SETTLE", 0.2)


@pytest.fixture(autouse=True)
def _no_code_lineage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Artifact ids depend on the recorded code, which here would be this checkout's commit and
    dirty state: tests that fix the clock to get stable ids switch it off (child processes
    inherit the variable). Tests of the code record switch it back on."""
    monkeypatch.setenv("MODELYARD_CODE_LINEAGE", "0")


S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """URL of a moto S3 server on loopback (skips if moto or s3fs is not installed)."""
    pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    port = _free_port()
    saved = {name: os.environ.get(name) for name in S3_CREDENTIALS}
    os.environ.update(S3_CREDENTIALS)
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("_moto_server.py")), "127.0.0.1", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(endpoint, timeout=2).close()
                break
            except Exception:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the moto S3 server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="session")
def s3_bucket(s3_endpoint: str) -> str:
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint, key="testing", secret="testing")
    fs.mkdir("modelyard-tests")
    return "modelyard-tests"


@pytest.fixture
def s3_url(s3_bucket: str) -> str:
    """A fresh, empty prefix in the test bucket."""
    return f"s3://{s3_bucket}/{uuid.uuid4().hex}"


class S3Requests:
    """What clients sent to the test S3 server (method, path, query), read from its own log."""

    def __init__(self, endpoint: str) -> None:
        self._endpoint = endpoint
        self._mark = self._fetch(0)[0]

    def _fetch(self, since: int) -> tuple[int, list[tuple[str, str, str]]]:
        import json

        with urllib.request.urlopen(f"{self._endpoint}/_requests?since={since}") as response:
            payload = json.load(response)
        return payload["next"], [tuple(request) for request in payload["requests"]]

    def take(self) -> list[tuple[str, str, str]]:
        """The requests since the previous call (or since this object was made)."""
        self._mark, requests = self._fetch(self._mark)
        return requests


@pytest.fixture
def s3_requests(s3_endpoint: str) -> S3Requests:
    """Counts the requests that reach the test S3 server (tests run one at a time)."""
    return S3Requests(s3_endpoint)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder that an unprivileged user can reach (pytest's own temp folders are private)."""
    path = Path(tempfile.mkdtemp(prefix="modelyard-shared-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for folder in [path, *path.rglob("*")]:
            if folder.is_dir() and not folder.is_symlink():
                folder.chmod(0o755)
        shutil.rmtree(path)
