"""Built-in guards, GuardResult serialisation, and custom guards, table-driven."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from modelyard._internal.canonical import canonical_json
from modelyard.errors import InputError
from modelyard.lifecycle import (
    Approval,
    Guard,
    GuardContext,
    GuardResult,
    as_guard,
    drift_clean,
    metric_at_least,
    metric_at_most,
    require_approvals,
    require_tags,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def approval(
    actor: str,
    *,
    version: int = 1,
    target: str = "production",
    at: datetime = T0,
    role: str | None = None,
) -> Approval:
    return Approval(version, target, actor, at, role=role)


METRIC_CASES = [
    # (id, guard, metrics, ok, reason)
    ("at least, above", metric_at_least("auc", 0.8), {"auc": 0.91}, True, "auc = 0.91 >= 0.8"),
    ("at least, equal passes", metric_at_least("auc", 0.8), {"auc": 0.8}, True, "auc = 0.8 >= 0.8"),
    ("at least, below", metric_at_least("auc", 0.8), {"auc": 0.79}, False, "auc = 0.79 < 0.8"),
    ("at least, int metric", metric_at_least("n", 100), {"n": 250}, True, "n = 250 >= 100"),
    ("at most, below", metric_at_most("loss", 0.3), {"loss": 0.2}, True, "loss = 0.2 <= 0.3"),
    (
        "at most, equal passes",
        metric_at_most("loss", 0.3),
        {"loss": 0.3},
        True,
        "loss = 0.3 <= 0.3",
    ),
    ("at most, above", metric_at_most("loss", 0.3), {"loss": 0.31}, False, "loss = 0.31 > 0.3"),
    (
        "missing metric",
        metric_at_least("auc", 0.8),
        {"f1": 0.9},
        False,
        "metric 'auc' is not recorded for version 1 (recorded: f1); log it before this transition",
    ),
    (
        "no metrics at all",
        metric_at_most("loss", 1),
        {},
        False,
        "metric 'loss' is not recorded for version 1 (recorded: none)",
    ),
    ("NaN fails at least", metric_at_least("auc", 0.8), {"auc": float("nan")}, False, "is NaN"),
    ("NaN fails at most", metric_at_most("auc", 0.8), {"auc": float("nan")}, False, "is NaN"),
    (
        "infinity compares",
        metric_at_most("loss", 1.0),
        {"loss": float("inf")},
        False,
        "loss = inf > 1",
    ),
]


@pytest.mark.parametrize(
    ("guard", "metrics", "ok", "reason"),
    [case[1:] for case in METRIC_CASES],
    ids=[case[0] for case in METRIC_CASES],
)
def test_metric_guards(guard: Guard, metrics: dict[str, float], ok: bool, reason: str) -> None:
    result = guard(GuardContext.for_test(metrics=metrics))
    assert result.ok is ok
    assert reason in result.reason
    assert result.guard == guard.name
    json.loads(canonical_json(result.to_dict()))  # NaN and inf never leak into the history


TAG_CASES = [
    ("key present", require_tags("owner"), {"owner": "ana"}, True, "has the required tags"),
    ("key missing", require_tags("owner"), {}, False, "missing tags 'owner'"),
    ("value equal", require_tags(validated="yes"), {"validated": "yes"}, True, "required tags"),
    (
        "value different",
        require_tags(validated="yes"),
        {"validated": "no"},
        False,
        "tag 'validated' is 'no', expected 'yes'",
    ),
    ("value key missing", require_tags(validated="yes"), {}, False, "missing tags 'validated'"),
    (
        "several problems listed together",
        require_tags("owner", "ticket", validated="yes"),
        {"ticket": "T-1", "validated": "no"},
        False,
        "missing tags 'owner'; tag 'validated' is 'no', expected 'yes'",
    ),
    ("extra tags are fine", require_tags("a"), {"a": "1", "b": "2"}, True, "required tags"),
    ("empty value is present", require_tags("a"), {"a": ""}, True, "required tags"),
]


@pytest.mark.parametrize(
    ("guard", "tags", "ok", "reason"),
    [case[1:] for case in TAG_CASES],
    ids=[case[0] for case in TAG_CASES],
)
def test_tag_guard(guard: Guard, tags: dict[str, str], ok: bool, reason: str) -> None:
    result = guard(GuardContext.for_test(tags=tags))
    assert result.ok is ok
    assert reason in result.reason


def test_tag_guard_details_and_name() -> None:
    guard = require_tags("owner", stage="prod")
    assert guard.name == "tags owner, stage=prod"
    result = guard(GuardContext.for_test(tags={"stage": "dev"}))
    assert result.to_dict()["details"] == {
        "missing": ["owner"],
        "mismatched": {"stage": {"expected": "prod", "actual": "dev"}},
    }


APPROVAL_CASES: list[tuple[str, Guard, list[Approval], dict[str, Any], bool, str]] = [
    (
        "enough distinct actors",
        require_approvals(2),
        [approval("ana"), approval("lee")],
        {},
        True,
        "2 of 2 required approvals for version 1 -> production (by ana, lee)",
    ),
    (
        "more than enough",
        require_approvals(1),
        [approval("ana"), approval("lee")],
        {},
        True,
        "2 of 1",
    ),
    (
        "same actor twice counts once",
        require_approvals(2),
        [approval("ana"), approval("ana")],
        {},
        False,
        "1 of 2 required approvals for version 1 -> production (by ana); needs 1 more",
    ),
    (
        "none at all",
        require_approvals(1),
        [],
        {},
        False,
        "0 of 1 required approvals for version 1 -> production; needs 1 more distinct approver",
    ),
    (
        "another version never counts",
        require_approvals(1),
        [approval("ana", version=2)],
        {},
        False,
        "0 of 1",
    ),
    (
        "another target never counts",
        require_approvals(1),
        [approval("ana", target="staging")],
        {},
        False,
        "0 of 1",
    ),
    (
        "role ignored without roles",
        require_approvals(1),
        [approval("ana", role="intern")],
        {},
        True,
        "1 of 1",
    ),
    (
        "role required and present",
        require_approvals(1, roles=["qa", "risk"]),
        [approval("ana", role="risk")],
        {},
        True,
        "1 of 1",
    ),
    (
        "wrong role",
        require_approvals(1, roles=["qa"]),
        [approval("ana", role="dev")],
        {},
        False,
        "not counted: not in role qa: ana",
    ),
    (
        "no role when roles required",
        require_approvals(1, roles=["qa"]),
        [approval("ana")],
        {},
        False,
        "not in role qa: ana",
    ),
    (
        "exactly max_age old is valid",
        require_approvals(1, max_age=DAY),
        [approval("ana", at=T0 - DAY)],
        {},
        True,
        "1 of 1",
    ),
    (
        "older than max_age expired",
        require_approvals(1, max_age=DAY),
        [approval("ana", at=T0 - DAY - timedelta(seconds=1))],
        {},
        False,
        "expired (older than 1 day): ana",
    ),
    (
        "expired one plus fresh one",
        require_approvals(2, max_age=2 * DAY),
        [approval("ana", at=T0 - 3 * DAY), approval("lee", at=T0 - DAY)],
        {},
        False,
        "1 of 2 required approvals for version 1 -> production (by lee)",
    ),
    (
        "approval after the request",
        require_approvals(1),
        [approval("ana", at=T0 + timedelta(seconds=1))],
        {},
        False,
        "given after the request: ana",
    ),
    ("requester counts by default", require_approvals(1), [approval("tester")], {}, True, "1 of 1"),
    (
        "requester excluded on request",
        require_approvals(1, exclude_requester=True),
        [approval("tester")],
        {},
        False,
        "the requester's own approval does not count: tester",
    ),
    (
        "version and target bound together",
        require_approvals(2),
        [approval("ana"), approval("lee", version=2), approval("kim", target="staging")],
        {},
        False,
        "1 of 2",
    ),
]


@pytest.mark.parametrize(
    ("guard", "approvals", "extra", "ok", "reason"),
    [case[1:] for case in APPROVAL_CASES],
    ids=[case[0] for case in APPROVAL_CASES],
)
def test_approval_guard(
    guard: Guard, approvals: list[Approval], extra: dict[str, Any], ok: bool, reason: str
) -> None:
    ctx = GuardContext.for_test(approvals=approvals, at=T0, **extra)
    result = guard(ctx)
    assert result.ok is ok
    assert reason in result.reason
    # Independent count: distinct actors among approvals for this version and target.
    details = result.to_dict()["details"]
    assert (len(details["approved_by"]) >= details["required"]) is ok


def test_approval_guard_names() -> None:
    assert require_approvals(1).name == "1 approval"
    assert require_approvals(3, roles={"risk", "qa"}).name == "3 approvals by qa/risk"
    assert require_approvals(2, max_age=timedelta(hours=12)).name == "2 approvals within 12 hours"
    assert require_approvals(2, max_age=timedelta(seconds=90)).name == "2 approvals within 90s"


DRIFT_CASES = [
    (
        "clean report",
        {"drift_report": SimpleNamespace(drifted=[])},
        "drift_report",
        True,
        "the drift report is clean",
    ),
    ("clean tuple", {"drift_report": SimpleNamespace(drifted=())}, "drift_report", True, "clean"),
    (
        "one drifted column",
        {"drift_report": SimpleNamespace(drifted=["age"])},
        "drift_report",
        False,
        "drift detected in 1 column: age",
    ),
    (
        "several drifted",
        {"drift_report": SimpleNamespace(drifted=["age", "income"])},
        "drift_report",
        False,
        "drift detected in 2 columns: age, income",
    ),
    (
        "missing report",
        {},
        "drift_report",
        False,
        "no drift report in the request context under 'drift_report'",
    ),
    (
        "report under another key",
        {"drift_report": SimpleNamespace(drifted=[])},
        "live_drift",
        False,
        "under 'live_drift'",
    ),
    (
        "custom key present",
        {"live_drift": SimpleNamespace(drifted=[])},
        "live_drift",
        True,
        "clean",
    ),
    (
        "object without drifted",
        {"drift_report": object()},
        "drift_report",
        False,
        "has no 'drifted' sequence of column names",
    ),
    (
        "drifted is a string",
        {"drift_report": SimpleNamespace(drifted="age")},
        "drift_report",
        False,
        "has no 'drifted' sequence",
    ),
]


@pytest.mark.parametrize(
    ("context", "key", "ok", "reason"),
    [case[1:] for case in DRIFT_CASES],
    ids=[case[0] for case in DRIFT_CASES],
)
def test_drift_guard(context: dict[str, Any], key: str, ok: bool, reason: str) -> None:
    result = drift_clean(key)(GuardContext.for_test(request_context=context))
    assert result.ok is ok
    assert reason in result.reason


def test_drift_guard_accepts_a_property() -> None:
    class Report:
        @property
        def drifted(self) -> list[str]:
            return ["x"]

    result = drift_clean()(GuardContext.for_test(request_context={"drift_report": Report()}))
    assert not result.ok
    assert result.details["drifted"] == ("x",)


BAD_FACTORY_CALLS = [
    ("metric name empty", lambda: metric_at_least("", 0.5)),
    ("threshold NaN", lambda: metric_at_least("auc", float("nan"))),
    ("threshold not a number", lambda: metric_at_most("auc", "0.5")),
    ("threshold bool", lambda: metric_at_most("auc", True)),
    ("no tags", lambda: require_tags()),
    ("tag value not a string", lambda: require_tags(a=1)),
    ("zero approvals", lambda: require_approvals(0)),
    ("roles as a string", lambda: require_approvals(1, roles="qa")),
    ("empty roles", lambda: require_approvals(1, roles=[])),
    ("negative max_age", lambda: require_approvals(1, max_age=-DAY)),
    ("max_age not a timedelta", lambda: require_approvals(1, max_age=3600)),
    ("empty drift key", lambda: drift_clean("")),
]


@pytest.mark.parametrize(
    "call", [case[1] for case in BAD_FACTORY_CALLS], ids=[case[0] for case in BAD_FACTORY_CALLS]
)
def test_guard_factories_refuse_bad_arguments(call: Any) -> None:
    with pytest.raises(InputError):
        call()


def test_built_in_guards_are_guards_and_hashable() -> None:
    guards = [
        metric_at_least("auc", 0.8),
        metric_at_most("loss", 0.2),
        require_tags("a", b="c"),
        require_approvals(2, roles=["qa"], max_age=DAY),
        drift_clean(),
    ]
    for guard in guards:
        assert isinstance(guard, Guard)
        assert hash(guard) == hash(guard)
    assert metric_at_least("auc", 0.8) == metric_at_least("auc", 0.8)


def test_guard_result_round_trips_through_json() -> None:
    result = GuardResult(
        False,
        "why",
        {"nested": {"list": [1, 2.5, "x", None, True]}, "empty": []},
        guard="g",
    )
    data = json.loads(canonical_json(result.to_dict()))
    assert data == {
        "ok": False,
        "reason": "why",
        "details": {"nested": {"list": [1, 2.5, "x", None, True]}, "empty": []},
        "guard": "g",
    }
    assert GuardResult.from_dict(data) == result
    assert hash(GuardResult.from_dict(data)) == hash(result)


def test_guard_result_is_immutable() -> None:
    source = {"items": ["a"]}
    result = GuardResult(True, "ok", source)
    source["items"].append("b")
    assert result.details["items"] == ("a",)
    with pytest.raises(TypeError):
        result.details["new"] = 1  # type: ignore[index]


@pytest.mark.parametrize(
    "details",
    [{"x": float("nan")}, {"x": float("inf")}, {"x": object()}, {1: "a"}, {"x": {2: "b"}}],
    ids=["nan", "inf", "object", "int key", "nested int key"],
)
def test_guard_result_refuses_details_json_cannot_hold(details: dict[Any, Any]) -> None:
    with pytest.raises(InputError):
        GuardResult(True, "ok", details)


def test_guard_result_checks_its_fields() -> None:
    with pytest.raises(InputError, match="ok must be a bool"):
        GuardResult(1, "x")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="needs the key 'reason'"):
        GuardResult.from_dict({"ok": True})
    assert GuardResult.passed("fine") == GuardResult(True, "fine")
    assert GuardResult.failed("no", {"a": 1}).details == {"a": 1}


def test_as_guard_names_a_function() -> None:
    def has_owner(ctx: GuardContext) -> GuardResult:
        return GuardResult(ctx.status.model_tags.get("owner") is not None, "owner set?")

    guard = as_guard(has_owner)
    assert guard.name == "has_owner"
    assert as_guard(has_owner, name="owner").name == "owner"
    assert isinstance(guard, Guard)
    assert guard(GuardContext.for_test()).ok is False
    with pytest.raises(InputError):
        as_guard(42)  # type: ignore[arg-type]
    with pytest.raises(InputError):
        as_guard(has_owner, name="")


def test_context_approvals_are_bound_to_version_and_target() -> None:
    approvals = [approval("a"), approval("b", version=2), approval("c", target="staging")]
    ctx = GuardContext.for_test(approvals=approvals)
    assert [a.actor for a in ctx.approvals] == ["a"]


@pytest.mark.parametrize(
    "make",
    [
        lambda: metric_at_least("auc\n", 0.8),
        lambda: metric_at_most(" latency", 50),
        lambda: require_tags("owner\n"),
        lambda: require_tags(validated="yes\n"),
        lambda: require_approvals(1, roles={"qa\n"}),
        lambda: require_approvals(1, roles={"qa", "risk\t"}),
    ],
)
def test_guard_definitions_refuse_names_no_record_could_match(make: Any) -> None:
    # The registry refuses metric names, tags and roles with controls or surrounding spaces, so
    # a guard naming one could never pass; it is refused when the lifecycle is written instead.
    with pytest.raises(InputError):
        make()
