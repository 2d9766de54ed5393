"""The approval guard: N distinct actors signed off on this version for this target state."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from modelyard._internal.actors import actor_key
from modelyard.errors import InputError
from modelyard.lifecycle._guard import Guard, GuardContext, GuardResult
from modelyard.lifecycle._spec import GuardSpec
from modelyard.lifecycle._values import require_label

__all__ = ["ApprovalGuard", "require_approvals"]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass(frozen=True)
class ApprovalGuard:
    """See :func:`require_approvals`."""

    required: int
    roles: frozenset[str] | None = None
    max_age: timedelta | None = None
    exclude_requester: bool = False

    @property
    def name(self) -> str:
        parts = [_plural(self.required, "approval")]
        if self.roles is not None:
            parts.append(f"by {'/'.join(sorted(self.roles))}")
        if self.max_age is not None:
            parts.append(f"within {_age(self.max_age)}")
        if self.exclude_requester:
            parts.append("(four-eyes)")
        return " ".join(parts)

    @property
    def spec(self) -> GuardSpec:
        """The stored form: ``require_approvals`` with every parameter (``max_age`` in seconds)."""
        return GuardSpec(
            "require_approvals",
            {
                "n": self.required,
                "roles": sorted(self.roles) if self.roles is not None else None,
                "max_age_seconds": (
                    self.max_age.total_seconds() if self.max_age is not None else None
                ),
                "exclude_requester": self.exclude_requester,
            },
        )

    def _holds(self, ctx: GuardContext, person: str) -> bool:
        book = ctx.roles or {}
        return any(person in book.get(role, frozenset()) for role in self.roles or ())

    def __call__(self, ctx: GuardContext) -> GuardResult:
        # People are told apart by actor_key, not by the strings: "ana", "Ana " and a look-alike
        # spelling are one person, shown as their first approval spelled it.
        shown: dict[str, str] = {}
        groups: dict[str, set[str]] = {
            name: set()
            for name in ("approvers", "expired", "wrong_role", "not_holding", "future", "own")
        }
        requester = actor_key(ctx.request.actor)
        for approval in ctx.approvals:
            person = actor_key(approval.actor)
            shown.setdefault(person, approval.actor)
            if approval.at > ctx.at:
                # An approval recorded after the request cannot have supported it; ignoring it keeps
                # a decision replayable from the history.
                groups["future"].add(person)
            elif self.max_age is not None and ctx.at - approval.at > self.max_age:
                groups["expired"].add(person)
            elif self.roles is not None and ctx.roles is not None and not self._holds(ctx, person):
                # With a role book, membership at decision time decides, not the role an approval
                # claims: a claim is not proof, and a member who was removed no longer counts.
                groups["not_holding"].add(person)
            elif self.roles is not None and ctx.roles is None and approval.role not in self.roles:
                groups["wrong_role"].add(person)
            elif self.exclude_requester and person == requester:
                groups["own"].add(person)
            else:
                groups["approvers"].add(person)
        approvers, expired, wrong_role, not_holding, future, own = (
            {shown[person] for person in groups[name]}
            for name in ("approvers", "expired", "wrong_role", "not_holding", "future", "own")
        )
        count = len(approvers)
        ok = count >= self.required
        target = f"version {ctx.version.version} -> {ctx.target}"
        who = f" (by {', '.join(sorted(approvers))})" if approvers else ""
        reason = f"{count} of {self.required} required approvals for {target}{who}"
        if not ok:
            notes = []
            if expired:
                notes.append(f"expired (older than {_age(self.max_age)}): {_names(expired)}")
            if wrong_role:
                notes.append(
                    f"not in role {'/'.join(sorted(self.roles or ()))}: {_names(wrong_role)}"
                )
            if not_holding:
                notes.append(
                    f"not holding role {'/'.join(sorted(self.roles or ()))}: {_names(not_holding)}"
                )
            if own:
                notes.append(f"the requester's own approval does not count: {_names(own)}")
            if future:
                notes.append(f"given after the request: {_names(future)}")
            needed = self.required - count
            reason += f"; needs {_plural(needed, 'more distinct approver')}"
            if notes:
                reason += "; not counted: " + "; ".join(notes)
        details: dict[str, object] = {
            "required": self.required,
            "approved_by": sorted(approvers),
            "roles": sorted(self.roles) if self.roles is not None else None,
            "max_age_seconds": self.max_age.total_seconds() if self.max_age is not None else None,
            "expired": sorted(expired),
            "wrong_role": sorted(wrong_role),
            "not_holding_role": sorted(not_holding),
            "requester": sorted(own),
            "after_request": sorted(future),
        }
        return GuardResult(ok, reason, details, guard=self.name)


def _names(actors: set[str]) -> str:
    return ", ".join(sorted(actors))


def _age(age: timedelta | None) -> str:
    if age is None:
        return "forever"
    seconds = age.total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            return _plural(int(seconds // size), unit)
    return f"{seconds:g}s"


def require_approvals(
    n: int,
    *,
    roles: Collection[str] | None = None,
    max_age: timedelta | None = None,
    exclude_requester: bool = False,
) -> Guard:
    """A guard that needs approvals by ``n`` distinct actors for this exact version and target.

    Only approvals recorded for the requested version *and* the requested target state count; an
    actor who approved twice counts once. With ``roles``, only approvals whose role is one of them
    count (without ``roles``, an approval's role is ignored). When the decision has a role book
    (``GuardContext.roles``), the role an approval claims is not enough: it counts only if its
    approver holds one of ``roles`` in the book at decision time, so a member who was removed from
    a role no longer counts. With ``max_age``, approvals older than
    that at the request's time have expired. Approvals dated after the request never count. With
    ``exclude_requester=True`` (four-eyes rule), the requesting actor's own approval does not count.
    Actors are compared by :func:`actor_key`, so ``ana``, ``Ana``, ``ana `` and a spelling with a
    look-alike letter from another script are one person.

    >>> from datetime import datetime, timedelta, timezone
    >>> from modelyard.lifecycle import (Approval, GuardContext, ModelStatus, Transition,
    ...     TransitionRequest, VersionStatus)
    >>> t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    >>> v = VersionStatus(3, "staging")
    >>> status = ModelStatus("churn", {3: v}, approvals=[
    ...     Approval(3, "production", "ana", t0, role="qa"),
    ...     Approval(3, "production", "lee", t0 - timedelta(days=9), role="qa")])
    >>> request = TransitionRequest(3, "production", "ana", t0)
    >>> guard = require_approvals(2, roles={"qa"}, max_age=timedelta(days=7))
    >>> ctx = GuardContext("churn", status, request, v, Transition("staging", "production"))
    >>> print(guard(ctx).reason)
    1 of 2 required approvals for version 3 -> production (by ana); needs 1 more distinct
    approver; not counted: expired (older than 7 days): lee
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"require_approvals needs n >= 1, got {n!r}")
    role_set: frozenset[str] | None = None
    if roles is not None:
        if isinstance(roles, str):
            raise InputError(f"roles must be a collection of role names, not the string {roles!r}")
        role_set = frozenset(require_label(role, what="role") for role in roles)
        if not role_set:
            raise InputError("roles must name at least one role (or be None for any role)")
    if max_age is not None and (not isinstance(max_age, timedelta) or max_age <= timedelta(0)):
        raise InputError(f"max_age must be a positive timedelta, got {max_age!r}")
    return ApprovalGuard(n, role_set, max_age, exclude_requester)
