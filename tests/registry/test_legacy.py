"""Yards written before the log was chained are read as they are, and chained from the next event.

``data/legacy-yard`` was written by the modelyard before the chain (see ``make_legacy_yard.py``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from modelyard._internal.canonical import canonical_json
from modelyard._internal.hashing import digest_bytes
from modelyard.errors import InputError, IntegrityError, NotFoundError
from modelyard.registry import Registry
from modelyard.registry._events import CHAINED_SCHEMA_VERSION
from modelyard.registry._names import claim_key
from modelyard.storage import LocalStore

from ._tamper import CaseInsensitiveStore, edit_json, event_key, read_json, snapshot_key

LEGACY = Path(__file__).with_name("data") / "legacy-yard"


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    shutil.copytree(LEGACY, tmp_path / "yard")
    return LocalStore(tmp_path / "yard", durable=False)


@pytest.mark.filterwarnings("error")
def test_a_legacy_yard_reads_as_it_was_written(store: LocalStore) -> None:
    assert read_json(store, event_key("churn", 1))["schema_version"] == 1
    assert "prev" not in read_json(store, event_key("churn", 40))
    registry = Registry(store)
    assert registry.model("churn").head == 40
    assert registry.aliases("churn") == {"champion": 2, "latest": 25}
    versions = registry.versions("churn", include_deleted=True)
    assert [v.version for v in versions] == list(range(1, 26))
    assert [v.version for v in versions if v.deleted] == [5]
    assert {v.version: v.state for v in versions[:3]} == {
        1: "development",
        2: "production",
        3: "archived",
    }
    assert registry.version("churn", 2).description == "the second one"
    assert registry.model("churn").description == "weekly churn model"
    assert dict(registry.model("churn").tags) == {"owner": "ana"}
    assert registry.load("churn@champion") == b"weights 1"
    history = registry.history("churn")
    assert [h.seq for h in history] == list(range(1, 41))
    assert history[18].kind == "rollback" and history[18].reason == "incident 42"
    assert history[14].data["approval"]["actor"] == "lee"
    assert [v.created_by for v in registry.versions("fraud")] == ["lee", "lee", "lee"]
    report = registry.verify()
    assert report.ok, report.problems
    assert [(m.name, m.events, m.chained) for m in report.models] == [
        ("churn", 40, False),
        ("fraud", 3, False),
    ]


@pytest.mark.filterwarnings("error")  # the old snapshot is skipped quietly
def test_the_old_snapshot_is_never_trusted(store: LocalStore) -> None:
    edit_json(store, snapshot_key("churn", 32), lambda doc: doc["aliases"].update(champion=1))
    registry = Registry(store)
    assert registry.aliases("churn")["champion"] == 2


@pytest.mark.filterwarnings("error")
def test_the_next_event_starts_the_chain(store: LocalStore) -> None:
    legacy_head = store.read(event_key("churn", 40))
    registry = Registry(store, actor="ana")
    assert registry.register("churn", registry.version("churn", 1).artifact).version == 26
    event = read_json(store, event_key("churn", 41))
    assert event["schema_version"] == CHAINED_SCHEMA_VERSION
    assert event["prev"] == digest_bytes(legacy_head)
    assert event["model"]["name"] == "churn"
    # The old snapshots cannot be checked, so a checked one is written at once.
    assert event["snapshot"] == digest_bytes(store.read(snapshot_key("churn", 41)))
    assert read_json(store, claim_key("churn"))["name"] == "churn"
    registry.set_alias("churn", "champion", 26)
    fresh = Registry(store)
    assert fresh.aliases("churn") == {"champion": 26, "latest": 26}
    assert len(fresh.history("churn")) == 42
    report = fresh.verify()
    assert report.ok, report.problems
    assert report.model("churn").chained and not report.model("fraud").chained
    # A later edit of a legacy event is found by the chain that now follows it.
    edit_json(store, event_key("churn", 40), lambda doc: doc.update(actor="mallory"))
    with pytest.raises(IntegrityError, match="does not follow the stored event 40"):
        Registry(store).history("churn")


def test_an_old_writer_appending_after_the_chain_is_refused(store: LocalStore) -> None:
    registry = Registry(store, actor="ana")
    registry.register("fraud", registry.version("fraud", 1).artifact)  # event 4, chained
    old_style = read_json(store, event_key("fraud", 3))
    old_style.update(seq=5)
    old_style["data"].update(version=5)
    store.create(event_key("fraud", 5), canonical_json(old_style))
    with pytest.raises(IntegrityError, match="older modelyard wrote to this log") as info:
        Registry(store).versions("fraud")
    assert info.value.key == event_key("fraud", 5)


def test_a_legacy_folder_copied_by_hand_is_refused(store: LocalStore) -> None:
    shutil.copytree(store.root / "models" / "fraud", store.root / "models" / "fraud-v2")
    before = {key: store.read(key) for key in store.list("models/fraud/")}
    registry = Registry(store, actor="ana")
    with pytest.raises(IntegrityError, match="not in the registry's index"):
        registry.resolve("fraud-v2@latest")
    with pytest.raises(IntegrityError, match="copied or moved by hand"):
        registry.register("fraud-v2", registry.version("fraud", 1).artifact)
    assert {key: store.read(key) for key in store.list("models/fraud/")} == before
    problems = registry.verify().model("fraud-v2").problems
    assert [(p.kind, p.key) for p in problems] == [("name", "models/_index/fraud-v2")]


def test_on_a_case_insensitive_filesystem_a_legacy_model_keeps_its_name() -> None:
    store = CaseInsensitiveStore()
    for path in sorted(LEGACY.rglob("*")):
        if path.is_file():
            store.write(path.relative_to(LEGACY).as_posix(), path.read_bytes())
    registry = Registry(store, actor="ana")
    log = {key: store.read(key) for key in store.list("models/churn/")}
    with pytest.raises(NotFoundError, match="Use 'churn'"):
        registry.resolve("Churn@latest")
    with pytest.raises(InputError, match="model 'churn' exists"):
        registry.register("Churn", registry.version("churn", 1).artifact)
    assert {key: store.read(key) for key in store.list("models/churn/")} == log
    assert registry.register("churn", registry.version("churn", 1).artifact).version == 26
