"""The pure transition function: from a model's status and a request, the changes to commit."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

from modelyard.errors import TransitionRejected
from modelyard.lifecycle._changes import Decision, StateChange
from modelyard.lifecycle._definition import Lifecycle, Transition
from modelyard.lifecycle._guard import GuardContext, GuardResult, freeze_roles, guard_name
from modelyard.lifecycle._status import ModelStatus, TransitionRequest, VersionStatus

__all__ = ["decide", "evaluate_guards", "validate_request"]


def validate_request(
    lifecycle: Lifecycle, status: ModelStatus, request: TransitionRequest
) -> tuple[VersionStatus, Transition]:
    """Check everything about a request except its guards; return the version and transition.

    Raises :class:`~modelyard.errors.NotFoundError` for an unknown version (listing the versions),
    :class:`~modelyard.errors.InvalidNameError` for a target state the lifecycle does not define
    (listing the states), and :class:`~modelyard.errors.TransitionRejected` (with no guard results)
    when the version is already in the target state, is in a state this lifecycle does not define,
    or when the lifecycle has no transition from its state to the target.

    >>> from datetime import datetime, timezone
    >>> from modelyard.lifecycle import Lifecycle, ModelStatus, TransitionRequest, VersionStatus
    >>> status = ModelStatus.of("churn", [VersionStatus(1, "development")])
    >>> at = datetime(2025, 1, 1, tzinfo=timezone.utc)
    >>> validate_request(Lifecycle.default(), status, TransitionRequest(1, "production", "ana", at))
    Traceback (most recent call last):
    ...
    modelyard.errors.TransitionRejected: the lifecycle has no transition 'development' ->
    'production' for version 1 of 'churn'; from 'development' it allows: staging, archived
    """
    version = status.version(request.version)
    lifecycle.require_state(request.target)
    source = version.state
    context = {"version": version.version, "source": source, "target": request.target}
    if source not in lifecycle.states:
        raise TransitionRejected(
            f"version {version.version} of {status.name!r} is in {source!r}, which this "
            f"lifecycle does not define (states: {', '.join(lifecycle.states)}); it cannot move",
            results=(),
            **context,
        )
    if source == request.target:
        raise TransitionRejected(
            f"version {version.version} of {status.name!r} is already in {source!r}; nothing to do",
            results=(),
            **context,
        )
    transition = lifecycle.transition(source, request.target)
    if transition is None:
        allowed = lifecycle.allowed_targets(source)
        raise TransitionRejected(
            f"the lifecycle has no transition {source!r} -> {request.target!r} for version "
            f"{version.version} of {status.name!r}; from {source!r} it allows: "
            f"{', '.join(allowed) or 'nothing'}",
            results=(),
            **context,
        )
    return version, transition


def evaluate_guards(ctx: GuardContext) -> tuple[GuardResult, ...]:
    """Run every guard of ``ctx.transition`` (never stopping at the first failure).

    Each result is labelled with its guard's name. A guard that raises, or returns something that
    is not a :class:`GuardResult`, yields a failing result saying so: the transition is refused
    (fail closed) and the other guards' results are still reported.

    >>> from modelyard.lifecycle import GuardContext, Transition, metric_at_least
    >>> ctx = GuardContext.for_test(metrics={"auc": 0.9})
    >>> ctx = GuardContext(ctx.model, ctx.status, ctx.request, ctx.version,
    ...                    Transition("staging", "production", [metric_at_least("auc", 0.8)], 1))
    >>> [(r.guard, r.ok) for r in evaluate_guards(ctx)]
    [('auc >= 0.8', True), ('1 approval', False)]
    """
    results = []
    for guard in ctx.transition.all_guards:
        name = guard_name(guard)
        try:
            result = guard(ctx)
        except Exception as exc:  # fail closed, but keep every other guard's verdict
            result = GuardResult(
                False,
                f"guard {name!r} raised {type(exc).__name__}: {exc}",
                {"error": type(exc).__name__, "message": str(exc)},
            )
        if not isinstance(result, GuardResult):
            result = GuardResult(
                False,
                f"guard {name!r} returned {type(result).__name__}, not a GuardResult",
                {"error": "TypeError"},
            )
        results.append(result if result.guard else replace(result, guard=name))
    return tuple(results)


def decide(
    lifecycle: Lifecycle,
    status: ModelStatus,
    request: TransitionRequest,
    *,
    roles: Mapping[str, Collection[str]] | None = None,
) -> Decision:
    """Decide a transition request; return the changes to commit or raise why not.

    Pure: nothing is read but the arguments, nothing is written. Guards judge time by
    ``request.at``. ``roles`` is the role book in force (role name -> member actor keys, see
    :class:`~modelyard.lifecycle.GuardContext`); without it, guards that need roles fail. The
    request is checked by :func:`validate_request`; then every guard of the
    transition runs, and if any fails, :class:`~modelyard.errors.TransitionRejected` is raised with
    a message listing each failing guard's reason and ``results`` holding every guard's result.

    On success the decision's changes are the requested one (cause ``"requested"``) followed, when
    the target state is exclusive, by the move of its current holder to the displacement state
    (cause ``"displaced"``). Commit them together.

    >>> from datetime import datetime, timezone
    >>> from modelyard.lifecycle import Lifecycle, ModelStatus, TransitionRequest, VersionStatus
    >>> status = ModelStatus.of("churn", [VersionStatus(1, "production"),
    ...                                   VersionStatus(2, "staging")])
    >>> at = datetime(2025, 1, 1, tzinfo=timezone.utc)
    >>> request = TransitionRequest(2, "production", "ana", at)
    >>> decision = decide(Lifecycle.default(), status, request)
    >>> [(c.version, c.source, c.target, c.cause) for c in decision.changes]
    [(2, 'staging', 'production', 'requested'), (1, 'production', 'archived', 'displaced')]
    """
    version, transition = validate_request(lifecycle, status, request)
    ctx = GuardContext(
        status.name,
        status,
        request,
        version,
        transition,
        roles=None if roles is None else freeze_roles(roles),
    )
    results = evaluate_guards(ctx)
    failed = [r for r in results if not r.ok]
    if failed:
        reasons = "; ".join(f"[{r.guard}] {r.reason}" for r in failed)
        raise TransitionRejected(
            f"version {version.version} of {status.name!r} cannot move {version.state!r} -> "
            f"{request.target!r}: {len(failed)} of {len(results)} guards failed: {reasons}",
            version=version.version,
            source=version.state,
            target=request.target,
            results=results,
        )
    changes = [StateChange(version.version, version.state, request.target, "requested")]
    displaced_to = lifecycle.displacement(request.target)
    if displaced_to is not None:
        # Normally at most one holder; displacing every one also repairs a status that broke the
        # invariant some other way, instead of carrying the breakage forward.
        changes.extend(
            StateChange(holder, request.target, displaced_to, "displaced")
            for holder in status.holders(request.target)
            if holder != version.version
        )
    return Decision(tuple(changes), results)
