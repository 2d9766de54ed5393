"""The chain: edits, holes, reordering and foreign events are found on read, naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard._internal.hashing import digest_bytes
from modelyard.artifacts import ArtifactRef
from modelyard.errors import IntegrityError
from modelyard.registry import Registry
from modelyard.registry._events import CHAINED_SCHEMA_VERSION
from modelyard.storage import LocalStore, MemoryStore

from ._tamper import edit_json, event_key, read_json, rechain


def _five(registry: Registry, ref: ArtifactRef) -> None:
    for n in range(5):
        registry.register("churn", ref, tags={"n": str(n)})


def test_each_event_names_its_model_and_its_predecessor(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    _five(registry, model_ref)
    store = registry.store
    first = read_json(store, event_key("churn", 1))
    assert first["schema_version"] == CHAINED_SCHEMA_VERSION and first["prev"] is None
    model_id = first["model"]["id"]
    assert first["model"] == {"name": "churn", "id": model_id} and len(model_id) == 32
    for seq in range(2, 6):
        event = read_json(store, event_key("churn", seq))
        assert event["model"] == first["model"]
        assert event["prev"] == digest_bytes(store.read(event_key("churn", seq - 1)))


def test_an_edited_event_is_found_by_the_next_one(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    _five(registry, model_ref)
    other = registry.artifacts.put(b"something else", name="x")
    store = registry.store
    edit_json(store, event_key("churn", 2), lambda doc: doc["data"].update(artifact=other.id))
    with pytest.raises(IntegrityError, match="does not follow the stored event 2") as info:
        Registry(store).resolve("churn/2")
    assert info.value.key == event_key("churn", 3)
    with pytest.raises(IntegrityError, match=event_key("churn", 3)):
        registry.history("churn")  # the audit query sees it too


def test_a_removed_event_is_a_hole_that_readers_report_and_writers_never_fill(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    store = registry.store
    registry.register("churn", model_ref)
    registry.register("churn", model_ref)
    stale = Registry(store, registry.artifacts)  # caches head 2, as a long-running service would
    assert stale.resolve("churn@latest").version == 2
    for _ in range(3):
        registry.register("churn", model_ref)
    store.delete(event_key("churn", 3))
    with pytest.raises(IntegrityError, match=r"000000000003.json is missing, but .*4.json") as info:
        Registry(store).resolve("churn@latest")
    assert info.value.key == event_key("churn", 3)
    before = store.list("models/")
    with pytest.raises(IntegrityError, match="removed from the middle"):
        stale.register("churn", model_ref)  # would fill the hole with another version 3
    with pytest.raises(IntegrityError, match="removed from the middle"):
        Registry(store).register("churn", model_ref)
    assert store.list("models/") == before


def test_a_longer_hole_is_found_through_a_snapshot_past_it() -> None:
    store = MemoryStore()
    writer = Registry(store, snapshot_every=4)
    ref = writer.artifacts.put(b"m", name="m")
    for _ in range(10):
        writer.register("churn", ref)
    for seq in (7, 8):  # snapshot 8 now lies past the last event a reader can reach
        store.delete(event_key("churn", seq))
    with pytest.warns(UserWarning, match="past the end"), pytest.raises(IntegrityError) as info:
        Registry(store).register("churn", ref)
    assert info.value.key == event_key("churn", 7)
    assert not store.exists(event_key("churn", 7))


def test_history_finds_a_hole_behind_a_snapshot() -> None:
    store = MemoryStore()
    writer = Registry(store, snapshot_every=4)
    ref = writer.artifacts.put(b"m", name="m")
    for _ in range(10):
        writer.register("churn", ref)
    for seq in (5, 6):
        store.delete(event_key("churn", seq))
    # Reads start at the checked snapshot 8 and return what was written...
    assert Registry(store).versions("churn") == writer.versions("churn")
    # ...while the audit trail, which reads every event, refuses to show a history with a gap.
    with pytest.raises(IntegrityError, match="removed from the middle") as info:
        Registry(store).history("churn")
    assert info.value.key == event_key("churn", 5)


def test_swapped_events_are_found(registry: Registry, model_ref: ArtifactRef) -> None:
    _five(registry, model_ref)
    store = registry.store
    second, third = store.read(event_key("churn", 2)), store.read(event_key("churn", 3))
    store.write(event_key("churn", 2), third)
    store.write(event_key("churn", 3), second)
    with pytest.raises(IntegrityError, match="holds event 3 of its log, not event 2") as info:
        Registry(store).versions("churn")
    assert info.value.key == event_key("churn", 2)


def test_an_event_copied_from_another_models_log_is_foreign(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    _five(registry, model_ref)
    for _ in range(3):
        registry.register("fraud", model_ref)
    store = registry.store
    store.write(event_key("churn", 3), store.read(event_key("fraud", 3)))
    rechain(store, "churn", 4)  # even with every later link fixed up
    with pytest.raises(IntegrityError, match="belongs to model 'fraud', not 'churn'") as info:
        Registry(store).versions("churn")
    assert info.value.key == event_key("churn", 3)


def test_an_event_of_an_earlier_model_of_the_same_name_is_foreign() -> None:
    old, new = MemoryStore(), MemoryStore()
    for store in (old, new):
        registry = Registry(store)
        ref = registry.artifacts.put(b"m", name="m")
        registry.register("churn", ref)
        registry.register("churn", ref)
    new.write(event_key("churn", 2), old.read(event_key("churn", 2)))
    rechain(new, "churn", 2)  # linked to the new log's event 1, but from the other model
    with pytest.raises(IntegrityError, match="another model that was also named 'churn'"):
        Registry(new).versions("churn")


def test_a_hand_rename_by_copying_the_folder_never_writes_to_the_old_log(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, durable=False)
    registry = Registry(store, snapshot_every=4)  # with snapshots, which named the old model
    ref = registry.artifacts.put(b"m", name="m")
    for _ in range(6):
        registry.register("churn", ref)
    original = {key: store.read(key) for key in store.list("models/churn/")}
    copied = tmp_path / "models" / "churn-v2"
    copied.mkdir()
    for key, data in original.items():
        path = copied / key[len("models/churn/") :]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    store.create("models/_index/churn-v2", b"")  # even with an index entry
    fresh = Registry(store)
    with pytest.raises(IntegrityError, match="belongs to model 'churn', not 'churn-v2'"):
        fresh.resolve("churn-v2@latest")
    with pytest.raises(IntegrityError, match="cannot be renamed by copying its folder"):
        fresh.register("churn-v2", ref)
    assert {key: store.read(key) for key in store.list("models/churn/")} == original
    assert fresh.resolve("churn@latest").version == 6


def test_a_writer_never_fills_a_longer_hole() -> None:
    store = MemoryStore()
    writer = Registry(store)
    ref = writer.artifacts.put(b"m", name="m")
    for _ in range(8):
        writer.register("churn", ref)
    for seq in (4, 5, 6):  # no snapshot lies past this hole
        store.delete(event_key("churn", seq))
    before = store.list("models/")
    with pytest.raises(IntegrityError, match="removed from the middle") as info:
        Registry(store).register("churn", ref)
    assert info.value.key == event_key("churn", 4)
    assert store.list("models/") == before
