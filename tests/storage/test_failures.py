"""A local store whose file system fails (a full disk, no permission) leaves nothing and says so.

Every OS call of a write is made to fail in turn with ENOSPC; whichever fails, the call raises a
clear modelyard error (a StoreFullError, also an OSError with errno ENOSPC), the staging folder
holds no temp file, and the key holds its old value or nothing.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelyard.errors import StoreError, StoreFullError
from modelyard.storage import FsspecStore, LocalStore, Store
from modelyard.storage import _atomic as atomic_module

from .._unprivileged import unprivileged

# (name of the os function, which of its calls fails: 1 = the first one the write makes)
FAILURE_POINTS = [
    ("mkdir", 1),  # the staging folder
    ("mkdir", 2),  # the first missing parent folder of the key
    ("mkdir", 3),  # a deeper parent folder
    ("open", 1),  # the temp file
    ("write", 1),  # the bytes
    ("write", 2),  # a later chunk of a large value
    ("fsync", 1),  # the temp file's flush
    ("fsync", 2),  # a parent folder's flush after making it
    ("link", 1),  # publishing a create
    ("replace", 1),  # publishing a write
]

OPERATIONS = ["create", "write", "write-over", "create-stream", "staged"]


class _Faults:
    """Makes the n-th call of one os function raise ENOSPC (the other calls run as usual)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        self.fired = False

    def arm(self, name: str, nth: int, error: int = errno.ENOSPC) -> None:
        real = getattr(os, name)
        calls = 0

        def failing(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            if name == "mkdir" and os.path.lexists(args[0]):
                return real(*args, **kwargs)  # fails with EEXIST anyway: not a call to count
            calls += 1
            if calls == nth:
                self.fired = True
                raise OSError(error, os.strerror(error))
            return real(*args, **kwargs)

        self._monkeypatch.setattr(os, name, failing)


def _store(tmp_path: Path, kind: str) -> Store:
    if kind == "local":
        return LocalStore(tmp_path / "store")
    return FsspecStore(f"file://{tmp_path / 'store'}")


def _staging(store: Store) -> Path:
    root = store.root if isinstance(store, LocalStore) else Path(store._root)  # type: ignore[attr-defined]
    return root / ".staging"


def _leftovers(store: Store) -> list[str]:
    staging = _staging(store)
    return sorted(os.listdir(staging)) if staging.is_dir() else []


def _run(store: Store, operation: str, key: str, value: bytes) -> None:
    if operation == "create":
        store.create(key, value)
    elif operation in ("write", "write-over"):
        store.write(key, value)
    elif operation == "create-stream":
        store.create(key, io.BytesIO(value))
    else:
        staged = store.stage()  # type: ignore[attr-defined]
        try:
            for start in range(0, len(value), 1 << 20):
                staged.write(memoryview(value)[start : start + (1 << 20)])
            assert staged.commit(key)
        except BaseException:
            staged.abort()
            raise


@pytest.mark.parametrize("kind", ["local", "fsspec-file"])
@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize(("function", "nth"), FAILURE_POINTS)
def test_a_full_disk_leaves_nothing_behind_and_says_so(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    operation: str,
    function: str,
    nth: int,
) -> None:
    if operation == "staged" and kind != "local":
        pytest.skip("only LocalStore stages writes")
    if operation in ("create", "create-stream", "staged") and function == "replace":
        pytest.skip("a create never replaces")
    if operation in ("write", "write-over") and function == "link":
        pytest.skip("a write never links")
    store = _store(tmp_path, kind)
    key = "models/churn/log/000000000001.json"
    old = b"old value"
    if operation == "write-over":
        store.write(key, old)
    store.write("other/key", b"untouched")
    shutil.rmtree(_staging(store))  # as in a new store: the first write makes the staging folder
    before = store.list()
    value = os.urandom(5 * (1 << 20) + 3)  # several chunks, so a later write call can fail
    faults = _Faults(monkeypatch)
    faults.arm(function, nth)

    error: StoreFullError | None = None
    try:
        _run(store, operation, key, value)
    except StoreFullError as exc:
        error = exc
    monkeypatch.undo()

    if error is None:
        # This call never reached the failing step (say, no parent folder was missing).
        assert not faults.fired, "the failure was swallowed"
    else:
        assert isinstance(error, StoreError)
        assert isinstance(error, OSError)
        assert error.errno == errno.ENOSPC
        assert error.key == key or (operation == "staged" and error.key is None)
        assert "no space left" in str(error)
        assert ".staging" not in str(error) and ".tmp" not in str(error)

    assert _leftovers(store) == [], "a temp file was left in the staging folder"
    if faults.fired and operation == "write-over":
        assert store.read(key) in (old, value)
    if faults.fired and operation != "write-over":
        assert not store.exists(key)  # every failure point here comes before the publishing
    assert set(store.list()) - set(before) <= {key}
    assert store.read("other/key") == b"untouched"
    # The store works again once there is space.
    store.write(key, b"after")
    assert store.read(key) == b"after"


def test_the_failure_of_making_a_parent_folder_is_the_reported_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The case the issue reported: the temp file is written, then making the key's parent folder
    # fails on the full disk.
    store = LocalStore(tmp_path / "store")
    store.write("warm-up", b"makes the staging folder")
    real_mkdir = os.mkdir

    def full(path: Any, *args: Any, **kwargs: Any) -> None:
        if ".staging" not in str(path):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", full)
    with pytest.raises(StoreFullError, match="no space left"):
        store.create("deep/new/folder/key", b"x" * 1000)
    monkeypatch.undo()
    assert os.listdir(store.root / ".staging") == []
    assert not (store.root / "deep").exists()


def test_the_final_folder_flush_failing_still_removes_the_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path / "store")
    store.write("a/b", b"old")
    monkeypatch.setattr(atomic_module, "fsync_dir", _raise(errno.EIO))
    with pytest.raises(StoreError, match="may not survive a power loss") as info:
        store.write("a/b", b"new")
    monkeypatch.undo()
    assert info.value.errno == errno.EIO
    assert store.read("a/b") == b"new"  # published whole before the flush failed
    assert os.listdir(store.root / ".staging") == []


def _raise(code: int) -> Callable[..., None]:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError(code, os.strerror(code))

    return fail


def test_permission_errors_name_the_store_and_key_not_a_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path / "store")
    monkeypatch.setattr(os, "open", _raise(errno.EACCES))
    with pytest.raises(StoreError) as info:
        store.create("runs/1.json", b"{}")
    monkeypatch.undo()
    message = str(info.value)
    assert "permission denied" in message and "runs/1.json" in message
    assert str(store.root) in message and ".tmp" not in message
    assert info.value.errno == errno.EACCES
    assert not isinstance(info.value, StoreFullError)


# -- real permissions, in a process that cannot bypass them -------------------------------------


def _write_into(root: str, key: str) -> None:
    LocalStore(root).write(key, b"value")


def _read_from(root: str, key: str) -> bytes:
    return LocalStore(root).read(key)


def test_a_read_only_folder_refuses_writes_with_a_clear_error(shared_dir: Path) -> None:
    root = shared_dir / "store"
    store = LocalStore(root)
    store.write("models/churn/log/000000000001.json", b"{}")
    for folder in [root, *root.rglob("*")]:
        if folder.is_dir():
            folder.chmod(0o555)
    outcome, error = unprivileged(_write_into, str(root), "models/churn/log/000000000002.json")
    assert outcome == "raised"
    assert isinstance(error, StoreError), repr(error)
    assert error.errno in (errno.EACCES, errno.EPERM)
    message = str(error)
    assert "permission denied" in message and str(root) in message
    assert "000000000002.json" in message and ".tmp" not in message
    # Reading still works, and nothing was left behind.
    outcome, value = unprivileged(_read_from, str(root), "models/churn/log/000000000001.json")
    assert (outcome, value) == ("ok", b"{}")
    assert store.list() == ["models/churn/log/000000000001.json"]
    assert _leftovers(store) == []


def test_a_staged_write_committed_under_a_bad_key_leaves_nothing(tmp_path: Path) -> None:
    from modelyard.errors import InvalidKeyError

    store = LocalStore(tmp_path / "store")
    staged = store.stage()
    staged.write(b"bytes")
    with pytest.raises(InvalidKeyError):
        staged.commit("../outside")
    assert _leftovers(store) == []
    assert store.list() == []
