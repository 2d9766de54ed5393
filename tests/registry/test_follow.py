"""References by stage (``churn@production``) and aliases that follow a stage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from modelyard.artifacts import ArtifactRef
from modelyard.errors import InputError, IntegrityError, InvalidReferenceError, NotFoundError
from modelyard.lifecycle import Lifecycle, Transition
from modelyard.registry import AliasMove, Registry
from modelyard.storage import LocalStore
from modelyard.testing import FakeClock

from ._tamper import edit_json, event_key, read_json, snapshot_key

LEGACY = Path(__file__).with_name("data") / "legacy-yard"


def _promote(registry: Registry, version: int) -> None:
    registry.transition("churn", version, "staging")
    registry.transition("churn", version, "production")


@pytest.fixture
def churn(registry: Registry, model_ref: ArtifactRef) -> Registry:
    """churn v1..v3, v1 in production, champion following production."""
    for _ in range(3):
        registry.register("churn", model_ref)
    _promote(registry, 1)
    registry.set_alias("churn", "champion", follow="production")
    return registry


# -- references by stage --------------------------------------------------------------------------


def test_name_at_an_exclusive_stage_resolves_to_its_holder(churn: Registry) -> None:
    assert churn.resolve("churn@production").version == 1
    _promote(churn, 3)
    assert churn.resolve("churn@production").version == 3
    assert churn.load("churn@production") == {"weights": [0.25, 0.5]}
    # Other forms are unchanged: latest, a number, an alias.
    assert churn.resolve("churn@latest").version == 3
    assert churn.resolve("churn/2").version == 2


def test_name_at_an_empty_exclusive_stage_is_not_found_with_a_clear_message(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    registry.register("churn", model_ref)
    with pytest.raises(NotFoundError, match=r"no version of model 'churn' is in 'production' now"):
        registry.resolve("churn@production")


def test_name_at_a_non_exclusive_stage_is_refused_saying_why(churn: Registry) -> None:
    with pytest.raises(InvalidReferenceError, match=r"several versions may be in it") as info:
        churn.resolve("churn@staging")
    assert "search(name='churn', state='staging')" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_a_stage_wins_over_an_alias_of_the_same_name_written_before_stages_were_names(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    # A lifecycle without "production" lets the alias be set, as modelyard before stage
    # references did; read with the default lifecycle, the stage is what "@production" names.
    store = registry.store
    other = Lifecycle(
        ("development", "live"), "development", [Transition("development", "live")], {}
    )
    old = Registry(store, lifecycle=other, actor="ana")
    old.register("churn", model_ref)
    old.register("churn", model_ref)
    old.set_alias("churn", "production", 1)
    registry = Registry(store, actor="ana")
    registry.set_lifecycle(Lifecycle.default(), reason="back to the default")
    registry.transition("churn", 2, "staging")
    registry.transition("churn", 2, "production")
    assert registry.aliases("churn")["production"] == 1  # still listed, and deletable
    assert registry.resolve("churn@production").version == 2
    registry.delete_alias("churn", "production")
    assert "production" not in registry.aliases("churn")


# -- alias names ----------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["production", "staging", "development", "archived"])
def test_an_alias_named_like_a_stage_is_refused_before_anything_is_written(
    churn: Registry, stage: str
) -> None:
    head = churn.model("churn").head
    with pytest.raises(InputError, match=rf"'{stage}' is a stage of the lifecycle of 'churn'"):
        churn.set_alias("churn", stage, 2)
    with pytest.raises(InputError, match=rf"'{stage}' is a stage"):
        churn.set_alias("churn", stage, follow="production")
    assert churn.model("churn").head == head


@pytest.mark.parametrize(
    ("follow", "error"),
    [
        ("staging", "not an exclusive stage, so several versions may be in it"),
        ("development", "not an exclusive stage"),
        ("nowhere", "nowhere"),
    ],
)
def test_following_a_stage_that_is_not_exclusive_is_refused(
    churn: Registry, follow: str, error: str
) -> None:
    head = churn.model("churn").head
    with pytest.raises(InputError, match=error):
        churn.set_alias("churn", "canary", follow=follow)
    assert churn.model("churn").head == head


def test_set_alias_needs_exactly_one_of_a_version_and_a_stage(churn: Registry) -> None:
    with pytest.raises(InputError, match="not both"):
        churn.set_alias("churn", "canary", 2, follow="production")  # type: ignore[call-overload]
    with pytest.raises(InputError, match="not neither"):
        churn.set_alias("churn", "canary")  # type: ignore[call-overload]


# -- following aliases ----------------------------------------------------------------------------


def test_a_following_alias_points_at_the_holder_and_is_shown_as_following(churn: Registry) -> None:
    assert churn.aliases("churn") == {"champion": 1, "latest": 3}
    assert dict(churn.model("churn").follows) == {"champion": "production"}
    assert churn.version("churn", 1).aliases == ("champion",)
    entry = churn.history("churn")[-1]
    assert entry.kind == "alias.set"
    assert entry.data == {
        "alias": "champion",
        "version": 1,
        "previous": None,
        "follows": "production",
    }


def test_a_transition_moves_the_alias_in_the_same_event(churn: Registry) -> None:
    head = churn.model("churn").head
    churn.transition("churn", 2, "staging")
    assert churn.resolve("churn@champion").version == 1  # staging is not followed
    churn.transition("churn", 2, "production", reason="better auc")
    assert churn.model("churn").head == head + 2  # one event for the move and the alias
    assert churn.resolve("churn@champion").version == 2
    assert churn.version("churn", 1).state == "archived"  # the displaced holder
    entry = churn.history("churn")[-1]
    assert entry.kind == "transition"
    assert entry.alias_moves == (AliasMove("champion", 1, 2),)
    assert entry.data["aliases"] == [{"alias": "champion", "previous": 1, "version": 2}]
    assert "alias champion v1 -> v2" in str(entry)


def test_a_rollback_moves_the_alias_back_with_the_stage(churn: Registry) -> None:
    _promote(churn, 2)
    assert churn.resolve("churn@champion").version == 2
    churn.rollback("churn", "production", reason="incident 42")
    assert churn.resolve("churn@champion").version == 1
    assert churn.resolve("churn@production").version == 1
    entry = churn.history("churn")[-1]
    assert entry.kind == "rollback" and entry.alias_moves == (AliasMove("champion", 2, 1),)


def test_when_the_stage_empties_the_alias_points_at_nothing_until_a_version_enters(
    churn: Registry,
) -> None:
    churn.transition("churn", 1, "archived", reason="retired")
    assert "champion" not in churn.aliases("churn")
    assert churn.version("churn", 1).aliases == ()
    assert dict(churn.model("churn").follows) == {"champion": "production"}  # still bound
    with pytest.raises(NotFoundError, match=r"follows 'production', which no version holds now"):
        churn.resolve("churn@champion")
    assert churn.history("churn")[-1].alias_moves == (AliasMove("champion", 1, None),)
    _promote(churn, 3)
    assert churn.resolve("churn@champion").version == 3
    assert churn.history("churn")[-1].alias_moves == (AliasMove("champion", None, 3),)


def test_binding_to_an_empty_stage_returns_none_and_follows_the_next_holder(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    registry.register("churn", model_ref)
    assert registry.set_alias("churn", "champion", follow="production") is None
    assert "champion" not in registry.aliases("churn")
    _promote(registry, 1)
    assert registry.resolve("churn@champion").version == 1


def test_pointing_a_bound_alias_at_a_version_unbinds_it_in_one_event(churn: Registry) -> None:
    assert churn.set_alias("churn", "champion", 3, reason="pin during incident").version == 3
    assert dict(churn.model("churn").follows) == {}
    entry = churn.history("churn")[-1]
    assert entry.data["unfollowed"] == "production" and entry.data["previous"] == 1
    _promote(churn, 2)
    assert churn.resolve("churn@champion").version == 3  # no longer follows
    assert churn.history("churn")[-1].alias_moves == ()


def test_a_compare_and_set_applies_to_binding_too(churn: Registry) -> None:
    from modelyard.errors import ConcurrentModificationError

    with pytest.raises(ConcurrentModificationError):
        churn.set_alias("churn", "champion", 3, expected=2)
    churn.set_alias("churn", "champion", 3, expected=1)
    churn.set_alias("churn", "champion", follow="production", expected=3)
    assert churn.resolve("churn@champion").version == 1


def test_delete_alias_removes_the_binding_even_while_the_stage_is_empty(churn: Registry) -> None:
    churn.transition("churn", 1, "archived")
    churn.delete_alias("churn", "champion")
    assert dict(churn.model("churn").follows) == {}
    assert churn.history("churn")[-1].data == {
        "alias": "champion",
        "previous": None,
        "follows": "production",
    }
    _promote(churn, 2)
    assert "champion" not in churn.aliases("churn")
    with pytest.raises(NotFoundError, match="has no alias 'champion'"):
        churn.delete_alias("churn", "champion")


def test_the_holder_a_following_alias_points_at_cannot_be_deleted(churn: Registry) -> None:
    with pytest.raises(InputError, match="pointed at by"):
        churn.delete_version("churn", 1)


def test_state_at_shows_the_alias_and_its_binding_as_they_were(
    churn: Registry, clock: FakeClock
) -> None:
    before = churn.model("churn").updated_at
    clock.advance(seconds=60)
    _promote(churn, 2)
    then = churn.state_at("churn", before)
    assert then.aliases["champion"] == 1 and dict(then.follows) == {"champion": "production"}
    assert churn.state_at("churn", churn.model("churn").updated_at).aliases["champion"] == 2


# -- stored format --------------------------------------------------------------------------------


def test_only_events_that_carry_following_aliases_need_the_new_schema(churn: Registry) -> None:
    store = churn.store
    head = churn.model("churn").head
    assert read_json(store, event_key("churn", 1))["schema_version"] == 2  # a registration
    assert read_json(store, event_key("churn", head))["schema_version"] == 3  # follow
    churn.set_tag("churn", "team", "risk")
    assert read_json(store, event_key("churn", head + 1))["schema_version"] == 2
    churn.transition("churn", 2, "staging")  # moves no alias
    assert read_json(store, event_key("churn", head + 2))["schema_version"] == 2
    churn.transition("churn", 2, "production")
    assert read_json(store, event_key("churn", head + 3))["schema_version"] == 3


def test_a_transition_that_does_not_carry_its_alias_moves_is_damage(churn: Registry) -> None:
    _promote(churn, 2)
    head = churn.model("churn").head
    edit_json(churn.store, event_key("churn", head), lambda doc: doc["data"].pop("aliases"))
    with pytest.raises(IntegrityError, match=r"alias moves \[none\] but its changes move"):
        Registry(churn.store).resolve("churn@champion")


def test_new_fields_in_an_event_of_the_older_schema_are_refused(churn: Registry) -> None:
    _promote(churn, 2)
    head = churn.model("churn").head
    edit_json(churn.store, event_key("churn", head), lambda doc: doc.update(schema_version=2))
    with pytest.raises(IntegrityError, match="fields of schema 3 in a schema 2 event"):
        Registry(churn.store).resolve("churn@champion")


def test_a_following_alias_survives_a_snapshot(registry: Registry, model_ref: ArtifactRef) -> None:
    store = registry.store
    registry = Registry(store, actor="ana", snapshot_every=4)
    for _ in range(3):
        registry.register("churn", model_ref)
    registry.set_alias("churn", "champion", follow="production")  # event 4: a snapshot
    assert read_json(store, snapshot_key("churn", 4))["follows"] == {"champion": "production"}
    assert read_json(store, snapshot_key("churn", 4))["schema_version"] == 3
    fresh = Registry(store, actor="ana")
    assert dict(fresh.model("churn").follows) == {"champion": "production"}
    _promote(fresh, 2)
    assert Registry(store).resolve("churn@champion").version == 2


def test_a_snapshot_of_a_model_without_following_aliases_keeps_the_older_schema(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    store = registry.store
    registry = Registry(store, actor="ana", snapshot_every=2)
    registry.register("churn", model_ref)
    registry.register("churn", model_ref)
    assert read_json(store, snapshot_key("churn", 2))["schema_version"] == 2


def test_a_yard_written_before_following_aliases_gets_one(tmp_path: Path) -> None:
    shutil.copytree(LEGACY, tmp_path / "yard")
    registry = Registry(LocalStore(tmp_path / "yard", durable=False), actor="lee")
    assert dict(registry.model("churn").follows) == {}
    assert registry.resolve("churn@production").version == 2
    registry.set_alias("churn", "champion", follow="production")
    registry.transition("churn", 3, "development")
    registry.transition("churn", 3, "staging")
    registry.transition("churn", 3, "production")
    assert registry.resolve("churn@champion").version == 3
    registry.rollback("churn", "production")
    assert registry.resolve("churn@champion").version == 2
    assert registry.verify().ok


def test_a_snapshot_holding_a_following_alias_and_evidence_is_read_back_whole(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    import warnings

    store = registry.store
    writer = Registry(store, actor="ana", snapshot_every=4)
    writer.register("churn", model_ref)
    writer.set_alias("churn", "champion", follow="production")
    writer.attach("churn/1", model_ref, kind="evaluation")
    writer.transition("churn", 1, "staging")  # event 4: a snapshot is due
    doc = read_json(store, snapshot_key("churn", 4))
    assert doc["schema_version"] == 3 and "follows" in doc and "evidence" in doc
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a skipped snapshot would warn
        fresh = Registry(store)
        assert dict(fresh.model("churn").follows) == {"champion": "production"}
        assert [e.kind for e in fresh.evidence("churn/1")] == ["evaluation"]
    assert fresh.verify().ok
