"""Typed events: one class per kind, each applying itself; what a reader refuses, and how."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from modelyard._internal.canonical import canonical_json
from modelyard.artifacts import ArtifactRef
from modelyard.errors import IntegrityError
from modelyard.registry import Registry
from modelyard.registry._events import (
    EVENT_TYPES,
    SCHEMA_VERSION,
    ModelIdentity,
    VersionRegistered,
    parse_event,
)
from modelyard.registry._state import ModelState
from modelyard.storage import MemoryStore

from ._tamper import edit_json, event_key, read_json, rechain

AT = datetime(2026, 1, 1, tzinfo=timezone.utc)
KEY = "models/churn/log/000000000001.json"


def _every_kind(registry: Registry, ref: ArtifactRef) -> None:
    registry.register("churn", ref, metrics={"auc": 0.9}, params={"C": [1, 2]}, tags={"t": "x"})
    registry.register("churn", ref)
    registry.set_alias("churn", "champion", 1)
    registry.delete_alias("churn", "champion")
    registry.set_tag("churn", "owner", "ana")
    registry.set_tag("churn", "checked", "yes", version=1)
    registry.delete_tag("churn", "checked", version=1)
    registry.set_description("churn", "model")
    registry.set_description("churn", "first", version=1)
    registry.transition("churn", 1, "staging")
    registry.approve("churn", 1, "production", actor="lee")
    registry.attach("churn/1", ref, kind="evaluation", note="holdout")
    registry.transition("churn", 1, "production")
    registry.transition("churn", 2, "staging")
    registry.transition("churn", 2, "production")
    registry.rollback("churn", "production", reason="incident")
    registry.delete_version("churn", 2)
    elsewhere = Registry(MemoryStore(), actor="bo")
    elsewhere.register("churn", b"trained elsewhere")
    elsewhere.copy("churn/1", to=registry)


def test_one_class_per_kind_and_every_event_round_trips(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    _every_kind(registry, model_ref)
    events = registry._log.events("churn")
    assert {e.kind for e in events} == set(EVENT_TYPES)  # every kind was written
    assert all(type(e) is EVENT_TYPES[e.kind] for e in events)
    for event in events:
        key = event_key("churn", event.seq)
        stored = registry.store.read(key)
        assert canonical_json(event.to_json()) == stored
        assert parse_event(stored, key) == event
    # Folding the parsed events gives the state the writers built.
    state = ModelState("churn")
    for event in events:
        state = event.apply(state)
    assert state.versions == registry._log.state("churn").versions


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"kind": "version.regis', "not valid JSON"),
        (b"[1, 2, 3]", "holds a JSON list, not a registry event"),
        (b'{"hello": "world"}', r"not a registry event \(schema_version None\)"),
        (b'{"schema_version": 2, "kind": "renamed"}', "unknown event kind 'renamed'"),
        (b'{"schema_version": 1, "kind": "alias.set", "seq": 1}', "the field 'at' is missing"),
    ],
)
def test_bytes_that_are_not_an_event_give_an_integrity_error_naming_the_file(
    raw: bytes, expected: str
) -> None:
    with pytest.raises(IntegrityError, match=expected) as info:
        parse_event(raw, KEY)
    assert info.value.key == KEY
    assert KEY in str(info.value)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("seq", "one", "'seq' must be an integer"),
        ("actor", 7, "'actor' must be a string"),
        ("at", "yesterday", "'at' must be an ISO 8601 time"),
        ("data", [], "'data' must be a JSON object"),
        ("model", None, "'model' must be a JSON object"),
        ("prev", "md5:abc", "'prev' must be a 'sha256:<hex>' digest"),
    ],
)
def test_a_valid_json_event_with_a_wrong_field_is_an_integrity_error_not_a_type_error(
    registry: Registry, model_ref: ArtifactRef, field: str, value: object, expected: str
) -> None:
    registry.register("churn", model_ref)
    edit_json(registry.store, event_key("churn", 1), lambda doc: doc.update({field: value}))
    with pytest.raises(IntegrityError, match=expected) as info:
        Registry(registry.store).version("churn", 1)
    assert info.value.key == event_key("churn", 1)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("version", "2"),
        ("metrics", {"auc": "high"}),
        ("tags", {"team": 3}),
        ("lineage", "sha256:abc"),
        ("artifact", None),
    ],
)
def test_event_data_of_the_wrong_type_is_refused(
    registry: Registry, model_ref: ArtifactRef, field: str, value: object
) -> None:
    registry.register("churn", model_ref)
    edit_json(registry.store, event_key("churn", 1), lambda doc: doc["data"].update({field: value}))
    with pytest.raises(IntegrityError, match=f"not a valid 'version.registered' event: '{field}'"):
        Registry(registry.store).version("churn", 1)


def test_an_event_from_a_newer_modelyard_is_refused_with_advice_to_upgrade(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    registry.register("churn", model_ref)
    registry.register("churn", model_ref)
    newer = SCHEMA_VERSION + 1
    edit_json(registry.store, event_key("churn", 2), lambda doc: doc.update(schema_version=newer))
    with pytest.raises(IntegrityError, match=r"newer modelyard.*upgrade modelyard") as info:
        Registry(registry.store).resolve("churn@latest")
    assert info.value.key == event_key("churn", 2)
    assert info.value.schema_version == newer
    assert SCHEMA_VERSION == 4


def test_events_of_the_previous_schema_are_read_and_extended(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    registry.register("churn", model_ref)
    registry.set_alias("churn", "champion", 1)
    store = registry.store
    for seq in (1, 2):  # as the modelyard before version.copied wrote them
        edit_json(store, event_key("churn", seq), lambda doc: doc.update(schema_version=2))
    rechain(store, "churn", 2)
    fresh = Registry(store, actor="bo")
    assert fresh.resolve("churn@champion").version == 1
    assert fresh.register("churn", model_ref).version == 2
    # Written in the oldest schema that holds it: a registration needs nothing of schema 3.
    assert read_json(store, event_key("churn", 3))["schema_version"] == 2
    assert fresh.verify().ok


def _registered(version: int, seq: int) -> VersionRegistered:
    return VersionRegistered(
        at=AT,
        actor="ana",
        seq=seq,
        model=ModelIdentity("churn", "id"),
        version=version,
        artifact="sha256:" + "0" * 64,
        state="development",
        metrics={},
        params={},
        tags={},
    )


def test_apply_refuses_a_second_registration_of_a_version() -> None:
    state = _registered(1, 1).apply(ModelState("churn"))
    with pytest.raises(IntegrityError, match="registers version 1 again") as info:
        _registered(1, 2).apply(state)
    assert info.value.key == "models/churn/log/000000000002.json"
    with pytest.raises(IntegrityError, match="registers version 5 after 1"):
        _registered(5, 2).apply(state)
    with pytest.raises(IntegrityError, match="numbered 3 but follows 1"):
        _registered(2, 3).apply(state)


def test_a_change_to_a_version_that_does_not_exist_is_refused(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    registry.register("churn", model_ref)
    registry.set_alias("churn", "champion", 1)
    store = registry.store
    edit_json(store, event_key("churn", 2), lambda doc: doc["data"].update(version=9))
    with pytest.raises(IntegrityError, match="names version 9, which does not exist"):
        Registry(store).aliases("churn")
