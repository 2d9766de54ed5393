"""The role guard: the requesting actor must hold one of the named roles in the yard's role book."""

from __future__ import annotations

from dataclasses import dataclass

from modelyard._internal.actors import actor_key
from modelyard.errors import InputError
from modelyard.lifecycle._guard import Guard, GuardContext, GuardResult
from modelyard.lifecycle._spec import GuardSpec
from modelyard.lifecycle._values import require_label

__all__ = ["RoleGuard", "require_role"]


@dataclass(frozen=True)
class RoleGuard:
    """See :func:`require_role`."""

    roles: frozenset[str]

    @property
    def name(self) -> str:
        return f"role {'/'.join(sorted(self.roles))}"

    @property
    def spec(self) -> GuardSpec:
        """The stored form: ``require_role`` with the sorted role names."""
        return GuardSpec("require_role", {"roles": sorted(self.roles)})

    def __call__(self, ctx: GuardContext) -> GuardResult:
        wanted = "/".join(sorted(self.roles))
        actor = ctx.request.actor
        details: dict[str, object] = {"actor": actor, "roles": sorted(self.roles), "held": []}
        if ctx.roles is None:
            # Without the role book nobody can tell who holds a role; a claim is not membership.
            return GuardResult(
                False,
                f"{actor} must hold role {wanted}, but this decision has no role book to check "
                "it against; decide with the yard's roles (decide(..., roles=...))",
                {**details, "held": None},
                guard=self.name,
            )
        person = actor_key(actor)
        held = sorted(role for role in self.roles if person in ctx.roles.get(role, frozenset()))
        if held:
            return GuardResult(
                True, f"{actor} holds role {held[0]}", {**details, "held": held}, guard=self.name
            )
        return GuardResult(
            False,
            f"{actor} does not hold role {wanted}; a request by a member of that role is needed, "
            "or grant the role first",
            details,
            guard=self.name,
        )


def require_role(*roles: str) -> Guard:
    """A guard that needs the requesting actor to hold one of ``roles``.

    Membership is read from the role book the decision is given (``GuardContext.roles``, filled by
    ``decide(..., roles=...)``) and compared by :func:`~modelyard.lifecycle.actor_key`. Without a
    role book the guard fails (closed): a role cannot be checked, so it is not assumed.

    >>> from modelyard.lifecycle import GuardContext, actor_key
    >>> guard = require_role("release")
    >>> guard(GuardContext.for_test(actor="Ana", roles={"release": {actor_key("ana")}})).reason
    'Ana holds role release'
    >>> guard(GuardContext.for_test(actor="lee", roles={"release": {"ana"}})).ok
    False
    >>> guard(GuardContext.for_test(actor="ana")).ok  # no role book: fails closed
    False
    """
    if not roles:
        raise InputError("require_role needs at least one role name")
    return RoleGuard(frozenset(require_label(role, what="role") for role in roles))
