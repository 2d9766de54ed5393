"""What get(..., dest=...) writes: names the store chose never become code without the caller's say,
nothing is overwritten, and a refused or failed get leaves nothing behind."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pytest

from modelyard.artifacts import ArtifactStore, _materialize
from modelyard.artifacts._materialize import CODE_SUFFIXES, is_code_name
from modelyard.errors import CodecError, InputError, IntegrityError, UntrustedLoadError
from tests.artifacts._crafted import plant, plant_tree


def _file_artifact(artifacts: ArtifactStore, filename: str, content: bytes = b"x = 1\n") -> str:
    return plant(
        artifacts.store,
        content,
        media_type="text/plain",
        codec="file",
        codec_params={"filename": filename},
    )


@pytest.mark.parametrize(
    "filename",
    [
        "helpers.py",
        "Helpers.PY",
        "evil.pth",
        "mod.cpython-311-x86_64-linux-gnu.so",
        "run.bat",
        "helpers.py.",
        "helpers.py:stream",
        "lib.dll",
    ],
)
def test_a_code_name_chosen_by_the_store_is_not_written_without_trust(
    mem_artifacts: ArtifactStore, tmp_path: Path, filename: str
) -> None:
    artifact = _file_artifact(mem_artifacts, filename)
    work = tmp_path / "notebook"
    work.mkdir()
    with pytest.raises(UntrustedLoadError, match="trusted=True") as caught:
        mem_artifacts.get(artifact, dest=work)
    assert isinstance(caught.value, PermissionError)
    assert list(work.iterdir()) == []
    with pytest.raises(UntrustedLoadError):
        mem_artifacts.get(artifact, dest=tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_the_caller_can_allow_code_names(mem_artifacts: ArtifactStore, tmp_path: Path) -> None:
    artifact = _file_artifact(mem_artifacts, "helpers.py")
    out = mem_artifacts.get(artifact, dest=tmp_path, trusted=True)
    assert out == tmp_path / "helpers.py" and out.read_bytes() == b"x = 1\n"
    assert not os.access(out, os.X_OK)


def test_put_and_get_of_a_script_needs_trust_to_come_back(
    mem_artifacts: ArtifactStore, tmp_path: Path
) -> None:
    script = tmp_path / "train.py"
    script.write_text("print('hi')\n")
    ref = mem_artifacts.put(script)
    with pytest.raises(UntrustedLoadError, match=r"train\.py"):
        mem_artifacts.get(ref)
    assert mem_artifacts.get(ref, trusted=True).read_text() == "print('hi')\n"


def test_tree_code_names_and_executable_bits_need_trust(
    mem_artifacts: ArtifactStore, tmp_path: Path
) -> None:
    tree = plant_tree(
        mem_artifacts.store,
        [("model.bin", b"\x00" * 10, False), ("pkg/__init__.py", b"import os\n", False)],
    )
    with pytest.raises(UntrustedLoadError, match=r"pkg/__init__\.py"):
        mem_artifacts.get(tree, dest=tmp_path / "a")
    assert not (tmp_path / "a").exists()
    assert (mem_artifacts.get(tree, dest=tmp_path / "b", trusted=True) / "pkg").is_dir()
    scripts = plant_tree(mem_artifacts.store, [("run.sh", b"#!/bin/sh\n", True)], "tools")
    plain = mem_artifacts.get(scripts, dest=tmp_path / "c")
    assert not os.access(plain / "run.sh", os.X_OK)
    assert os.access(
        mem_artifacts.get(scripts, dest=tmp_path / "d", trusted=True) / "run.sh", os.X_OK
    )


@pytest.mark.parametrize("filename", ["../escape.txt", "/etc/passwd", "a/b.txt", "..", "a\\b"])
def test_a_recorded_file_name_is_one_segment_inside_dest(
    mem_artifacts: ArtifactStore, tmp_path: Path, filename: str
) -> None:
    artifact = _file_artifact(mem_artifacts, filename, b"data")
    out = mem_artifacts.get(artifact, dest=tmp_path / "out")
    assert out == tmp_path / "out" / "content" and out.read_bytes() == b"data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_names_with_control_characters_are_refused(
    mem_artifacts: ArtifactStore, tmp_path: Path
) -> None:
    artifact = _file_artifact(mem_artifacts, "report\n.txt", b"data")
    with pytest.raises(CodecError, match="control character"):
        mem_artifacts.get(artifact, dest=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_windows_reserved_names_are_refused_there(mem_artifacts: ArtifactStore) -> None:
    ref = mem_artifacts.resolve(_file_artifact(mem_artifacts, "x"))
    for name in ("CON", "nul.txt", "com1.log", "a:b", "trailing. "):
        with pytest.raises(CodecError):
            _materialize.check_names(ref, [name], trusted=True, windows=True)
        _materialize.check_names(ref, [name], trusted=True, windows=False)


@pytest.mark.parametrize(
    "files",
    [
        [("a.txt", b"1", False), ("a.txt", b"2", False)],  # the same name twice
        [("a", b"1", False), ("a/b", b"2", False)],  # a file where a folder must go
    ],
)
def test_names_the_filesystem_takes_for_one_are_refused_not_merged(
    mem_artifacts: ArtifactStore, tmp_path: Path, files: list[tuple[str, bytes, bool]]
) -> None:
    # On a case-insensitive filesystem "A.txt" and "a.txt" meet the same refusal: every file and
    # folder is created exclusively, so the second one finds its name taken.
    tree = plant_tree(mem_artifacts.store, files)
    with pytest.raises(CodecError, match="already took"):
        mem_artifacts.get(tree, dest=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_case_clash_on_a_case_insensitive_filesystem(
    mem_artifacts: ArtifactStore, tmp_path: Path
) -> None:
    probe = tmp_path / "Probe"
    probe.write_text("")
    if not (tmp_path / "probe").exists():
        pytest.skip("this filesystem tells names apart by case")
    tree = plant_tree(mem_artifacts.store, [("A.txt", b"1", False), ("a.txt", b"2", False)])
    with pytest.raises(CodecError, match="already took"):
        mem_artifacts.get(tree, dest=tmp_path / "out")


def test_an_existing_target_is_never_replaced(mem_artifacts: ArtifactStore, tmp_path: Path) -> None:
    artifact = _file_artifact(mem_artifacts, "weights.bin", b"new")
    (tmp_path / "weights.bin").write_bytes(b"mine")
    with pytest.raises(InputError, match="already exists"):
        mem_artifacts.get(artifact, dest=tmp_path)
    assert (tmp_path / "weights.bin").read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.bin"]


def test_a_corrupt_tree_leaves_nothing_behind(mem_artifacts: ArtifactStore, tmp_path: Path) -> None:
    tree = plant_tree(
        mem_artifacts.store, [("a/one.bin", b"one", False), ("b/two.bin", b"two", False)]
    )
    manifest = mem_artifacts.manifest(tree)
    assert manifest.tree is not None
    digest = manifest.tree[1].digest
    key = f"blobs/sha256/{digest[7:9]}/{digest[9:]}"
    mem_artifacts.store.write(key, b"tampered")
    with pytest.raises(IntegrityError):
        mem_artifacts.get(tree, dest=tmp_path / "deep" / "out")
    assert not (tmp_path / "deep").exists()
    with pytest.raises(IntegrityError):
        mem_artifacts.get(tree, dest=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_refused_get_without_dest_leaves_no_temp_folder(
    mem_artifacts: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    with pytest.raises(UntrustedLoadError):
        mem_artifacts.get(_file_artifact(mem_artifacts, "helpers.py"))
    tree = plant_tree(mem_artifacts.store, [("a.bin", b"a", False)])
    digest = "sha256:" + hashlib.sha256(b"a").hexdigest()
    mem_artifacts.store.write(f"blobs/sha256/{digest[7:9]}/{digest[9:]}", b"bad")
    with pytest.raises(IntegrityError):
        mem_artifacts.get(tree)
    assert list(temp.iterdir()) == []
    assert mem_artifacts.get(_file_artifact(mem_artifacts, "ok.txt")).parent.parent == temp


def test_every_code_suffix_is_recognised_in_any_case_and_disguise() -> None:
    # Against the plain reading of the rule: the name, cut at ':', without trailing dots and
    # spaces, ends with one of the suffixes, ignoring case.
    def naive(leaf: str) -> bool:
        base = leaf.split(":", 1)[0].rstrip(" .").lower()
        return any(base.endswith(suffix) for suffix in CODE_SUFFIXES)

    names = [
        f"{stem}{suffix}{tail}"
        for suffix in sorted(CODE_SUFFIXES)
        for stem in ("x", "X.tar")
        for tail in ("", ". ", ":stream")
    ]
    names += [n.upper() for n in names]
    names += ["model.onnx", "weights.bin", "py", "notes.pyx", "a.pth.bak", "run.sh", ""]
    assert [is_code_name(n) for n in names] == [naive(n) for n in names]
    assert all(is_code_name(f"x{suffix}") for suffix in CODE_SUFFIXES)


@pytest.mark.parametrize("char", ["\x01", "\t", "\x1f", "\x7f"])
def test_every_control_character_is_refused_in_a_tree(
    mem_artifacts: ArtifactStore, tmp_path: Path, char: str
) -> None:
    tree = plant_tree(mem_artifacts.store, [(f"dir/a{char}b.bin", b"x", False)])
    with pytest.raises(CodecError, match="control character"):
        mem_artifacts.get(tree, dest=tmp_path / "out", trusted=True)
    assert not (tmp_path / "out").exists()
