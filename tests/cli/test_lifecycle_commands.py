"""``modelyard lifecycle show|set`` through the installed console script."""

from __future__ import annotations

import json
from pathlib import Path

import modelyard as my
from modelyard.lifecycle import Lifecycle, metric_at_least
from tests.cli._run import run, run_json

GUARDED = Lifecycle.default().with_guards(
    "staging", "production", metric_at_least("auc", 0.8), approvals=2
)


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_show_the_default_lifecycle_and_its_mermaid_graph(tmp_path: Path) -> None:
    my.open_yard(tmp_path / "yard")
    code, data = run_json("lifecycle", "show", yard=tmp_path / "yard")
    assert code == 0 and data["stored"] is None and data["model"] is None
    assert data["lifecycle"] == Lifecycle.default().to_dict()
    assert data["states"] == list(Lifecycle.default().states)
    assert data["exclusive"] == {"production": "archived"} and data["roles"] == {}
    code, data = run_json("lifecycle", "show", "--mermaid", yard=tmp_path / "yard")
    assert code == 0 and data["mermaid"] == Lifecycle.default().to_mermaid()
    human = run("lifecycle", "show", "--mermaid", yard=tmp_path / "yard")
    assert human.stdout == Lifecycle.default().to_mermaid() + "\n"


def test_set_stores_a_lifecycle_that_show_then_prints(tmp_path: Path) -> None:
    my.open_yard(tmp_path / "yard")
    spec = _write(tmp_path / "lifecycle.json", GUARDED.to_dict())
    code, data = run_json(
        "lifecycle",
        "set",
        str(spec),
        "--reason",
        "gate production",
        yard=tmp_path / "yard",
        env={"MODELYARD_ACTOR": "ana"},
    )
    assert code == 0 and data["changed"] is True and data["event"]["actor"] == "ana"
    yard = my.open_yard(tmp_path / "yard")
    assert yard.registry.lifecycle() == GUARDED
    code, data = run_json("lifecycle", "show", yard=tmp_path / "yard")
    assert data["stored"]["scope"] == "default" and data["stored"]["reason"] == "gate production"
    gated = [
        t for t in data["transitions"] if (t["source"], t["target"]) == ("staging", "production")
    ]
    assert gated == [
        {"source": "staging", "target": "production", "guards": ["auc >= 0.8"], "approvals": 2}
    ]
    human = run("lifecycle", "show", yard=tmp_path / "yard")
    assert "auc >= 0.8" in human.stdout and "stored by ana" in human.stdout
    code, again = run_json(
        "lifecycle", "set", str(spec), yard=tmp_path / "yard", env={"MODELYARD_ACTOR": "ana"}
    )
    assert code == 0 and again["changed"] is False


def test_set_reads_back_what_show_prints_and_stores_a_models_own(tmp_path: Path) -> None:
    my.open_yard(tmp_path / "yard")
    shown = run("lifecycle", "show", "--json", yard=tmp_path / "yard").stdout
    whole = tmp_path / "shown.json"
    whole.write_text(shown)
    code, data = run_json(
        "lifecycle",
        "set",
        str(whole),
        "--model",
        "churn",
        yard=tmp_path / "yard",
        env={"MODELYARD_ACTOR": "ana"},
    )
    assert code == 0 and data["model"] == "churn"
    code, data = run_json("lifecycle", "show", "churn", yard=tmp_path / "yard")
    assert data["stored"]["scope"] == "model" and data["model"] == "churn"


def test_check_validates_and_stores_nothing(tmp_path: Path) -> None:
    spec = _write(tmp_path / "lifecycle.json", GUARDED.to_dict())
    code, data = run_json("lifecycle", "set", str(spec), "--check", yard=tmp_path / "yard")
    assert code == 0 and data["changed"] is False
    assert not (tmp_path / "yard").exists()


def test_a_bad_file_exits_2_before_anything_is_written(tmp_path: Path) -> None:
    unreachable = {**GUARDED.to_dict(), "states": [*GUARDED.states, "limbo"]}
    typo = GUARDED.to_dict()
    typo["transitions"][0]["guards"] = [{"name": "metric_at_leest", "params": {}}]
    cases = {
        "not-json.json": "{states: [",
        "unreachable.json": json.dumps(unreachable),
        "typo.json": json.dumps(typo),
        "list.json": "[1, 2]",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        code, data = run_json(
            "lifecycle", "set", str(path), yard=tmp_path / "yard", env={"MODELYARD_ACTOR": "ana"}
        )
        assert code == 2, (name, data)
        assert name in data["error"]["message"]
    code, data = run_json("lifecycle", "set", str(tmp_path / "typo.json"), "--model", "churn")
    assert "metric_at_leest" in run("lifecycle", "set", str(tmp_path / "typo.json")).stderr
    assert not (tmp_path / "yard").exists()
    my.open_yard(tmp_path / "yard")
    for name in cases:
        run("lifecycle", "set", str(tmp_path / name), yard=tmp_path / "yard")
    assert my.open_yard(tmp_path / "yard").registry.governance_history() == []


def test_a_missing_file_or_yard_exits_3(tmp_path: Path) -> None:
    code, data = run_json("lifecycle", "set", str(tmp_path / "none.json"), yard=tmp_path / "y")
    assert code == 3 and "none.json" in data["error"]["message"]
    code, data = run_json("lifecycle", "show", yard=tmp_path / "typo")
    assert code == 3 and not (tmp_path / "typo").exists()


def test_a_lifecycle_from_a_newer_modelyard_exits_5(tmp_path: Path) -> None:
    spec = _write(tmp_path / "future.json", {**GUARDED.to_dict(), "schema_version": 99})
    code, data = run_json("lifecycle", "set", str(spec), yard=tmp_path / "yard")
    assert code == 5 and data["error"]["type"] == "IntegrityError"


def test_a_change_the_yards_governance_refuses_exits_4(tmp_path: Path) -> None:
    yard = my.open_yard(tmp_path / "yard", actor="ana")
    yard.registry.grant_role("admin", "ana")
    spec = _write(tmp_path / "lifecycle.json", GUARDED.to_dict())
    done = run(
        "lifecycle", "set", str(spec), yard=tmp_path / "yard", env={"MODELYARD_ACTOR": "bob"}
    )
    assert done.returncode == 4 and "bob" in done.stderr
    code, data = run_json("lifecycle", "set", str(spec), "--actor", "ana", yard=tmp_path / "yard")
    assert code == 0 and data["changed"] is True
    code, data = run_json("lifecycle", "show", yard=tmp_path / "yard")
    assert data["roles"] == {"admin": ["ana"]}
