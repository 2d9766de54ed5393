"""registry.verify(): every model's chain and snapshots, one typed report, never an exception."""

from __future__ import annotations

import pytest

from modelyard._internal.canonical import canonical_json
from modelyard._internal.hashing import digest_bytes
from modelyard.registry import LogProblem, ModelCheck, Registry, RegistryReport
from modelyard.registry._names import claim_key
from modelyard.storage import MemoryStore, Store

from ._tamper import edit_json, event_key, read_json, rechain, snapshot_key


def _legacy_event(store: Store, name: str, artifact: str) -> None:
    """A model as the modelyard before the chain wrote it: an index entry and a schema-1 event."""
    store.create(f"models/_index/{name}", b"")
    event = {
        "schema_version": 1,
        "kind": "version.registered",
        "seq": 1,
        "at": "2025-06-01T00:00:00+00:00",
        "actor": "ana",
        "reason": "",
        "data": {"version": 1, "artifact": artifact, "state": "development", "metrics": {},
                 "params": {}, "tags": {}, "description": "", "lineage": []},
    }  # fmt: skip
    store.create(event_key(name, 1), canonical_json(event))


def test_a_sound_registry_verifies_and_reports_each_head(registry: Registry) -> None:
    ref = registry.artifacts.put(b"m", name="m")
    for name in ("churn", "fraud"):
        for _ in range(3):
            registry.register(name, ref)
    report = registry.verify()
    assert isinstance(report, RegistryReport) and report.ok and report.problems == ()
    churn = report.model("churn")
    assert isinstance(churn, ModelCheck) and churn.ok and churn.chained and churn.events == 3
    assert churn.head_digest == digest_bytes(registry.store.read(event_key("churn", 3)))
    assert [m.name for m in report.models] == ["churn", "fraud"]


def test_one_report_finds_every_kind_of_damage_and_verify_never_raises() -> None:
    store = MemoryStore()
    registry = Registry(store, snapshot_every=4, actor="ana")
    ref = registry.artifacts.put(b"m", name="m").id
    for name in ("donor", "edited", "holed", "swapped", "foreign", "newer", "garbage", "snap"):
        for _ in range(5):
            registry.register(name, ref)
    registry.register("dup", ref)
    registry.register("unclaimed", ref)

    edit_json(store, event_key("edited", 2), lambda doc: doc.update(actor="mallory"))
    store.delete(event_key("holed", 3))
    second, third = store.read(event_key("swapped", 2)), store.read(event_key("swapped", 3))
    store.write(event_key("swapped", 2), third)
    store.write(event_key("swapped", 3), second)
    store.write(event_key("foreign", 2), store.read(event_key("donor", 2)))
    rechain(store, "foreign", 3)
    edit_json(store, event_key("newer", 5), lambda doc: doc.update(schema_version=9))
    store.write(event_key("garbage", 5), b"\x00\x01 not json")
    edit_json(store, snapshot_key("snap", 4), lambda doc: doc.update(description="forged"))
    store.write("models/snap/snapshots/000000000099.json", store.read(snapshot_key("snap", 4)))
    store.write("models/snap/log/notes.txt", b"hello")
    edit_json(store, event_key("donor", 4), lambda doc: doc.update(snapshot="sha256:" + "0" * 64))
    rechain(store, "donor", 5)
    _legacy_event(store, "Dup", ref)
    store.delete(claim_key("unclaimed"))

    report = registry.verify()
    found = {(m.name, p.kind, p.key) for m in report.models for p in m.problems}
    assert found == {
        ("edited", "chain", event_key("edited", 3)),
        ("holed", "hole", event_key("holed", 3)),
        ("swapped", "order", event_key("swapped", 2)),
        ("swapped", "order", event_key("swapped", 3)),
        ("swapped", "chain", event_key("swapped", 4)),
        ("foreign", "foreign", event_key("foreign", 2)),
        ("newer", "newer", event_key("newer", 5)),
        ("garbage", "event", event_key("garbage", 5)),
        ("snap", "snapshot", snapshot_key("snap", 4)),
        ("snap", "snapshot", "models/snap/snapshots/000000000099.json"),
        ("snap", "stray", "models/snap/log/notes.txt"),
        ("donor", "event", event_key("donor", 4)),
        ("donor", "snapshot", snapshot_key("donor", 4)),
        ("dup", "name", "models/_index/dup"),
        ("Dup", "name", "models/_index/Dup"),
        ("unclaimed", "name", "models/_names/unclaimed"),
    }
    assert not report.ok
    assert all(isinstance(p, LogProblem) and p.detail for p in report.problems)
    assert "registry.verify()" not in " ".join(p.detail for p in report.problems)
    assert report.model("holed").events == 4
    with pytest.raises(KeyError):
        report.model("missing")


def test_the_problem_details_say_what_is_wrong(registry: Registry) -> None:
    ref = registry.artifacts.put(b"m", name="m")
    for _ in range(4):
        registry.register("churn", ref)
    registry.store.delete(event_key("churn", 2))
    registry.store.delete(event_key("churn", 3))
    (problem,) = registry.verify().problems
    assert problem.key == event_key("churn", 2)
    assert (
        problem.detail == "events 2 to 3 are missing, but models/churn/log/000000000004.json exists"
    )
    assert read_json(registry.store, event_key("churn", 4))["seq"] == 4
