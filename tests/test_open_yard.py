"""open_yard: what makes a location a yard, create=False, and clear errors for operator mistakes."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest

from modelyard.errors import (
    InputError,
    IntegrityError,
    NotFoundError,
    StoreError,
)
from modelyard.registry import Registry
from modelyard.storage import FsspecStore, LocalStore, MemoryStore
from modelyard.yard import YARD_MARKER, open_yard

from ._unprivileged import unprivileged
from .conftest import _free_port

# -- what makes a location a yard -----------------------------------------------------------------


def test_a_new_yard_is_marked_and_then_opens_with_create_false(tmp_path: Path) -> None:
    open_yard(tmp_path / "yard")
    marker = json.loads((tmp_path / "yard" / YARD_MARKER).read_bytes())
    assert marker["schema_version"] == 1
    yard = open_yard(tmp_path / "yard", create=False)
    assert yard.store.list() == [YARD_MARKER]


def test_create_false_refuses_a_missing_folder_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="create=True") as info:
        open_yard(tmp_path / "typo", create=False)
    assert isinstance(info.value, LookupError)
    assert not (tmp_path / "typo").exists()


def test_create_false_refuses_a_folder_without_a_yard_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotFoundError, match="no yard at"):
        open_yard(tmp_path / "empty", create=False)
    assert list((tmp_path / "empty").iterdir()) == []
    with pytest.raises(NotFoundError, match="no yard at"):
        open_yard(f"memory://never-created-{os.getpid()}", create=False)


def test_a_yard_from_an_earlier_version_opens_without_its_marker(tmp_path: Path) -> None:
    # Yards written before the marker existed hold data and no yard.json.
    old = LocalStore(tmp_path / "old")
    registry = Registry(old, actor="ana")
    registry.register("churn", b"weights")
    assert not old.exists(YARD_MARKER)

    yard = open_yard(tmp_path / "old", create=False)
    assert yard.registry.resolve("churn@latest").version == 1
    assert not old.exists(YARD_MARKER)  # create=False writes nothing
    open_yard(tmp_path / "old")
    assert old.exists(YARD_MARKER)  # create=True marks it, once


@pytest.mark.parametrize("prefix", ["names/", "manifests/"])
def test_artifacts_alone_make_an_earlier_yard(tmp_path: Path, prefix: str) -> None:
    store = LocalStore(tmp_path / "old")
    store.write(f"{prefix}x/y", b"{}")
    open_yard(store, create=False)


def test_a_damaged_or_newer_marker_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "yard")
    store.write(YARD_MARKER, b"{not json")
    with pytest.raises(IntegrityError, match="damaged"):
        open_yard(store)
    store.write(YARD_MARKER, json.dumps({"schema_version": 2}).encode())
    with pytest.raises(IntegrityError, match="newer modelyard") as info:
        open_yard(store, create=False)
    assert info.value.schema_version == 2


@pytest.mark.slow
def test_processes_creating_one_yard_at_once_all_succeed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(4), ctx.Queue()
    location = str(tmp_path / "race")
    procs = [ctx.Process(target=_open_at_once, args=(location, barrier, queue)) for _ in range(4)]
    for proc in procs:
        proc.start()
    outcomes = [queue.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert outcomes == ["ok"] * 4
    assert LocalStore(location).list() == [YARD_MARKER]


def _open_at_once(location: str, barrier: Any, queue: Any) -> None:
    barrier.wait(timeout=60)
    try:
        open_yard(location)
        queue.put("ok")
    except Exception as exc:
        queue.put(repr(exc))


# -- an operator's mistakes on a local folder -----------------------------------------------------


@pytest.mark.parametrize("typo", ["s3:/bucket/yard", "s3:bucket", "memory:/x", "gcs:/b"])
def test_a_url_with_a_slash_missing_is_refused_not_made_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, typo: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="Did you mean") as info:
        open_yard(typo)
    scheme = typo.split(":", 1)[0]
    assert f"'{scheme}://" in str(info.value)
    assert list(tmp_path.iterdir()) == []
    # A folder whose name has a colon is still possible, explicitly.
    open_yard(Path(typo))
    assert (tmp_path / typo).is_dir()


def test_a_windows_drive_is_not_taken_for_a_scheme() -> None:
    from modelyard.storage._open import _refuse_broken_url

    _refuse_broken_url("C:/yard")  # accepted: one letter is a drive
    _refuse_broken_url("C:\\yard")


def test_a_file_given_as_the_location_says_so(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(b"not a folder")
    with pytest.raises(StoreError, match="is a file, not a folder") as info:
        open_yard(tmp_path / "model.pkl")
    assert not isinstance(info.value, FileExistsError)
    assert info.value.errno == errno.ENOTDIR
    with pytest.raises(StoreError, match="not a folder"):
        open_yard(tmp_path / "model.pkl" / "yard")


def _put(location: str) -> Any:
    return open_yard(location).artifacts.put(b"weights", name="churn-model")


def _open(location: str, create: bool) -> Any:
    return open_yard(location, create=create).registry.resolve("churn@latest").version


def _read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir():
            path.chmod(0o555)


def test_a_read_only_folder_gives_a_clear_error_at_open_and_on_put(shared_dir: Path) -> None:
    empty = shared_dir / "empty"
    empty.mkdir()
    _read_only(empty)
    outcome, error = unprivileged(_open, str(empty), True)
    assert outcome == "raised" and isinstance(error, StoreError), repr(error)
    assert "permission denied" in str(error) and str(empty) in str(error)
    assert ".tmp" not in str(error) and ".staging" not in str(error)

    yard_folder = shared_dir / "yard"
    Registry(open_yard(yard_folder).store, actor="ana").register("churn", b"weights")
    _read_only(yard_folder)
    outcome, version = unprivileged(_open, str(yard_folder), False)
    assert (outcome, version) == ("ok", 1)  # reading a read-only yard works
    outcome, error = unprivileged(_put, str(yard_folder))
    assert outcome == "raised" and isinstance(error, StoreError), repr(error)
    assert "permission denied" in str(error) and str(yard_folder) in str(error)
    assert ".tmp" not in str(error)


def test_a_read_only_yard_from_an_earlier_version_opens(shared_dir: Path) -> None:
    folder = shared_dir / "old"
    Registry(LocalStore(folder), actor="ana").register("churn", b"weights")
    _read_only(folder)
    # create=True would mark the yard; a reader that may not write still opens it.
    assert unprivileged(_open, str(folder), True) == ("ok", 1)
    assert not (folder / YARD_MARKER).exists()


# -- S3 --------------------------------------------------------------------------------------------

S3 = {"key": "testing", "secret": "testing"}


@pytest.mark.s3
def test_a_missing_bucket_is_named_not_a_missing_model(s3_endpoint: str) -> None:
    options = {"endpoint_url": s3_endpoint, **S3}
    for create in (True, False):
        with pytest.raises(StoreError, match="bucket 'no-such-bucket' does not exist") as info:
            open_yard("s3://no-such-bucket/yard", create=create, **options)
        assert s3_endpoint in str(info.value)
    # Through a store opened without the check, reads say the same (they used to report "no
    # model named 'churn'").
    store = FsspecStore("s3://no-such-bucket/yard", endpoint_url=s3_endpoint, **S3)
    with pytest.raises(StoreError, match="does not exist"):
        Registry(store).resolve("churn@latest")
    with pytest.raises(StoreError, match="does not exist"):
        store.list("models/")


@pytest.mark.s3
def test_create_false_refuses_an_s3_prefix_without_a_yard(s3_url: str, s3_endpoint: str) -> None:
    options = {"endpoint_url": s3_endpoint, **S3}
    with pytest.raises(NotFoundError, match="no yard at"):
        open_yard(s3_url, create=False, **options)
    assert FsspecStore(s3_url, **options).list() == []  # nothing written
    open_yard(s3_url, **options)
    open_yard(s3_url, create=False, **options)


@pytest.mark.s3
def test_an_unreachable_endpoint_fails_fast_and_names_it(s3_endpoint: str) -> None:
    closed = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(StoreError) as info:
        open_yard("s3://bucket/yard", endpoint_url=closed, **S3)
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, f"took {elapsed:.1f}s"
    assert closed in str(info.value) and "endpoint" in str(info.value)
    assert info.value.reason == "endpoint unreachable"
    # A store that did reach its endpoint keeps the usual retries for later failures.
    store = FsspecStore("s3://modelyard-tests/x", endpoint_url=s3_endpoint, **S3)
    store.exists("anything")
    assert store._reached and store._first_contact is None


def test_a_memory_store_passed_in_is_checked_too() -> None:
    store = MemoryStore()
    with pytest.raises(NotFoundError):
        open_yard(store, create=False)
    open_yard(store)
    assert store.list() == [YARD_MARKER]


def test_a_folder_another_process_creates_while_opening_is_not_taken_for_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race seen with processes opening one new yard at once: the folder appears right after
    # a look at the path found nothing. It must not then be taken for a file.
    root = tmp_path / "race"
    real_stat = Path.stat

    def appearing(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == root and not os.path.lexists(root):
            os.mkdir(root)  # another process, just after this look
            raise FileNotFoundError(2, "No such file or directory", str(self))
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", appearing)
    assert LocalStore(root).list() == []
