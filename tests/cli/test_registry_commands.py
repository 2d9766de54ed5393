"""``modelyard registry ...`` through the installed console script: every exit code."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

import modelyard as my
from modelyard.lifecycle import Lifecycle, metric_at_least, require_tags
from tests.cli._run import console_script, run, run_json

COMMIT = "beef" + "1" * 36
CI = {"MODELYARD_CODE_LINEAGE": "1", "GITHUB_SHA": COMMIT, "GITHUB_REPOSITORY": "acme/churn"}


@pytest.fixture
def where(tmp_path: Path) -> Path:
    """A yard with two artifacts, whose lifecycle guards staging -> production."""
    lifecycle = Lifecycle.default().with_guards(
        "staging", "production", metric_at_least("auc", 0.8), require_tags("owner")
    )
    yard = my.open_yard(tmp_path / "yard", actor="setup")
    yard.registry.set_lifecycle(lifecycle)  # stored: every later opener obeys it
    yard.artifacts.put(b"weights-1", name="churn-model")
    yard.artifacts.put(b"weights-2", name="churn-model")
    return tmp_path / "yard"


def test_register_resolve_show_and_ls(where: Path, tmp_path: Path) -> None:
    code, reg = run_json(
        "registry", "register", "churn", "artifacts:/churn-model@latest",
        "--metric", "auc=0.91", "--tag", "team=risk", "--description", "first",
        "--actor", "ana", yard=where, env=CI, cwd=tmp_path,
    )  # fmt: skip
    assert code == 0
    version = reg["version"]
    assert version["ref"] == "models:/churn/1" and version["metrics"] == {"auc": 0.91}
    assert version["tags"] == {"team": "risk"} and version["created_by"] == "ana"
    assert version["code"]["commit"] == COMMIT
    # The short spelling of an artifact reference is accepted, as the library accepts it.
    short = my.open_yard(where).artifacts.find("churn-model")[1].spec
    assert run_json("registry", "register", "churn", short, yard=where)[0] == 0

    code, resolved = run_json("registry", "resolve", "models:/churn@latest", yard=where)
    assert code == 0 and resolved["version"] == 2 and resolved["ref"] == "models:/churn/2"
    assert resolved["artifact"] == my.open_yard(where).registry.resolve("churn/2").artifact
    done = run("registry", "resolve", "churn/1", yard=where)
    assert done.returncode == 0 and done.stdout.split() == ["churn/1", version["artifact"]]

    code, shown = run_json("registry", "show", "churn", yard=where)
    assert code == 0 and [v["version"] for v in shown["versions"]] == [1, 2]
    code, shown = run_json("registry", "show", "models:/churn/1", yard=where)
    assert code == 0 and shown["version"]["description"] == "first"
    text = run("registry", "show", "churn/1", yard=where).stdout
    assert f"commit     {COMMIT}" in text and "remote     https://github.com/acme/churn" in text
    code, listing = run_json("registry", "ls", yard=where)
    assert code == 0 and listing["models"][0]["name"] == "churn"
    assert listing["models"][0]["versions"] == 2
    assert "churn" in run("registry", "ls", yard=where).stdout


def test_not_found_and_usage_errors(where: Path, tmp_path: Path) -> None:
    my.open_yard(where).registry.register("churn", "artifacts:/churn-model@latest", actor="a")
    for args in (
        ("registry", "resolve", "churn/9"),
        ("registry", "resolve", "nope@latest"),
        ("registry", "show", "nope"),
        ("registry", "history", "nope"),
        ("registry", "register", "churn", "artifacts:/missing@latest"),
        ("registry", "alias", "churn", "champion", "7"),
        ("registry", "transition", "churn", "7", "staging", "--reason", "r"),
        ("registry", "card", "churn", "7"),
        ("registry", "alias", "churn", "nobody", "--delete"),
    ):
        code, data = run_json(*args, yard=where)
        assert code == 3, (args, data)
        assert data["error"]["type"] == "NotFoundError"
    for args in (
        ("registry", "resolve", "churn"),  # a model, not a version: says how to name one
        ("registry", "resolve", "model:/churn/1"),
        ("registry", "register", "churn", "models:/churn/1"),
        ("registry", "register", "churn", "churn-model@latest", "--metric", "auc=high"),
        ("registry", "register", "bad name", "churn-model@latest"),
        ("registry", "alias", "churn", "champion"),
        ("registry", "transition", "churn", "1", "staging"),  # --reason is required
        ("registry", "state-at", "churn", "yesterday"),
        ("registry", "state-at", "churn", "2026-01-01T00:00:00"),  # no zone
        ("registry", "watch", "--once", "--count", "2"),
    ):
        code, data = run_json(*args, yard=where)
        assert code == 2, (args, data)
        assert data["error"]["exit_code"] == 2 and data["error"]["message"]
    # A reading command never creates a yard.
    assert run_json("registry", "ls", yard=tmp_path / "typo")[0] == 3
    # Nor does register: the artifact it names must be in an existing yard.
    assert (
        run_json("registry", "register", "churn", "sha256:" + "a" * 64, yard=tmp_path / "typo")[0]
        == 3
    )
    assert not (tmp_path / "typo").exists()


def test_a_refused_transition_exits_4_with_every_reason(where: Path) -> None:
    registry = my.open_yard(where).registry
    registry.register("churn", "artifacts:/churn-model@latest", metrics={"auc": 0.7}, actor="a")
    code, moved = run_json(
        "registry", "transition", "churn", "1", "staging", "--reason", "qa", yard=where
    )
    assert code == 0 and moved["from"] == "development" and moved["to"] == "staging"
    code, data = run_json(
        "registry", "transition", "churn", "1", "production", "--reason", "go", yard=where
    )
    assert code == 4 and data["error"]["type"] == "TransitionRejected"
    failed = [g for g in data["error"]["guards"] if not g["ok"]]
    assert len(failed) == 2  # both guards' reasons, not only the first
    assert registry.version("churn", 1).state == "staging"  # nothing was written
    done = run("registry", "transition", "churn", "1", "production", "--reason", "go", yard=where)
    assert done.returncode == 4
    assert done.stderr.count("FAILED") == 2 and "auc" in done.stderr and "owner" in done.stderr


def test_alias_transition_approve_rollback_history_and_state_at(where: Path) -> None:
    yard = my.open_yard(where)
    for _ in range(2):
        yard.registry.register(
            "churn",
            "artifacts:/churn-model@latest",
            metrics={"auc": 0.9},
            tags={"owner": "ana"},
            actor="a",
        )
    before = datetime.now(timezone.utc)
    time.sleep(0.01)
    code, data = run_json("registry", "alias", "churn", "champion", "1", yard=where)
    assert code == 0 and data["version"] == 1
    code, data = run_json(
        "registry", "alias", "churn", "live", "--follow", "production", yard=where
    )
    assert code == 0 and data["version"] is None and data["follows"] == "production"
    for version in ("1", "2"):
        args = ("churn", version)
        assert (
            run_json("registry", "transition", *args, "staging", "--reason", "qa", yard=where)[0]
            == 0
        )
        code, moved = run_json(
            "registry", "transition", *args, "production", "--reason", "ship", yard=where
        )
        assert code == 0 and all(g["ok"] for g in moved["guards"]) and moved["guards"]
    assert yard.registry.resolve("churn@live").version == 2
    code, data = run_json(
        "registry", "approve", "churn", "2", "production", "--actor", "lee", yard=where
    )
    assert code == 0 and data["actor"] == "lee" and data["stage"] == "production"

    code, data = run_json(
        "registry", "rollback", "churn", "production", "--reason", "incident", yard=where
    )
    assert code == 0 and data["version"]["version"] == 1
    assert yard.registry.resolve("churn@live").version == 1
    code, data = run_json("registry", "alias", "churn", "champion", "--delete", yard=where)
    assert code == 0 and "champion" not in yard.registry.aliases("churn")

    code, history = run_json("registry", "history", "churn", yard=where)
    kinds = [e["kind"] for e in history["events"]]
    assert code == 0 and kinds[:2] == ["version.registered"] * 2 and "rollback" in kinds
    rollback = next(e for e in history["events"] if e["kind"] == "rollback")
    assert rollback["reason"] == "incident" and rollback["alias_moves"]
    code, only = run_json("registry", "history", "churn", "--kind", "rollback", yard=where)
    assert [e["kind"] for e in only["events"]] == ["rollback"]
    assert "incident" in run("registry", "history", "churn", yard=where).stdout

    code, then = run_json("registry", "state-at", "churn", before.isoformat(), yard=where)
    assert code == 0 and [v["state"] for v in then["versions"]] == ["development"] * 2
    assert "champion" not in then["aliases"]
    code, now = run_json(
        "registry", "state-at", "churn", datetime.now(timezone.utc).isoformat(), yard=where
    )
    assert {v["version"]: v["state"] for v in now["versions"]}[1] == "production"
    # Rollback of a stage nobody held before: refused (exit 4), as the library refuses it.
    yard.registry.register("other", "artifacts:/churn-model@latest", actor="a")
    assert run_json("registry", "rollback", "other", "production", yard=where)[0] == 4


def test_watch_prints_events_as_json_lines(where: Path) -> None:
    registry = my.open_yard(where).registry
    registry.register("churn", "artifacts:/churn-model@latest", actor="ana")
    done = run("registry", "watch", "--once", "--json", yard=where)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0 and [(e.get("model"), e.get("seq")) for e in lines[:-1]] == [
        ("churn", 1)
    ]
    assert set(lines[-1]) == {"cursor"}
    cursor = lines[-1]["cursor"]
    assert run("registry", "watch", "--once", "--since", cursor, yard=where).returncode == 0

    # A live watch: started first, then an event committed by another process arrives.
    watcher = subprocess.Popen(
        [console_script(), "registry", "watch", "--since", cursor, "--count", "1",
         "--timeout", "60", "--poll", "0.05", "--json", "--yard", str(where)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        registry.set_alias("churn", "champion", 1, actor="lee", reason="best")
        out, err = watcher.communicate(timeout=90)
    finally:
        watcher.kill()
    events = [json.loads(line) for line in out.splitlines()]
    assert watcher.returncode == 0, err
    assert [(e["kind"], e["actor"], e["reason"]) for e in events[:-1]] == [
        ("alias.set", "lee", "best")
    ]
    assert events[-1] == {"cursor": events[0]["cursor"]}
    # --timeout with nothing happening: ends by itself, exit 0, with the cursor it started from;
    # the next run from that cursor sees what was committed in between, and nothing before.
    done = run("registry", "watch", "--timeout", "0.5", "--poll", "0.1", "--json", yard=where)
    assert done.returncode == 0 and set(json.loads(done.stdout)) == {"cursor"}
    quiet = json.loads(done.stdout)["cursor"]
    registry.transition("churn", 1, "staging", actor="lee", reason="in between")
    done = run("registry", "watch", "--since", quiet, "--once", "--json", yard=where)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(e.get("kind"), e.get("reason")) for e in lines[:-1]] == [("transition", "in between")]
    done = run("registry", "watch", "--timeout", "0.5", "--poll", "0.1", yard=where)
    assert done.returncode == 0 and done.stdout.startswith("(resume with --since ")
    done = run("registry", "watch", "--since", cursor, "--timeout", "0.5", "--json", yard=where)
    assert done.returncode == 0 and json.loads(done.stdout.splitlines()[-1])["cursor"]


def test_copy_and_card(where: Path, tmp_path: Path) -> None:
    registry = my.open_yard(where).registry
    registry.register("churn", "artifacts:/churn-model@latest", metrics={"auc": 0.9}, actor="a")
    registry.set_alias("churn", "champion", 1, actor="a")
    prod = tmp_path / "prod"
    code, data = run_json(
        "registry", "copy", "models:/churn@champion", "--to", str(prod), yard=where
    )
    assert code == 0 and data["created"] is True and data["source"] == "models:/churn/1"
    assert my.open_yard(prod).registry.load("churn/1") == b"weights-2"
    code, data = run_json("registry", "copy", "churn@champion", "--to", str(prod), yard=where)
    assert code == 0 and data["created"] is False
    assert run_json("registry", "copy", "churn/5", "--to", str(prod), yard=where)[0] == 3

    done = run("registry", "card", "churn", "1", yard=where)
    assert done.returncode == 0 and done.stdout.startswith("# Model card: churn/1")
    assert run("registry", "card", "churn", "1", "--markdown", yard=where).stdout == done.stdout
    page = tmp_path / "cards" / "churn-1.html"
    code, data = run_json("registry", "card", "churn", "1", "--html", str(page), yard=where)
    assert code == 0 and data["html"] == str(page) and data["ref"] == "models:/churn/1"
    assert page.read_text().lstrip().lower().startswith("<!doctype html>")
    assert (
        run("registry", "card", "churn", "1", "--html", "x", "--markdown", yard=where).returncode
        == 2
    )
