"""``modelyard verify`` and ``modelyard gc`` through the installed console script."""

from __future__ import annotations

from pathlib import Path

import modelyard as my
from tests.cli._run import run, run_json


def test_verify_a_sound_yard_exits_0_and_a_damaged_one_5(tmp_path: Path) -> None:
    yard = my.open_yard(tmp_path / "yard")
    ref = yard.artifacts.put(b"weights", name="model")
    code, data = run_json("verify", yard=tmp_path / "yard")
    assert code == 0 and data["ok"] is True and data["artifacts"] == 1 and data["problems"] == []
    hexdigest = ref.digest.removeprefix("sha256:")
    blob = tmp_path / "yard" / "blobs" / "sha256" / hexdigest[:2] / hexdigest[2:]
    blob.write_bytes(b"tampered")
    code, data = run_json("verify", yard=tmp_path / "yard")
    assert code == 5 and data["ok"] is False and data["problems"]
    assert run("verify", yard=tmp_path / "yard").returncode == 5


def test_a_missing_yard_is_not_found_not_a_new_empty_one(tmp_path: Path) -> None:
    code, data = run_json("verify", yard=tmp_path / "typo")
    assert code == 3 and data["error"]["type"] == "NotFoundError"
    assert "--yard" in data["error"]["message"]
    assert not (tmp_path / "typo").exists()


def test_gc_reports_unless_told_to_delete(tmp_path: Path) -> None:
    yard = my.open_yard(tmp_path / "yard")
    scratch = yard.artifacts.put(b"scratch")
    code, data = run_json("gc", "--grace", "0", yard=tmp_path / "yard")
    assert code == 0 and data["dry_run"] is True and data["artifacts"] == [scratch.id]
    assert yard.artifacts.exists(scratch)
    code, data = run_json("gc", "--grace", "0", "--delete", yard=tmp_path / "yard")
    assert code == 0 and data["dry_run"] is False and data["artifacts"] == [scratch.id]
    assert not yard.artifacts.exists(scratch)


def test_usage_errors_exit_2() -> None:
    assert run("gc", "--grace", "soon").returncode == 2
    assert run("no-such-command").returncode == 2
    assert run().returncode == 2
