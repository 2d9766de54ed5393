"""decide, decide_rollback, status and change value objects, and listeners."""

from __future__ import annotations

import pickle
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from modelyard.errors import (
    ConcurrentModificationError,
    InputError,
    InvalidNameError,
    NotFoundError,
    TransitionRejected,
)
from modelyard.lifecycle import (
    Approval,
    CommittedTransition,
    Decision,
    GuardContext,
    GuardResult,
    Lifecycle,
    ModelStatus,
    StateChange,
    Transition,
    TransitionRequest,
    VersionStatus,
    as_guard,
    decide,
    decide_rollback,
    drift_clean,
    holder_stack,
    metric_at_least,
    notify,
    require_tags,
)

AT = datetime(2025, 3, 1, tzinfo=timezone.utc)
DEFAULT = Lifecycle.default()


def status(*states: str, approvals: tuple[Approval, ...] = (), **versions: Any) -> ModelStatus:
    """Versions 1..n in the given states."""
    return ModelStatus.of(
        "churn", [VersionStatus(i, s) for i, s in enumerate(states, start=1)], approvals
    )


def request(version: int, target: str, **kwargs: Any) -> TransitionRequest:
    return TransitionRequest(version, target, kwargs.pop("actor", "ana"), AT, **kwargs)


def moves(decision: Decision) -> list[tuple[int, str, str, str]]:
    return [(c.version, c.source, c.target, c.cause) for c in decision.changes]


ACCEPTED = [
    # (id, states of versions 1.., request (version, target), expected changes)
    (
        "promote to staging",
        ("development",),
        (1, "staging"),
        [(1, "development", "staging", "requested")],
    ),
    (
        "first production holder displaces nobody",
        ("staging",),
        (1, "production"),
        [(1, "staging", "production", "requested")],
    ),
    (
        "promotion displaces the holder",
        ("production", "staging"),
        (2, "production"),
        [(2, "staging", "production", "requested"), (1, "production", "archived", "displaced")],
    ),
    (
        "demotion out of production",
        ("production",),
        (1, "staging"),
        [(1, "production", "staging", "requested")],
    ),
    (
        "other versions untouched",
        ("staging", "staging", "development"),
        (2, "production"),
        [(2, "staging", "production", "requested")],
    ),
    (
        "non-exclusive state can hold many",
        ("staging", "development"),
        (2, "staging"),
        [(2, "development", "staging", "requested")],
    ),
    (
        "un-archive",
        ("archived",),
        (1, "development"),
        [(1, "archived", "development", "requested")],
    ),
]


@pytest.mark.parametrize(
    ("states", "req", "expected"),
    [case[1:] for case in ACCEPTED],
    ids=[case[0] for case in ACCEPTED],
)
def test_accepted_requests(
    states: tuple[str, ...], req: tuple[int, str], expected: list[tuple[int, str, str, str]]
) -> None:
    before = status(*states)
    decision = decide(DEFAULT, before, request(*req))
    assert moves(decision) == expected
    assert decision.primary.cause == "requested"
    assert decision.primary.version == req[0]
    assert len(decision.displaced) == len(expected) - 1
    assert before == status(*states)  # decide is pure: the status it was given is unchanged


REJECTED = [
    # (id, states, request, error type, text in message)
    (
        "unknown version",
        ("staging",),
        (7, "production"),
        NotFoundError,
        "model 'churn' has no version 7; available: 1",
    ),
    (
        "unknown target state",
        ("staging",),
        (1, "prod"),
        InvalidNameError,
        "unknown state 'prod'; this lifecycle's states are development, staging, production, "
        "archived",
    ),
    (
        "already in the target",
        ("staging",),
        (1, "staging"),
        TransitionRejected,
        "version 1 of 'churn' is already in 'staging'",
    ),
    (
        "not an allowed transition",
        ("development",),
        (1, "production"),
        TransitionRejected,
        "no transition 'development' -> 'production'",
    ),
    (
        "allowed targets are listed",
        ("archived",),
        (1, "production"),
        TransitionRejected,
        "from 'archived' it allows: development",
    ),
    (
        "version in a state the lifecycle lacks",
        ("legacy",),
        (1, "staging"),
        TransitionRejected,
        "is in 'legacy', which this lifecycle does not define",
    ),
]


@pytest.mark.parametrize(
    ("states", "req", "error", "text"),
    [case[1:] for case in REJECTED],
    ids=[case[0] for case in REJECTED],
)
def test_rejected_requests(
    states: tuple[str, ...], req: tuple[int, str], error: type[Exception], text: str
) -> None:
    with pytest.raises(error) as info:
        decide(DEFAULT, status(*states), request(*req))
    assert text in str(info.value)
    if isinstance(info.value, TransitionRejected):
        assert info.value.results == ()
        assert info.value.target == req[1]


def test_unknown_version_lists_the_versions() -> None:
    with pytest.raises(NotFoundError) as info:
        decide(DEFAULT, status("staging", "staging"), request(9, "production"))
    assert info.value.available == [1, 2]
    assert isinstance(info.value, LookupError)


GUARDED = DEFAULT.with_guards(
    "staging",
    "production",
    metric_at_least("auc", 0.8),
    require_tags("owner"),
    drift_clean(),
    approvals=2,
)


def guarded_status(
    auc: float = 0.9, tags: dict[str, str] | None = None, approvers: tuple[str, ...] = ("a", "b")
) -> ModelStatus:
    version = VersionStatus(1, "staging", {"auc": auc}, {"owner": "ana"} if tags is None else tags)
    approvals = tuple(Approval(1, "production", who, AT - timedelta(hours=1)) for who in approvers)
    return ModelStatus("churn", {1: version}, approvals)


CLEAN = {"drift_report": SimpleNamespace(drifted=[])}


def test_all_guards_pass() -> None:
    decision = decide(GUARDED, guarded_status(), request(1, "production", context=CLEAN))
    assert moves(decision) == [(1, "staging", "production", "requested")]
    assert [r.guard for r in decision.results] == [
        "auc >= 0.8",
        "tags owner",
        "drift clean",
        "2 approvals",
    ]
    assert all(r.ok for r in decision.results)


GUARD_FAILURES = [
    # (id, status kwargs, context, names of the failing guards)
    ("low metric", {"auc": 0.5}, CLEAN, ["auc >= 0.8"]),
    ("missing tag", {"tags": {}}, CLEAN, ["tags owner"]),
    ("no drift report", {}, {}, ["drift clean"]),
    ("drifted", {}, {"drift_report": SimpleNamespace(drifted=["x"])}, ["drift clean"]),
    ("one approval short", {"approvers": ("a",)}, CLEAN, ["2 approvals"]),
    (
        "everything wrong at once",
        {"auc": 0.1, "tags": {}, "approvers": ()},
        {},
        ["auc >= 0.8", "tags owner", "drift clean", "2 approvals"],
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "context", "failing"),
    [case[1:] for case in GUARD_FAILURES],
    ids=[case[0] for case in GUARD_FAILURES],
)
def test_failing_guards_reject_with_every_result(
    kwargs: dict[str, Any], context: dict[str, Any], failing: list[str]
) -> None:
    with pytest.raises(TransitionRejected) as info:
        decide(GUARDED, guarded_status(**kwargs), request(1, "production", context=context))
    error = info.value
    assert (error.version, error.source, error.target) == (1, "staging", "production")
    assert len(error.results) == 4  # every guard ran, not only up to the first failure
    assert [r.guard for r in error.results if not r.ok] == failing
    for result in error.results:
        if not result.ok:
            assert result.reason in str(error)
    assert f"{len(failing)} of 4 guards failed" in str(error)
    restored = pickle.loads(pickle.dumps(error))
    assert restored.results == error.results


def test_a_guard_that_raises_fails_closed_and_others_still_run() -> None:
    def broken(ctx: GuardContext) -> GuardResult:
        raise KeyError("threshold")

    lc = Lifecycle(
        ["a", "b"], "a", [Transition("a", "b", [as_guard(broken), metric_at_least("m", 0)])]
    )
    st = ModelStatus.of("m", [VersionStatus(1, "a", {"m": 1.0})])
    with pytest.raises(TransitionRejected) as info:
        decide(lc, st, request(1, "b"))
    first, second = info.value.results
    assert not first.ok
    assert first.guard == "broken"
    assert "raised KeyError" in first.reason
    assert second.ok


def test_a_guard_returning_a_bool_fails_with_a_clear_reason() -> None:
    lc = Lifecycle(["a", "b"], "a", [Transition("a", "b", [as_guard(lambda ctx: True, name="b")])])  # type: ignore[arg-type,return-value]
    with pytest.raises(TransitionRejected, match="returned bool, not a GuardResult"):
        decide(lc, ModelStatus.of("m", [VersionStatus(1, "a")]), request(1, "b"))


def test_guards_see_the_request_and_status() -> None:
    seen: list[GuardContext] = []

    def spy(ctx: GuardContext) -> GuardResult:
        seen.append(ctx)
        return GuardResult.passed("seen")

    lc = Lifecycle(["a", "b"], "a", [Transition("a", "b", [as_guard(spy)])])
    st = ModelStatus.of("m", [VersionStatus(1, "a")])
    decision = decide(lc, st, request(1, "b", reason="why not"))
    (ctx,) = seen
    assert (ctx.model, ctx.source, ctx.target, ctx.at) == ("m", "a", "b", AT)
    assert ctx.request.reason == "why not"
    assert ctx.status is st
    assert decision.results == (GuardResult(True, "seen", guard="spy"),)


def test_a_status_with_two_holders_is_repaired() -> None:
    decision = decide(
        DEFAULT, status("production", "production", "staging"), request(3, "production")
    )
    assert moves(decision)[1:] == [
        (1, "production", "archived", "displaced"),
        (2, "production", "archived", "displaced"),
    ]


# --- rollback -----------------------------------------------------------------------------------


def promote(version: int, previous: int | None = None) -> list[StateChange]:
    changes = [StateChange(version, "staging", "production")]
    if previous is not None:
        changes.append(StateChange(previous, "production", "archived", "displaced"))
    return changes


HISTORY_123 = [*promote(1), *promote(2, 1), *promote(3, 2)]


def rollback(st: ModelStatus, history: list[StateChange], **kwargs: Any) -> Decision:
    return decide_rollback(DEFAULT, st, "production", history, actor="lee", at=AT, **kwargs)


def test_rollback_restores_the_previous_holder() -> None:
    st = status("archived", "archived", "production")
    decision = rollback(st, HISTORY_123, reason="incident 42")
    assert moves(decision) == [
        (2, "archived", "production", "rollback"),
        (3, "production", "archived", "displaced"),
    ]
    assert decision.results == ()
    assert decision.primary.version == 2


def test_repeated_rollbacks_walk_back_in_time() -> None:
    st = status("archived", "archived", "production")
    history = list(HISTORY_123)
    restored = []
    for _ in range(2):
        decision = rollback(st, history)
        st = st.apply(decision.changes)
        history.extend(decision.changes)
        restored.append(decision.primary.version)
    assert restored == [2, 1]
    assert st.holders("production") == (1,)
    with pytest.raises(TransitionRejected, match="nothing to roll back to: version 1"):
        rollback(st, history)


def test_rollback_after_a_manual_re_promotion() -> None:
    # 1, then 2, then 1 again by hand: the holder before the current one is 2.
    history = [*HISTORY_123[:3], *promote(1, 2)]
    st = status("production", "archived")
    assert moves(rollback(st, history))[0] == (2, "archived", "production", "rollback")


def test_rollback_into_an_empty_state() -> None:
    history = [*promote(1), *promote(2, 1), StateChange(2, "production", "staging")]
    st = status("archived", "staging")
    assert moves(rollback(st, history)) == [(2, "staging", "production", "rollback")]


def test_rollback_to_an_explicit_earlier_holder() -> None:
    st = status("archived", "archived", "production")
    decision = rollback(st, HISTORY_123, version=1)
    assert moves(decision)[0] == (1, "archived", "production", "rollback")
    with pytest.raises(TransitionRejected, match="not a previous holder"):
        rollback(st, HISTORY_123, version=3)


def test_rollback_ignores_guards_and_the_transition_table() -> None:
    never = as_guard(lambda ctx: GuardResult.failed("never"), name="never")
    lc = Lifecycle.default().with_guards("staging", "production", never)
    st = status("archived", "production")
    decision = decide_rollback(
        lc, st, "production", [*promote(1), *promote(2, 1)], actor="x", at=AT
    )
    # archived -> production is not a transition of the default lifecycle, and the guard refuses
    # everything: a rollback is allowed anyway.
    assert moves(decision)[0] == (1, "archived", "production", "rollback")


def test_rollback_skips_versions_that_no_longer_exist() -> None:
    st = ModelStatus.of("churn", [VersionStatus(2, "archived"), VersionStatus(3, "production")])
    assert rollback(st, HISTORY_123).primary.version == 2
    gone = ModelStatus.of("churn", [VersionStatus(3, "production")])
    with pytest.raises(TransitionRejected, match="no earlier holder"):
        rollback(gone, HISTORY_123)


ROLLBACK_ERRORS = [
    ("not exclusive", "staging", {}, InputError, "'staging' is not exclusive"),
    ("not a state", "prod", {}, InvalidNameError, "unknown state 'prod'"),
    ("naive time", "production", {"at": datetime(2025, 1, 1)}, InputError, "timezone-aware"),
    ("blank actor", "production", {"actor": " "}, InputError, "actor must be a non-empty"),
]


@pytest.mark.parametrize(
    ("state", "override", "error", "text"),
    [case[1:] for case in ROLLBACK_ERRORS],
    ids=[case[0] for case in ROLLBACK_ERRORS],
)
def test_rollback_refuses_bad_input(
    state: str, override: dict[str, Any], error: type[Exception], text: str
) -> None:
    kwargs: dict[str, Any] = {"actor": "lee", "at": AT, **override}
    with pytest.raises(error, match=text):
        decide_rollback(DEFAULT, status("archived", "production"), state, HISTORY_123, **kwargs)


def test_rollback_with_no_history_is_refused() -> None:
    with pytest.raises(TransitionRejected) as info:
        rollback(status("production"), [])
    assert info.value.target == "production"
    assert "nothing to roll back to" in str(info.value)


def test_holder_stack() -> None:
    assert holder_stack("production", []) == ()
    assert holder_stack("production", HISTORY_123) == (1, 2, 3)
    assert holder_stack("staging", HISTORY_123) == ()
    rolled = [*HISTORY_123, StateChange(1, "archived", "production", "rollback")]
    assert holder_stack("production", rolled) == (1,)
    with pytest.raises(InputError):
        holder_stack("production", [("1", "a", "b")])  # type: ignore[list-item]


# --- value objects --------------------------------------------------------------------------------


def test_apply_changes_returns_a_new_status() -> None:
    before = status("production", "staging")
    decision = decide(DEFAULT, before, request(2, "production"))
    after = before.apply(decision.changes)
    assert after.holders("production") == (2,)
    assert after.versions[1].state == "archived"
    assert before.holders("production") == (1,)


def test_apply_refuses_a_stale_decision() -> None:
    before = status("staging")
    decision = decide(DEFAULT, before, request(1, "production"))
    moved = before.apply(decision.changes)
    with pytest.raises(ConcurrentModificationError, match="decide again"):
        moved.apply(decision.changes)
    with pytest.raises(NotFoundError):
        before.apply([StateChange(5, "staging", "production")])


VALUE_ERRORS = [
    ("naive request time", lambda: TransitionRequest(1, "b", "ana", datetime(2025, 1, 1))),
    ("blank actor", lambda: TransitionRequest(1, "b", "", AT)),
    ("version zero", lambda: TransitionRequest(0, "b", "ana", AT)),
    ("version bool", lambda: VersionStatus(True, "a")),  # type: ignore[arg-type]
    ("bad state name", lambda: VersionStatus(1, "a b")),
    ("metric not a number", lambda: VersionStatus(1, "a", {"auc": "high"})),  # type: ignore[dict-item]
    ("tag not a string", lambda: VersionStatus(1, "a", tags={"n": 1})),  # type: ignore[dict-item]
    ("naive approval", lambda: Approval(1, "b", "ana", datetime(2025, 1, 1))),
    ("blank role", lambda: Approval(1, "b", "ana", AT, role="")),
    ("version key mismatch", lambda: ModelStatus("m", {2: VersionStatus(1, "a")})),
    ("bad model name", lambda: ModelStatus("m/x", {})),
    ("approval not an Approval", lambda: ModelStatus("m", {}, approvals=["ana"])),  # type: ignore[list-item]
    ("change that does not change", lambda: StateChange(1, "a", "a")),
    ("unknown cause", lambda: StateChange(1, "a", "b", "forced")),  # type: ignore[arg-type]
    ("empty decision", lambda: Decision(())),
    ("context not a mapping", lambda: TransitionRequest(1, "b", "ana", AT, context=[1])),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(
    "build", [case[1] for case in VALUE_ERRORS], ids=[case[0] for case in VALUE_ERRORS]
)
def test_value_objects_refuse_bad_input(build: Any) -> None:
    with pytest.raises(InputError):
        build()


def test_value_objects_are_frozen_hashable_and_round_trip() -> None:
    version = VersionStatus(1, "staging", {"auc": 1}, {"team": "risk"})
    assert version.metrics == {"auc": 1.0}
    assert isinstance(version.metrics["auc"], float)
    with pytest.raises(TypeError):
        version.tags["team"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        version.state = "production"  # type: ignore[misc]
    st = ModelStatus("m", {1: version}, [Approval(1, "production", "a", AT)])
    assert isinstance(st.approvals, tuple)
    assert hash(st) == hash(ModelStatus("m", {1: version}, (Approval(1, "production", "a", AT),)))
    assert pickle.loads(pickle.dumps(st)) == st

    approval = Approval(1, "production", "lee", AT + timedelta(hours=2), role="qa", comment="ok")
    assert Approval.from_dict(approval.to_dict()) == approval
    change = StateChange(1, "production", "archived", "displaced")
    assert StateChange.from_dict(change.to_dict()) == change
    event = CommittedTransition("m", (change,), "lee", "why", AT, (GuardResult(True, "ok"),))
    assert CommittedTransition.from_dict(event.to_dict()) == event


def test_request_context_is_read_only_but_keeps_objects() -> None:
    report = SimpleNamespace(drifted=[])
    context = {"drift_report": report}
    req = request(1, "b", context=context)
    context["other"] = 1
    assert dict(req.context) == {"drift_report": report}
    assert req.context["drift_report"] is report
    with pytest.raises(TypeError):
        req.context["x"] = 1  # type: ignore[index]


def test_notify_calls_every_listener_and_collects_failures() -> None:
    calls: list[str] = []

    def first(event: CommittedTransition) -> None:
        calls.append("first")
        raise RuntimeError("down")

    def second(event: CommittedTransition) -> None:
        calls.append(f"second:{event.changes[0].target}")

    event = CommittedTransition("m", (StateChange(1, "a", "b"),), "ana", "", AT)
    errors = notify([first, second], event)
    assert calls == ["first", "second:b"]
    assert [str(e) for e in errors] == ["down"]
    assert notify([], event) == ()
