"""The cyclic garbage collector is paused while a folder is stored or restored, and given back
exactly as it was found: resumed when the last of several concurrent pauses ends, and left off in
a program that had switched it off itself."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard._internal.collector import collector_paused
from modelyard.artifacts import ArtifactStore, Progress
from modelyard.errors import InputError
from modelyard.storage import LocalStore


@pytest.fixture(autouse=True)
def _collector_running() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_a_pause_stops_the_collector_and_resumes_it_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_pause_resumes_the_collector_even_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_program_that_switched_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_pauses_on_threads_resume_once_the_last_ends() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with collector_paused():
            first_in.set()
            second_in.wait(5)
        seen["after first"] = gc.isenabled()
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with collector_paused():
            second_in.set()
            first_out.wait(5)
            seen["inside second, first done"] = gc.isenabled()
        seen["after second"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {
        "after first": False,
        "inside second, first done": False,
        "after second": True,
    }


def test_the_pause_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELYARD_PAUSE_GC", "0")
    with collector_paused():
        assert gc.isenabled()


def test_a_misspelt_switch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELYARD_PAUSE_GC", "of")
    with (
        pytest.raises(InputError, match="MODELYARD_PAUSE_GC='of' is not understood"),
        collector_paused(),
    ):
        pass
    assert gc.isenabled()


def test_a_folder_is_stored_and_restored_with_the_collector_paused(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    for i in range(5):
        (folder / f"{i}.txt").write_text(str(i))
    artifacts = ArtifactStore(LocalStore(tmp_path / "store"))
    running: list[bool] = []

    def progress(_: Progress) -> None:
        running.append(gc.isenabled())

    ref = artifacts.put(folder, progress=progress)
    assert running and not any(running) and gc.isenabled()
    running.clear()
    out = artifacts.get(ref, dest=tmp_path / "out", progress=progress)
    assert running and not any(running) and gc.isenabled()
    assert sorted(p.name for p in out.iterdir()) == [f"{i}.txt" for i in range(5)]
    # Anything else is stored with the collector running: a codec's own code is not paused.
    running.clear()
    artifacts.put(b"bytes")
    assert gc.isenabled()


def test_a_folder_manifest_is_parsed_with_the_collector_paused_and_a_file_one_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelyard.artifacts import _catalog
    from modelyard.artifacts._manifest import Manifest

    folder = tmp_path / "data"
    folder.mkdir()
    for i in range(600):  # a listing of 600 entries: past the size the pause starts at
        (folder / f"file-{i:04d}.bin").write_bytes(i.to_bytes(2, "big"))
    artifacts = ArtifactStore(LocalStore(tmp_path / "store"))
    big, small = artifacts.put(folder), artifacts.put(b"bytes")
    running: list[bool] = []
    parse = Manifest.model_validate_json

    def watched(data: bytes | str) -> Manifest:
        running.append(gc.isenabled())
        return parse(data)

    monkeypatch.setattr(Manifest, "model_validate_json", watched)
    sizes = []
    for ref in (big, small):
        manifest = _catalog.read_manifest(artifacts.store, ref.id)
        sizes.append(len(manifest.canonical_bytes()))
    assert sizes[0] >= _catalog._PAUSE_FROM > sizes[1]
    assert running == [False, True] and gc.isenabled()
