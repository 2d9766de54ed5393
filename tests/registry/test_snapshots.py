"""Snapshots are a cache that must match the chain: one that does not is skipped, with a warning."""

from __future__ import annotations

import warnings

import pytest

from modelyard._internal.canonical import canonical_json
from modelyard._internal.hashing import digest_bytes
from modelyard.errors import IntegrityError
from modelyard.registry import Registry, SnapshotWarning
from modelyard.storage import MemoryStore, Store

from ._tamper import edit_json, event_key, read_json, snapshot_key


@pytest.fixture
def yard() -> tuple[Store, Registry, str, str]:
    """``churn`` with six events and a snapshot after event 4; ``champion`` -> version 1."""
    store = MemoryStore()
    registry = Registry(store, snapshot_every=4, actor="ana")
    good = registry.artifacts.put({"model": "good"}, name="m").id
    evil = registry.artifacts.put({"model": "evil"}, name="m").id
    registry.register("churn", good)  # 1
    registry.register("churn", evil)  # 2
    registry.set_alias("churn", "champion", 1)  # 3
    registry.register("churn", evil)  # 4, snapshot
    registry.set_tag("churn", "team", "risk")  # 5
    registry.register("churn", evil)  # 6
    assert store.exists(snapshot_key("churn", 4))
    return store, registry, good, evil


def test_an_edited_snapshot_changes_nothing_that_is_read(
    yard: tuple[Store, Registry, str, str],
) -> None:
    store, _, good, evil = yard

    def point_version_1_at_evil(doc: dict) -> None:  # type: ignore[type-arg]
        doc["versions"][0]["artifact"] = evil

    edit_json(store, snapshot_key("churn", 4), point_version_1_at_evil)
    reader = Registry(store)
    with pytest.warns(SnapshotWarning, match="000000000004.json does not match"):
        assert reader.load("churn@champion") == {"model": "good"}
    assert reader.resolve("churn@champion").artifact == good


def test_a_forger_who_also_edits_the_event_is_caught_by_the_next_event(
    yard: tuple[Store, Registry, str, str],
) -> None:
    store, _, _, evil = yard
    edit_json(store, snapshot_key("churn", 4), lambda d: d["versions"][0].update(artifact=evil))
    forged = digest_bytes(store.read(snapshot_key("churn", 4)))
    edit_json(store, event_key("churn", 4), lambda doc: doc.update(snapshot=forged))
    with pytest.raises(IntegrityError, match="does not follow the stored event 4") as info:
        Registry(store).load("churn@champion")
    assert info.value.key == event_key("churn", 5)


def test_a_planted_far_future_snapshot_hides_nothing_and_the_next_write_follows_the_log(
    yard: tuple[Store, Registry, str, str],
) -> None:
    store, writer, _, _ = yard
    planted = read_json(store, snapshot_key("churn", 4))
    planted["head"] = 999_999
    planted["aliases"] = {"champion": 2}
    store.write(snapshot_key("churn", 999_999), canonical_json(planted))
    reader = Registry(store)
    with pytest.warns(SnapshotWarning, match="past the end of the log"):
        assert [v.version for v in reader.versions("churn")] == [1, 2, 3, 4]
    assert reader.model("churn").tags == {"team": "risk"}  # event 5, after the real snapshot
    assert reader.aliases("churn")["champion"] == 1
    assert reader.register("churn", writer.version("churn", 1).artifact).version == 5
    assert store.exists(event_key("churn", 7))
    assert not store.exists(event_key("churn", 1_000_000))


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("notes.txt", b"remember the milk", "not a snapshot"),
        ("000000000006.json", b'{"schema_version": 2, "name": "ch', "not valid JSON"),
        ("000000000006.json", b"[]", "not a snapshot"),
        ("000000000005.json", None, "does not match"),  # a real snapshot, at the wrong place
        ("000000000006.json", b'{"schema_version": 5}', "newer modelyard"),
    ],
)
def test_a_stray_truncated_or_foreign_file_in_snapshots_is_skipped(
    yard: tuple[Store, Registry, str, str], name: str, content: bytes | None, expected: str
) -> None:
    store, writer, _, _ = yard
    data = store.read(snapshot_key("churn", 4)) if content is None else content
    store.write(f"models/churn/snapshots/{name}", data)
    reader = Registry(store)
    with pytest.warns(SnapshotWarning, match=expected):
        assert reader.versions("churn") == writer.versions("churn")
    # ...and writable: the next event goes where it belongs.
    assert reader.register("churn", writer.version("churn", 1).artifact).version == 5


def test_a_snapshot_of_another_model_is_skipped(yard: tuple[Store, Registry, str, str]) -> None:
    store, writer, _, evil = yard
    for _ in range(4):
        writer.register("fraud", evil)
    store.write(snapshot_key("churn", 4), store.read(snapshot_key("fraud", 4)))
    with pytest.warns(SnapshotWarning, match="does not match"):
        assert Registry(store).versions("churn") == writer.versions("churn")


def test_a_matching_snapshot_is_used_without_a_warning(
    yard: tuple[Store, Registry, str, str],
) -> None:
    store, writer, _, _ = yard
    event = read_json(store, event_key("churn", 4))
    assert event["snapshot"] == digest_bytes(store.read(snapshot_key("churn", 4)))
    assert "snapshot" not in read_json(store, event_key("churn", 3))  # only where one is due
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Registry(store).versions("churn") == writer.versions("churn")


def test_a_snapshot_in_the_format_before_the_chain_is_never_used_and_verify_reports_it(
    yard: tuple[Store, Registry, str, str],
) -> None:
    store, _, _, _ = yard
    planted = read_json(store, snapshot_key("churn", 4))
    planted.update(schema_version=1, head=6, aliases={"champion": 2})
    store.write(snapshot_key("churn", 6), canonical_json(planted))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Registry(store).aliases("churn")["champion"] == 1
    (problem,) = Registry(store).verify().problems
    assert (problem.kind, problem.key) == ("snapshot", snapshot_key("churn", 6))
