"""Rules that count people count people, not spellings; actors cannot hold what forges a line."""

# This module is about letters that look like other letters: ruff's warnings about them are
# its subject, not mistakes.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from modelyard._internal.actors import LOOKALIKES, check_actor
from modelyard.errors import InputError, TransitionRejected
from modelyard.lifecycle import (
    Approval,
    GuardContext,
    Lifecycle,
    ModelStatus,
    Transition,
    TransitionRequest,
    VersionStatus,
    actor_key,
    require_approvals,
)
from modelyard.registry import Registry
from modelyard.storage import MemoryStore

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)

# Spellings a reader of the history takes for the same person.
SAME_AS_ANA = [
    "ana",
    "Ana",
    "ANA",
    "ana ",
    " ana",
    "\uff41\uff4e\uff41",  # full-width
    "\u0430na",  # Cyrillic а
    "\u0410NA",  # Cyrillic А
    "\u03b1na",  # Greek α
    "a\u200bna",  # a zero-width space (refused when written, but old records may hold one)
    "an\u0430",
]


@pytest.mark.parametrize("spelling", SAME_AS_ANA)
def test_spellings_of_one_person_have_one_key(spelling: str) -> None:
    assert actor_key(spelling) == actor_key("ana") == "ana"


@pytest.mark.parametrize(
    ("a", "b"),
    [("ana", "anna"), ("ana", "ana lee"), ("José", "Jose"), ("lee", "lea"), ("ana", "ana1")],
)
def test_different_people_keep_different_keys(a: str, b: str) -> None:
    assert actor_key(a) != actor_key(b)


def test_whole_script_look_alikes_and_inner_spaces() -> None:
    assert actor_key("\u0441\u043e\u0435") == actor_key("coe")  # all Cyrillic "сое"
    assert actor_key("\u0421\u041e\u0415") == actor_key("COE")
    assert actor_key("ana   lee") == actor_key("Ana Lee")
    assert all(len(k) == 1 and len(v) == 1 and v.isascii() for k, v in LOOKALIKES.items())


def _ctx(approvals: list[Approval], requester: str = "max") -> GuardContext:
    version = VersionStatus(1, "staging")
    status = ModelStatus("churn", {1: version}, approvals=approvals)
    request = TransitionRequest(1, "production", requester, T0)
    return GuardContext("churn", status, request, version, Transition("staging", "production"))


def test_n_of_m_counts_each_person_once_however_spelled() -> None:
    approvals = [Approval(1, "production", who, T0) for who in SAME_AS_ANA]
    result = require_approvals(2)(_ctx(approvals))
    assert not result.ok
    assert result.details["approved_by"] == ("ana",)  # shown as first spelled
    assert "1 of 2" in result.reason
    approvals.append(Approval(1, "production", "lee", T0))
    assert require_approvals(2)(_ctx(approvals)).ok


@pytest.mark.parametrize("requester", ["Ana", "ana ", "\u0430na", "ＡＮＡ"])
def test_four_eyes_knows_the_requester_however_spelled(requester: str) -> None:
    guard = require_approvals(1, exclude_requester=True)
    result = guard(_ctx([Approval(1, "production", "ana", T0)], requester=requester))
    assert not result.ok
    assert result.details["requester"] == ("ana",)


BAD_ACTORS = [
    "ana\n",
    "ana\n#7 2025-01-01 00:00:00 lee: v3 staging -> production",
    "ana\t",
    "ana\r",
    "a\x00na",
    "a\x85na",  # NEXT LINE
    "a\u2028na",  # LINE SEPARATOR
    "a\u202ena",  # RIGHT-TO-LEFT OVERRIDE
    "a\u2066na",  # LEFT-TO-RIGHT ISOLATE
    "a\u200bna",  # ZERO WIDTH SPACE
    "a\ufeffna",  # ZERO WIDTH NO-BREAK SPACE
    "a\u034fna",  # COMBINING GRAPHEME JOINER (invisible, not a format character)
    "a\ue000na",  # private use
    "\u0430na",  # one word mixing Cyrillic and Latin
    "l\u0435e",
    "\u03bcsvc",  # Greek and Latin
    "",
    "   ",
    "x" * 257,
]


@pytest.mark.parametrize("actor", BAD_ACTORS)
def test_actors_that_could_forge_or_hide_are_refused(actor: str) -> None:
    with pytest.raises(InputError):
        check_actor(actor)


@pytest.mark.parametrize(
    "actor", ["ana", "Ana Lima", "ana.lima@example.com", "José Díaz", "Дмитрий", "王伟", "ana-2"]
)
def test_ordinary_actors_are_accepted_as_given(actor: str) -> None:
    assert check_actor(actor) == actor


def _registry() -> Registry:
    lifecycle = Lifecycle(
        states=["dev", "prod"],
        initial="dev",
        transitions=[
            Transition("dev", "prod", [require_approvals(2, exclude_requester=True)]),
            Transition("prod", "dev"),
        ],
        exclusive={"prod": "dev"},
    )
    registry = Registry(MemoryStore(), lifecycle=lifecycle, actor="ci")
    registry.register("churn", b"model")
    return registry


def test_registry_approvals_count_people_not_spellings() -> None:
    registry = _registry()
    for spelling in ["ana", "Ana", "ana ", "ＡＮＡ"]:
        registry.approve("churn", 1, "prod", actor=spelling)
    with pytest.raises(TransitionRejected, match="1 of 2 required approvals"):
        registry.transition("churn", 1, "prod", actor="max")
    registry.approve("churn", 1, "prod", actor="lee")
    # The requester's own approval does not count, whichever way the request spells the name.
    with pytest.raises(TransitionRejected, match="own approval"):
        registry.transition("churn", 1, "prod", actor="LEE")
    assert registry.transition("churn", 1, "prod", actor="max").state == "prod"
    # Records keep the actor as it was given.
    approvals = registry.history("churn", kinds={"approval.recorded"})
    assert [entry.actor for entry in approvals] == ["ana", "Ana", "ana ", "ＡＮＡ", "lee"]


@pytest.mark.parametrize("actor", ["\u0430na", "ana\n", "a\u202ena", "a\u200bna"])
def test_registry_refuses_bad_actors_before_writing(actor: str) -> None:
    registry = _registry()
    before = sorted(registry.store.list())
    with pytest.raises(InputError):
        registry.approve("churn", 1, "prod", actor=actor)
    with pytest.raises(InputError):
        registry.transition("churn", 1, "prod", actor=actor)
    with pytest.raises(InputError):
        registry.register("churn", b"model", actor=actor)
    assert sorted(registry.store.list()) == before
