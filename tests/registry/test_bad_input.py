"""Bad input gets a clear error from the modelyard tree, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import pytest

from modelyard.artifacts import ArtifactRef
from modelyard.errors import (
    CapabilityError,
    InputError,
    InvalidNameError,
    InvalidReferenceError,
    NotFoundError,
    TransitionRejected,
)
from modelyard.registry import HistoryEntry, Registry
from modelyard.storage import MemoryStore, StoreCapabilities

BAD_NAMES = ["../x", "", "a" * 300, "a\x00b", "line\nbreak", "tab\tname", "a/b", "x@y", " lead"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_model_names_are_refused_before_anything_is_written(
    registry: Registry, model_ref: ArtifactRef, name: str
) -> None:
    before = registry.store.list()
    with pytest.raises(InvalidNameError) as info:
        registry.register(name, model_ref)
    assert isinstance(info.value, ValueError)
    assert registry.store.list() == before


def test_bad_object_registration_writes_no_artifact(registry: Registry) -> None:
    before = registry.store.list()
    with pytest.raises(InvalidNameError):
        registry.register("../x", {"w": 1})
    with pytest.raises(InputError):
        registry.register("churn", {"w": 1}, metrics={"auc": float("nan")})
    with pytest.raises(InputError):
        registry.register("churn", {"w": 1}, tags={"team": 3})  # type: ignore[dict-item]
    assert registry.store.list() == before


def test_unknown_model_version_and_alias_list_what_exists(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    registry.register("churn", model_ref)
    registry.register("churn", model_ref)
    registry.set_alias("churn", "champion", 1)
    with pytest.raises(NotFoundError) as info:
        registry.resolve("fraud@latest")
    assert info.value.available == ["churn"]
    with pytest.raises(NotFoundError) as info:
        registry.resolve("churn/7")
    assert info.value.available == [1, 2]
    assert "[1, 2]" in str(info.value)
    with pytest.raises(NotFoundError) as info:
        registry.load("churn@challenger")
    assert info.value.available == ["champion", "latest"]
    with pytest.raises(NotFoundError):
        registry.set_alias("churn", "champion", 5)
    with pytest.raises(LookupError):
        registry.transition("churn", 9, "staging")


@pytest.mark.parametrize("ref", ["churn", "churn/0", "churn/x", "churn@", "@x", "churn/-1"])
def test_malformed_references(registry: Registry, model_ref: ArtifactRef, ref: str) -> None:
    registry.register("churn", model_ref)
    with pytest.raises((InvalidReferenceError, InvalidNameError)):
        registry.resolve(ref)


def test_forbidden_transition_is_rejected_with_reasons(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    registry.register("churn", model_ref)
    before = registry.store.list()
    with pytest.raises(TransitionRejected) as info:
        registry.transition("churn", 1, "production")
    assert "development" in str(info.value) and "production" in str(info.value)
    assert registry.store.list() == before
    assert len(registry.history("churn")) == 1


def test_a_store_without_atomic_create_is_refused_unless_opted_in(model_ref: ArtifactRef) -> None:
    class CheckThenWriteStore(MemoryStore):
        @property
        def capabilities(self) -> StoreCapabilities:
            return StoreCapabilities(False, True, True, False)

    store = CheckThenWriteStore()
    refused = Registry(store)
    ref = refused.artifacts.put(b"m", name="m")
    with pytest.raises(CapabilityError, match="allow_non_atomic_create"):
        refused.register("churn", ref)
    assert not [key for key in store.list() if key.startswith("models/")]
    allowed = Registry(store, allow_non_atomic_create=True)
    assert allowed.register("churn", ref).version == 1


# -- every command validates every argument with a full match, before the first write ----------

# Non-ASCII digits that int() and str.isdigit() accept: Arabic-Indic, full-width, mathematical bold.
FOREIGN_TWOS = ["\u0662", "\uff12", "\U0001d7d0"]

Command = Callable[[Registry], object]

BAD_COMMANDS: list[tuple[str, Command]] = [
    ("register name\\n", lambda r: r.register("churn\n", {"w": 1})),
    ("register name with a foreign digit", lambda r: r.register("churn\u0662", {"w": 1})),
    ("register metric\\n", lambda r: r.register("churn", {"w": 1}, metrics={"auc\n": 0.9})),
    ("register param\\n", lambda r: r.register("churn", {"w": 1}, params={"C\n": 1.0})),
    ("register tag key\\n", lambda r: r.register("churn", {"w": 1}, tags={"team\n": "risk"})),
    ("register tag value\\n", lambda r: r.register("churn", {"w": 1}, tags={"team": "risk\n"})),
    ("register actor\\n", lambda r: r.register("churn", {"w": 1}, actor="ana\n")),
    ("register artifact ref\\n", lambda r: r.register("churn", "churn-model@latest\n")),
    ("register artifact short id\\n", lambda r: r.register("churn", "churn-model:abcd\n")),
    ("register codec type", lambda r: r.register("churn", {"w": 1}, codec=3)),  # type: ignore[arg-type]
    ("set_alias alias\\n", lambda r: r.set_alias("churn", "champion\n", 2)),
    ("set_alias alias with a foreign digit", lambda r: r.set_alias("churn", "v\u0662", 2)),
    ("set_alias model\\n", lambda r: r.set_alias("churn\n", "champion", 2)),
    ("set_alias actor\\n", lambda r: r.set_alias("churn", "champion", 2, actor="lee\n")),
    ("set_alias expected text", lambda r: r.set_alias("churn", "champion", 2, expected="1")),
    ("delete_alias alias\\n", lambda r: r.delete_alias("churn", "champion\n")),
    ("set_tag key\\n", lambda r: r.set_tag("churn", "team\n", "risk")),
    ("set_tag value\\n", lambda r: r.set_tag("churn", "team", "risk\n")),
    ("set_tag key with spaces around", lambda r: r.set_tag("churn", " team", "risk")),
    ("set_tag actor\\t", lambda r: r.set_tag("churn", "team", "risk", actor="ana\t")),
    ("delete_tag key\\n", lambda r: r.delete_tag("churn", "team\n")),
    ("set_description model\\n", lambda r: r.set_description("churn\n", "text")),
    ("set_description actor\\n", lambda r: r.set_description("churn", "text", actor="a\n")),
    ("delete_version model\\n", lambda r: r.delete_version("churn\n", 1)),
    ("delete_version actor\\n", lambda r: r.delete_version("churn", 1, actor="ana\n")),
    ("transition target\\n", lambda r: r.transition("churn", 1, "staging\n")),
    ("transition model\\n", lambda r: r.transition("churn\n", 1, "staging")),
    ("transition actor\\n", lambda r: r.transition("churn", 1, "staging", actor="ana\n")),
    ("transition actor bidi", lambda r: r.transition("churn", 1, "staging", actor="a\u202ena")),
    ("approve target\\n", lambda r: r.approve("churn", 1, "staging\n", actor="lee")),
    ("approve role\\n", lambda r: r.approve("churn", 1, "staging", actor="lee", role="qa\n")),
    ("approve actor\\n", lambda r: r.approve("churn", 1, "staging", actor="lee\n")),
    ("approve actor zero-width", lambda r: r.approve("churn", 1, "staging", actor="l\u200bee")),
    ("approve actor mixed script", lambda r: r.approve("churn", 1, "staging", actor="\u0430na")),
    ("rollback state\\n", lambda r: r.rollback("churn", "production\n")),
    ("rollback actor\\n", lambda r: r.rollback("churn", "production", actor="lee\n")),
    ("rollback version text", lambda r: r.rollback("churn", "production", version="1")),  # type: ignore[arg-type]
    ("resolve alias\\n", lambda r: r.resolve("churn@champion\n")),
    ("resolve version\\n", lambda r: r.resolve("churn/2\n")),
    ("resolve model\\n", lambda r: r.resolve("churn\n@champion")),
    ("resolve version with a leading zero", lambda r: r.resolve("churn/02")),
    ("resolve a huge version", lambda r: r.resolve("churn/" + "9" * 5000)),
    ("load alias\\n", lambda r: r.load("churn@champion\n")),
    ("search alias\\n", lambda r: r.search(alias="champion\n")),
    ("search state\\n", lambda r: r.search(state="staging\n")),
    ("search tag key\\n", lambda r: r.search(tags={"team\n": "risk"})),
    ("model name\\n", lambda r: r.model("churn\n")),
    ("history name\\n", lambda r: r.history("churn\n")),
    *[
        (f"resolve churn/{two!a}", lambda r, two=two: r.resolve(f"churn/{two}"))
        for two in FOREIGN_TWOS
    ],
    *[(f"load churn/{two!a}", lambda r, two=two: r.load(f"churn/{two}")) for two in FOREIGN_TWOS],
]


@pytest.fixture
def populated(registry: Registry, model_ref: ArtifactRef) -> Registry:
    registry.register("churn", model_ref, tags={"team": "risk"})
    registry.register("churn", model_ref)
    registry.set_alias("churn", "champion", 1)
    return registry


@pytest.mark.parametrize("command", [c for _, c in BAD_COMMANDS], ids=[i for i, _ in BAD_COMMANDS])
def test_every_command_refuses_bad_input_before_writing(
    populated: Registry, command: Command
) -> None:
    before = sorted(populated.store.list())
    head = populated.model("churn").head
    with pytest.raises(InputError):
        command(populated)
    assert sorted(populated.store.list()) == before
    assert populated.model("churn").head == head
    # The value next to the refused one still means what it meant.
    assert populated.resolve("churn@champion").version == 1
    assert set(populated.aliases("churn")) == {"champion", "latest"}


def test_a_trailing_newline_is_not_a_second_alias(populated: Registry) -> None:
    with pytest.raises(InvalidNameError):
        populated.set_alias("churn", "champion\n", 2)
    assert populated.aliases("churn") == {"champion": 1, "latest": 2}


@pytest.mark.parametrize("two", FOREIGN_TWOS)
def test_versions_in_references_are_ascii_digits(populated: Registry, two: str) -> None:
    assert int(two) == 2  # what made "churn/٢" resolve to version 2
    with pytest.raises(InvalidReferenceError, match="ASCII digits"):
        populated.resolve(f"churn/{two}")
    assert populated.resolve("churn/2").version == 2


def test_multi_line_reasons_are_kept_and_printed_on_one_line(populated: Registry) -> None:
    forged = "offline eval passed\n#9 2025-01-01 00:00:00 lee: v1 staging -> production"
    populated.transition("churn", 1, "staging", actor="ana", reason=forged)
    entry = populated.history("churn", kinds={"transition"})[-1]
    assert entry.reason == forged  # stored as given
    printed = "\n".join(str(e) for e in populated.history("churn"))
    assert len(printed.splitlines()) == len(populated.history("churn"))
    assert str(entry).endswith(
        "(offline eval passed\\n#9 2025-01-01 00:00:00 lee: v1 staging -> production)"
    )


@pytest.mark.parametrize("text", ["a\nb", "a\u2028b", "a\x85b", "a\u202eb", "a\rb"])
def test_printed_history_cannot_be_forged_by_any_stored_text(text: str) -> None:
    # Entries written before actors were checked may hold anything; printing still gives one line.
    entry = HistoryEntry(
        seq=3, at=datetime(2025, 1, 1, tzinfo=timezone.utc), kind="transition", actor=text,
        reason=text, version=1,
    )  # fmt: skip
    assert len(str(entry).splitlines()) == 1
    assert str(entry).startswith("#3 2025-01-01 00:00:00 a\\")


@pytest.mark.parametrize("actor", ["ana\n", "ana\t", "a\u200bna", "\u0430na", "  ", ""])
def test_the_registry_actor_is_checked_when_the_registry_is_made(actor: str) -> None:
    with pytest.raises(InputError):
        Registry(MemoryStore(), actor=actor)


def test_an_actor_from_the_environment_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELYARD_ACTOR", "ana\n#2 lee: approved")
    with pytest.raises(InputError, match="MODELYARD_ACTOR"):
        Registry(MemoryStore())
    monkeypatch.setenv("MODELYARD_ACTOR", "Ana Lima")
    assert Registry(MemoryStore()).actor == "Ana Lima"
