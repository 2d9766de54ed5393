"""A put of a folder stores all of it or nothing: links, loops, special files, and changes under
way (made by another process) are stored faithfully or refused, never silently left out."""

from __future__ import annotations

import multiprocessing
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelyard.artifacts import ArtifactStore, _writing
from modelyard.errors import ConcurrentModificationError, InputError
from tests.artifacts import _workers

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX links and special files")


def _visible(artifacts: ArtifactStore) -> list[str]:
    return [k for k in artifacts.store.list("") if not k.startswith("leases/")]


def _paths(artifacts: ArtifactStore, ref: Any) -> list[str]:
    tree = artifacts.manifest(ref).tree
    assert tree is not None
    return [entry.path for entry in tree]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "model"
    (root / "real").mkdir(parents=True)
    (root / "real" / "weights.bin").write_bytes(b"w" * 100)
    (root / "config.json").write_text("{}")
    return root


def test_a_linked_sub_folder_inside_the_tree_is_stored(
    mem_artifacts: ArtifactStore, folder: Path, tmp_path: Path
) -> None:
    (folder / "alias").symlink_to("real", target_is_directory=True)
    (folder / "latest.bin").symlink_to(folder / "real" / "weights.bin")
    ref = mem_artifacts.put(folder)
    assert _paths(mem_artifacts, ref) == [
        "alias/weights.bin",
        "config.json",
        "latest.bin",
        "real/weights.bin",
    ]
    out = mem_artifacts.get(ref, dest=tmp_path / "out")
    assert (out / "alias" / "weights.bin").read_bytes() == b"w" * 100
    assert not (out / "alias").is_symlink()


def test_a_link_out_of_the_tree_is_refused_unless_asked_for(
    mem_artifacts: ArtifactStore, folder: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "home" / ".ssh" / "id_rsa"
    secret.parent.mkdir(parents=True)
    secret.write_text("PRIVATE KEY")
    (folder / "key").symlink_to(secret)
    with pytest.raises(InputError) as caught:
        mem_artifacts.put(folder, name="bundle")
    message = str(caught.value)
    assert "key is a link to" in message and str(secret) in message
    assert "follow_links=True" in message
    assert _visible(mem_artifacts) == []
    ref = mem_artifacts.put(folder, name="bundle", follow_links=True)
    assert "key" in _paths(mem_artifacts, ref)


def test_a_linked_folder_out_of_the_tree_is_refused_unless_asked_for(
    mem_artifacts: ArtifactStore, folder: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "vocab.txt").write_text("a b c")
    (folder / "shared").symlink_to(shared, target_is_directory=True)
    with pytest.raises(InputError, match="outside the folder"):
        mem_artifacts.put(folder)
    ref = mem_artifacts.put(folder, follow_links=True)
    assert "shared/vocab.txt" in _paths(mem_artifacts, ref)


def test_link_loops_are_refused(mem_artifacts: ArtifactStore, folder: Path) -> None:
    (folder / "real" / "again").symlink_to("..", target_is_directory=True)
    with pytest.raises(InputError, match="real/again leads back to a folder above it"):
        mem_artifacts.put(folder)
    # Following links out of the folder does not make a loop acceptable.
    with pytest.raises(InputError, match="loop"):
        mem_artifacts.put(folder, follow_links=True)
    assert _visible(mem_artifacts) == []


def test_broken_links_are_refused(mem_artifacts: ArtifactStore, folder: Path) -> None:
    (folder / "gone.bin").symlink_to(folder / "nowhere.bin")
    with pytest.raises(InputError, match=r"gone\.bin cannot be read"):
        mem_artifacts.put(folder)
    assert _visible(mem_artifacts) == []


def test_pipes_and_sockets_in_a_tree_are_refused(
    mem_artifacts: ArtifactStore, tmp_path: Path
) -> None:
    root = tmp_path / "t"  # short: a socket path must fit in about 100 bytes
    root.mkdir()
    (root / "data.bin").write_bytes(b"d")
    os.mkfifo(root / "queue")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(root / "sock"))
        with pytest.raises(InputError) as caught:
            mem_artifacts.put(root)
    assert "queue is a named pipe" in str(caught.value)
    assert "sock is a socket" in str(caught.value)
    assert _visible(mem_artifacts) == []


@pytest.mark.timeout(20)
def test_a_pipe_given_as_a_file_is_refused_without_waiting(
    mem_artifacts: ArtifactStore, tmp_path: Path
) -> None:
    os.mkfifo(tmp_path / "queue")
    with pytest.raises(InputError, match="not a regular file"):
        mem_artifacts.put(tmp_path / "queue", codec="file")
    assert _visible(mem_artifacts) == []


@pytest.mark.parametrize("name", ["back\\slash.txt", "new\nline.txt"])
def test_names_a_tree_cannot_hold_are_refused_before_writing(
    mem_artifacts: ArtifactStore, folder: Path, name: str
) -> None:
    (folder / name).write_text("x")
    with pytest.raises(InputError, match="in its name"):
        mem_artifacts.put(folder)
    assert _visible(mem_artifacts) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_entries_are_refused(mem_artifacts: ArtifactStore, folder: Path) -> None:
    locked = folder / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        with pytest.raises(InputError, match="locked cannot be listed"):
            mem_artifacts.put(folder)
    finally:
        locked.chmod(0o755)


@pytest.fixture
def other_process() -> Iterator[Any]:
    ctx = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    started: list[Any] = []

    def start(action: str, path: Path) -> tuple[Any, Any]:
        go, done = ctx.Event(), ctx.Event()
        child = ctx.Process(target=_workers.change_on_signal, args=(go, done, action, str(path)))
        child.start()
        started.append(child)
        return go, done

    yield start
    for child in started:
        child.join(timeout=30)
        assert child.exitcode == 0


def _change_during_first_read(monkeypatch: pytest.MonkeyPatch, go: Any, done: Any) -> None:
    """Let the other process act while the first file is half read."""
    real = _writing.copy_hashing

    def copy_hashing(source: Any, write: Any, *, tick: Any = None) -> tuple[str, int]:
        def paused() -> None:
            if not go.is_set():
                go.set()
                assert done.wait(30)
            if tick is not None:
                tick()

        return real(source, write, tick=paused)

    monkeypatch.setattr(_writing, "copy_hashing", copy_hashing)
    monkeypatch.setattr("modelyard.artifacts._pipeline.CHUNK", 4096)
    # A small file of a folder is read whole in one call: the change lands between the walk
    # that stamped it and that read.
    small = _writing.read_small

    def read_small(path: Path, stamp: Any) -> bytes:
        if not go.is_set():
            go.set()
            assert done.wait(30)
        return small(path, stamp)

    monkeypatch.setattr(_writing, "read_small", read_small)


@pytest.mark.parametrize("named", [True, False])
def test_a_file_changed_by_another_process_while_read_is_refused(
    mem_artifacts: ArtifactStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    other_process: Any,
    named: bool,
) -> None:
    root = tmp_path / "folder"
    root.mkdir()
    (root / "log.bin").write_bytes(os.urandom(64 * 1024))
    go, done = other_process("append", root / "log.bin")
    _change_during_first_read(monkeypatch, go, done)
    with pytest.raises(ConcurrentModificationError, match="changed while it was being stored"):
        mem_artifacts.put(root, name="logs" if named else None)
    assert mem_artifacts.store.list("manifests/") == [] and mem_artifacts.store.list("names/") == []


def test_a_single_file_changed_while_read_is_refused(
    mem_artifacts: ArtifactStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    other_process: Any,
) -> None:
    path = tmp_path / "log.bin"
    path.write_bytes(os.urandom(64 * 1024))
    go, done = other_process("append", path)
    _change_during_first_read(monkeypatch, go, done)
    with pytest.raises(ConcurrentModificationError):
        mem_artifacts.put(path)
    assert mem_artifacts.store.list("manifests/") == [] and mem_artifacts.store.list("blobs/") == []


@pytest.mark.parametrize("action", ["create", "delete"])
def test_files_appearing_or_vanishing_during_a_put_are_refused(
    mem_artifacts: ArtifactStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    other_process: Any,
    action: str,
) -> None:
    root = tmp_path / "folder"
    root.mkdir()
    (root / "a.bin").write_bytes(os.urandom(64 * 1024))
    (root / "z.bin").write_bytes(b"last")
    go, done = other_process(action, root / ("new.bin" if action == "create" else "z.bin"))
    _change_during_first_read(monkeypatch, go, done)
    with pytest.raises(ConcurrentModificationError):
        mem_artifacts.put(root)
    assert mem_artifacts.store.list("manifests/") == []


def test_a_file_made_executable_during_a_put_is_refused(
    mem_artifacts: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "folder"
    root.mkdir()
    (root / "run.sh").write_bytes(b"echo hi\n")
    small = _writing.read_small

    def read_then_chmod(path: str, stamp: Any) -> bytes:
        data = small(path, stamp)
        os.chmod(path, 0o755)  # changes the mode, not the bytes, size or mtime
        return data

    monkeypatch.setattr(_writing, "read_small", read_then_chmod)
    with pytest.raises(ConcurrentModificationError, match=r"folder \(run.sh\) changed"):
        mem_artifacts.put(root)
    assert mem_artifacts.store.list("manifests/") == []
