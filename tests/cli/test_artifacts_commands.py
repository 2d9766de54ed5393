"""``modelyard artifacts ...`` through the installed console script: every exit code."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import modelyard as my
from tests.cli._run import console_script, run, run_json, run_on_terminal

COMMIT = "c0ffee" + "0" * 34
CI = {
    "MODELYARD_CODE_LINEAGE": "1",
    "GITHUB_SHA": COMMIT,
    "GITHUB_REPOSITORY": "acme/churn",
    "GITHUB_REF_NAME": "main",
}


def _stdout_bytes(*args: str, yard: Path) -> tuple[int, bytes]:
    """``modelyard *args`` with stdout read as bytes, as a pipe into another program reads it."""
    env = {k: v for k, v in os.environ.items() if k != "MODELYARD_YARD"}
    done = subprocess.run(
        [console_script(), *args],
        env={**env, "MODELYARD_YARD": str(yard), "MODELYARD_PROGRESS": "0"},
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout


def _tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "weights.bin").write_bytes(b"\x00\x01weights")
    (root / "sub" / "config.json").write_text('{"depth": 3}')
    return root


def test_put_a_file_and_a_folder_then_get_them_back(tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("a,b\n1,2\n")
    yard = tmp_path / "yard"
    code, put = run_json(
        "artifacts", "put", str(data), "--name", "train", "--meta", "rows=1", yard=yard
    )
    assert code == 0 and put["name"] == "train" and put["size"] == data.stat().st_size
    folder = _tree(tmp_path / "model")
    code, tree = run_json(
        "artifacts", "put", str(folder), "--name", "model", "--parent", "train@latest", yard=yard
    )
    assert code == 0 and tree["media_type"].endswith("tree+json")
    # The library reads back what the command line stored, with its lineage and metadata.
    store = my.open_yard(yard, create=False).artifacts
    assert store.manifest(put["id"]).metadata == {"rows": "1"}
    assert store.manifest(tree["id"]).parents == (put["id"],)

    code, got = run_json("artifacts", "get", "model@latest", "-o", str(tmp_path / "out"), yard=yard)
    assert code == 0 and got["kind"] == "directory"
    assert (tmp_path / "out" / "sub" / "config.json").read_text() == '{"depth": 3}'
    assert (tmp_path / "out" / "weights.bin").read_bytes() == b"\x00\x01weights"
    done = run(
        "artifacts", "get", "artifacts:/train@latest", "-o", str(tmp_path / "t.csv"), yard=yard
    )
    assert done.returncode == 0 and (tmp_path / "t.csv").read_text() == "a,b\n1,2\n"
    # No --output: a file's bytes go to stdout, exactly.
    done = run("artifacts", "get", put["id"], yard=yard)
    assert done.returncode == 0 and done.stdout == "a,b\n1,2\n"
    # Staging folders never stay behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "model",
        "out",
        "t.csv",
        "train.csv",
        "yard",
    ]


def test_get_writes_a_stored_objects_bytes(tmp_path: Path) -> None:
    yard = my.open_yard(tmp_path / "yard")
    ref = yard.artifacts.put(b"\x00raw\xffbytes", name="blob")
    assert _stdout_bytes("artifacts", "get", "blob@latest", yard=tmp_path / "yard") == (
        0,
        b"\x00raw\xffbytes",
    )
    code, got = run_json(
        "artifacts", "get", ref.id, "-o", str(tmp_path / "b"), yard=tmp_path / "yard"
    )
    assert code == 0 and got["kind"] == "bytes"
    assert (tmp_path / "b").read_bytes() == b"\x00raw\xffbytes"


def test_put_refuses_bad_input_before_anything_is_written(tmp_path: Path) -> None:
    yard = tmp_path / "yard"
    code, data = run_json("artifacts", "put", str(tmp_path / "missing.csv"), yard=yard)
    assert code == 2 and "does not exist" in data["error"]["message"]
    assert not yard.exists()  # a typo does not leave a new, empty yard behind
    (tmp_path / "f").write_text("x")
    code, data = run_json("artifacts", "put", str(tmp_path / "f"), "--name", "bad name", yard=yard)
    assert code == 2 and data["error"]["type"] == "InvalidNameError"
    code, data = run_json(
        "artifacts", "put", str(tmp_path / "f"), "--parent", "models:/churn/1", yard=yard
    )
    assert code == 2 and "resolve it with the registry" in data["error"]["message"]
    code, data = run_json("artifacts", "put", str(tmp_path / "f"), "--meta", "novalue", yard=yard)
    assert code == 2
    assert not yard.exists()
    my.open_yard(yard)
    code, data = run_json(
        "artifacts", "put", str(tmp_path / "f"), "--parent", "nothing@latest", yard=yard
    )
    assert code == 3 and data["error"]["type"] == "NotFoundError"
    assert my.open_yard(yard).artifacts.find("f") == []


def test_get_refusals_and_failures(tmp_path: Path) -> None:
    yard = my.open_yard(tmp_path / "yard")
    folder = _tree(tmp_path / "model")
    (folder / "hook.py").write_text("print('hi')")
    tree = yard.artifacts.put(folder, name="model")
    blob = yard.artifacts.put(b"weights", name="w")
    where = tmp_path / "yard"
    code, data = run_json(
        "artifacts", "get", "nothing@latest", "-o", str(tmp_path / "x"), yard=where
    )
    assert code == 3
    # A folder needs a place to go; an existing path is never replaced.
    assert run("artifacts", "get", tree.id, yard=where).returncode == 2
    (tmp_path / "taken").write_text("mine")
    code, data = run_json("artifacts", "get", blob.id, "-o", str(tmp_path / "taken"), yard=where)
    assert code == 2 and (tmp_path / "taken").read_text() == "mine"
    # --json needs stdout for the result.
    assert run_json("artifacts", "get", blob.id, yard=where)[0] == 2
    # Code is written only when trusted.
    code, data = run_json("artifacts", "get", tree.id, "-o", str(tmp_path / "m1"), yard=where)
    assert code == 2 and data["error"]["type"] == "UntrustedLoadError"
    assert not (tmp_path / "m1").exists()
    code, _ = run_json(
        "artifacts", "get", tree.id, "-o", str(tmp_path / "m2"), "--trusted", yard=where
    )
    assert code == 0 and (tmp_path / "m2" / "hook.py").exists()
    # Damaged bytes: exit 5, and not one byte of them on stdout or in the output file.
    hexdigest = blob.digest.removeprefix("sha256:")
    (where / "blobs" / "sha256" / hexdigest[:2] / hexdigest[2:]).write_bytes(b"tampere")
    assert _stdout_bytes("artifacts", "get", blob.id, yard=where) == (5, b"")
    assert run("artifacts", "get", blob.id, "-o", str(tmp_path / "bad"), yard=where).returncode == 5
    assert not (tmp_path / "bad").exists()


def test_ls_show_and_lineage(tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("a\n1\n")
    where = tmp_path / "yard"
    # The code record comes from CI variables here (the test folder is no git work tree).
    code, raw = run_json(
        "artifacts", "put", str(data), "--name", "train", yard=where, env=CI, cwd=tmp_path
    )
    assert code == 0
    yard = my.open_yard(where)
    clean = yard.artifacts.put(b"clean", name="clean", parents=[raw["id"]])
    model = yard.artifacts.put(b"model", parents=[clean])

    code, listing = run_json("artifacts", "ls", yard=where)
    assert code == 0 and [a["id"] for a in listing["artifacts"]] == [model.id, clean.id, raw["id"]]
    code, listing = run_json("artifacts", "ls", "--name", "clean", yard=where)
    assert code == 0 and [a["id"] for a in listing["artifacts"]] == [clean.id]
    assert run_json("artifacts", "ls", "--name", "nope", yard=where)[0] == 3
    assert "train:" in run("artifacts", "ls", yard=where).stdout

    code, shown = run_json("artifacts", "show", "train@latest", yard=where)
    assert code == 0 and shown["id"] == raw["id"]
    record = shown["manifest"]["code"]
    assert record["commit"] == COMMIT and record["remote"] == "https://github.com/acme/churn"
    assert record["argv"] and record["source"] == "environment"
    text = run("artifacts", "show", "train@latest", yard=where).stdout
    assert f"commit     {COMMIT}" in text and "remote     https://github.com/acme/churn" in text
    assert "command    " in text
    assert run_json("artifacts", "show", "sha256:" + "0" * 64, yard=where)[0] == 3
    assert run_json("artifacts", "show", "models:/churn/1", yard=where)[0] == 2

    code, graph = run_json("artifacts", "lineage", clean.id, yard=where)
    assert code == 0
    assert [n["id"] for n in graph["ancestors"]] == [raw["id"]]
    assert [n["id"] for n in graph["descendants"]] == [model.id]
    code, graph = run_json("artifacts", "lineage", model.id, "--direction", "ancestors", yard=where)
    assert [(n["id"], n["distance"]) for n in graph["ancestors"]] == [(clean.id, 1), (raw["id"], 2)]
    assert graph["descendants"] == []
    assert run_json("artifacts", "lineage", "nothing@latest", yard=where)[0] == 3
    assert run("artifacts", "lineage", clean.id, "--depth", "-1", yard=where).returncode == 2


def test_folder_put_and_get_draw_a_bar_on_a_terminal_only(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(40):
        (tree / f"part-{i}.txt").write_text(str(i))
    yard = tmp_path / "yard"
    piped = run("artifacts", "put", str(tree), "--name", "tree", yard=yard)
    assert piped.returncode == 0 and "files" not in piped.stderr
    code, drawn = run_on_terminal("artifacts", "put", str(tree), "--name", "tree", yard=yard)
    assert code == 0 and b"40/40 files" in drawn
    code, drawn = run_on_terminal(
        "artifacts", "get", "tree@latest", "--output", str(tmp_path / "out"), yard=yard
    )
    assert code == 0 and b"40/40 files" in drawn
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in tree.iterdir()
    )
