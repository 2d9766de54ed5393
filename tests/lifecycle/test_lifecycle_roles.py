"""Roles in decisions: require_role, and approvals that count only for members of a role."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from modelyard.errors import InputError, TransitionRejected
from modelyard.lifecycle import (
    Approval,
    GuardContext,
    Lifecycle,
    ModelStatus,
    TransitionRequest,
    VersionStatus,
    actor_key,
    decide,
    require_approvals,
    require_role,
)

AT = datetime(2025, 1, 1, tzinfo=timezone.utc)


def status(*approvals: Approval) -> ModelStatus:
    return ModelStatus("churn", {3: VersionStatus(3, "staging")}, approvals=approvals)


def approval(actor: str, role: str | None = "qa", *, days_ago: int = 0) -> Approval:
    return Approval(3, "production", actor, AT - timedelta(days=days_ago), role=role)


def request(actor: str = "ana") -> TransitionRequest:
    return TransitionRequest(3, "production", actor, AT)


def test_require_role_needs_the_requester_to_hold_a_role_in_the_book() -> None:
    lc = Lifecycle.default().with_guards("staging", "production", require_role("release", "admin"))
    book = {"release": {actor_key("Ana")}, "admin": {"root"}}
    decision = decide(lc, status(), request("ANA "), roles=book)
    assert decision.results[0].reason == "ANA  holds role release"
    with pytest.raises(TransitionRejected, match="lee does not hold role admin/release"):
        decide(lc, status(), request("lee"), roles=book)


def test_require_role_fails_closed_without_a_role_book() -> None:
    lc = Lifecycle.default().with_guards("staging", "production", require_role("release"))
    with pytest.raises(TransitionRejected, match="no role book") as info:
        decide(lc, status(), request("ana"))
    assert info.value.results[0].details["held"] is None
    with pytest.raises(InputError, match="at least one role"):
        require_role()
    with pytest.raises(InputError, match="role"):
        require_role("qa\n")


def test_with_a_role_book_a_claimed_role_is_not_enough() -> None:
    guard = require_approvals(2, roles={"qa"})
    lc = Lifecycle.default().with_guards("staging", "production", guard)
    signed = status(approval("ana"), approval("lee"))
    # Without a role book the claims are taken as recorded (the behaviour before role books).
    assert decide(lc, signed, request("kim")).results[0].ok
    # lee claimed qa but is not (or no longer) a member: only ana counts.
    with pytest.raises(TransitionRejected, match="not counted: not holding role qa: lee"):
        decide(lc, signed, request("kim"), roles={"qa": {"ana"}})
    # A member counts by membership, whatever role the approval names.
    unclaimed = status(approval("ana", None), approval("lee", "ops"))
    result = decide(lc, unclaimed, request("kim"), roles={"qa": {"ana", "lee"}}).results[0]
    assert result.ok and result.details["approved_by"] == ("ana", "lee")


def test_role_checked_approvals_keep_the_other_rules() -> None:
    guard = require_approvals(2, roles={"qa"}, max_age=timedelta(days=7), exclude_requester=True)
    signed = status(approval("ana"), approval("lee", days_ago=9), approval("kim"), approval("bo"))
    ctx = GuardContext(
        "churn",
        signed,
        request("kim"),
        signed.version(3),
        Lifecycle.default().transition("staging", "production"),  # type: ignore[arg-type]
        roles={"qa": {"ana", "lee", "kim"}},
    )
    result = guard(ctx)
    assert not result.ok
    assert result.details["approved_by"] == ("ana",)
    assert result.details["not_holding_role"] == ("bo",)
    assert result.details["expired"] == ("lee",)
    assert result.details["requester"] == ("kim",)
    assert "not holding role qa: bo" in result.reason


def test_the_role_book_is_frozen_and_keyed_by_actor() -> None:
    ctx = GuardContext.for_test(roles={"qa": ["Ana", "\uff41\uff4e\uff41", "lee "]})
    assert ctx.roles == {"qa": frozenset({"ana", "lee"})}
    with pytest.raises(TypeError):
        ctx.roles["qa"] = frozenset()  # type: ignore[index]
    with pytest.raises(InputError, match="collection of actors"):
        GuardContext.for_test(roles={"qa": "ana"})
    assert GuardContext.for_test().roles is None
