"""The monitoring guard on results built by hand: which windows it judges, what refuses, what it
says, its stored form and its refusal of bad parameters.

The same guard on real ``drift.monitor()`` and ``drift.estimate_performance()`` results attached
to versions in a yard is tested in ``tests/registry/test_monitoring_guard.py``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace as NS
from typing import Any

import pytest

from modelyard.errors import InputError, LifecycleDefinitionError
from modelyard.lifecycle import (
    Guard,
    GuardContext,
    GuardResult,
    Lifecycle,
    guard,
    guard_from_spec,
    monitoring_clean,
)
from modelyard.lifecycle._monitoring_read import parse_utc

AT = datetime(2026, 6, 10, 12, tzinfo=timezone.utc)


def metric(name: str, value: float | None, verdict: str = "stable", **band: float) -> NS:
    return NS(
        metric=name,
        value=value,
        lower=band.get("lower"),
        upper=band.get("upper"),
        verdict=verdict,
    )


def window(
    index: int,
    drifted: tuple[str, ...] = (),
    *,
    verdict: str | None = None,
    quality: list[tuple[str, str]] | None = None,
    metrics: list[NS] | None = None,
    end: str | int | None = None,
) -> NS:
    return NS(
        window=index,
        end=end if end is not None else f"2026-06-{index + 2:02d}T00:00:00.000000000",
        verdict=verdict or ("drift" if drifted else "stable"),
        drifted=list(drifted),
        quality=None
        if quality is None
        else NS(errors=[NS(column=c, reason=r) for c, r in quality]),
        performance=None if metrics is None else NS(metrics=metrics),
    )


def monitoring(*windows: NS, kind: str = "time") -> NS:
    return NS(kind=kind, windows=list(windows))


def estimated(*metrics_by_window: list[NS], kind: str = "time") -> NS:
    return NS(
        kind=kind,
        windows=[
            NS(window=i, end=f"2026-06-{i + 2:02d}T00:00:00", metrics=ms)
            for i, ms in enumerate(metrics_by_window)
        ],
    )


def judge(g: Guard, result: object = None, estimate: object = None, **ctx: Any) -> GuardResult:
    context = {}
    if result is not None:
        context["monitoring"] = result
    if estimate is not None:
        context["estimated_performance"] = estimate
    return g(GuardContext.for_test(request_context=context, at=ctx.pop("at", AT), **ctx))


def test_drift_in_the_last_window_refuses_and_names_window_and_columns() -> None:
    result = monitoring(window(0), window(1, ("age", "income")))
    verdict = judge(monitoring_clean(), result)
    assert not verdict.ok
    assert verdict.reason == (
        "inputs drift in 1 window of 1 judged (at most 0 allowed): window 1 (age, income)"
    )
    assert verdict.details["drifted"] == ({"window": 1, "columns": ("age", "income")},)
    assert verdict.details["windows"] == (1,)
    assert verdict.guard == "monitoring clean"


def test_only_the_chosen_windows_are_judged() -> None:
    result = monitoring(window(0, ("age",)), window(1), window(2))
    assert judge(monitoring_clean(), result).ok
    assert judge(monitoring_clean(windows=2), result).ok
    last3 = judge(monitoring_clean(windows=3), result)
    assert not last3.ok and "window 0 (age)" in last3.reason
    assert not judge(monitoring_clean(windows="all"), result).ok
    assert judge(monitoring_clean(windows=3), result).details["windows"] == (0, 1, 2)


def test_max_drifted_windows_tolerates_that_many() -> None:
    result = monitoring(window(0, ("age",)), window(1), window(2, ("tenure",)))
    two = judge(monitoring_clean(windows="all", max_drifted_windows=2), result)
    assert two.ok
    assert two.reason == "monitoring of windows 0-2 is clean (2 drifted windows allowed)"
    one = judge(monitoring_clean(windows="all", max_drifted_windows=1), result)
    assert not one.ok
    assert one.reason.startswith("inputs drift in 2 windows of 3 judged (at most 1 allowed)")


def test_windows_without_a_verdict_refuse() -> None:
    result = monitoring(window(0), window(1, verdict="insufficient data"))
    refused = judge(monitoring_clean(), result)
    assert not refused.ok
    assert refused.reason.startswith("no verdict in window 1")
    assert judge(monitoring_clean(windows=2), result).ok


def test_quality_errors_refuse_unless_switched_off() -> None:
    result = monitoring(window(0, quality=[("income", "40% missing, reference 1%")]))
    refused = judge(monitoring_clean(), result)
    assert not refused.ok
    assert refused.reason == "data-quality errors: income in window 0"
    assert refused.details["quality"] == (
        {"window": 0, "column": "income", "reason": "40% missing, reference 1%"},
    )
    assert judge(monitoring_clean(quality=False), result).ok


def test_degraded_performance_refuses_from_either_source() -> None:
    realized = monitoring(window(0, metrics=[metric("roc_auc", 0.7, "degraded")]))
    refused = judge(monitoring_clean(), realized)
    assert (
        refused.reason == "performance degraded against the reference: realized roc_auc in window 0"
    )
    assert judge(monitoring_clean(degraded=False), realized).ok
    estimate = estimated([metric("f1", 0.6, "degraded")])
    refused = judge(monitoring_clean(), monitoring(window(0)), estimate)
    assert refused.details["degraded"] == ({"source": "estimated", "window": 0, "metric": "f1"},)


def test_a_floor_refuses_values_below_it_with_values_windows_and_bands() -> None:
    result = monitoring(window(0), window(1, metrics=[metric("roc_auc", 0.74)]))
    estimate = estimated([], [metric("roc_auc", 0.71, lower=0.68, upper=0.74)])
    g = monitoring_clean(floors={"roc_auc": 0.75})
    assert g.name == "monitoring clean (roc_auc >= 0.75)"
    refused = judge(g, result, estimate)
    assert refused.reason == (
        "roc_auc below its floor 0.75: realized 0.74 in window 1, "
        "estimated 0.71 in window 1 [0.68, 0.74]"
    )
    assert refused.details["below_floor"] == (
        {"metric": "roc_auc", "floor": 0.75, "source": "realized", "window": 1}
        | {"value": 0.74, "lower": None, "upper": None},
        {"metric": "roc_auc", "floor": 0.75, "source": "estimated", "window": 1}
        | {"value": 0.71, "lower": 0.68, "upper": 0.74},
    )
    passed = judge(monitoring_clean(floors={"roc_auc": 0.7}), result, estimate)
    assert passed.ok and passed.reason == "monitoring of window 1 is clean; roc_auc >= 0.7"


def test_a_floor_without_any_value_refuses() -> None:
    no_labels = monitoring(window(0, metrics=[metric("roc_auc", None, "no labels")]))
    refused = judge(monitoring_clean(floors={"roc_auc": 0.75, "f1": 0.5}), no_labels)
    assert not refused.ok
    assert refused.details["missing_metrics"] == ("f1", "roc_auc")
    assert "no realized or estimated value of f1, roc_auc in the judged windows" in refused.reason
    assert "as evidence of kind 'estimated-performance'" in refused.reason
    estimate = estimated([metric("roc_auc", 0.8), metric("f1", 0.6)])
    assert judge(monitoring_clean(floors={"roc_auc": 0.75, "f1": 0.5}), no_labels, estimate).ok


def test_nan_values_count_as_missing() -> None:
    estimate = estimated([metric("roc_auc", float("nan"), "undefined")])
    refused = judge(monitoring_clean(floors={"roc_auc": 0.75}), monitoring(window(0)), estimate)
    assert refused.details["missing_metrics"] == ("roc_auc",)


def test_no_result_refuses_and_says_how_to_give_one() -> None:
    refused = judge(monitoring_clean())
    assert not refused.ok
    assert refused.reason == (
        "no monitoring result in the request context under 'monitoring'; pass "
        "context={'monitoring': drift.monitor(...)} with the transition, or attach one to the "
        "version as evidence of kind 'monitoring'"
    )
    assert "attach" not in judge(monitoring_clean(evidence=None)).reason


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        (NS(drifted=["age"]), "the result has no 'kind'"),
        (NS(kind="rows", windows="abc"), "the result's 'windows' is not a sequence"),
        (NS(kind="hourly", windows=[]), "the result's 'kind' is 'hourly'"),
        (estimated([metric("f1", 0.9)]), "window 0 has no 'drifted'"),
        (NS(kind="rows", windows=[NS(window=0, drifted=True)]), "'drifted' is not a sequence"),
        (monitoring(window(0, metrics=[metric("f1", "high")])), "'value' is not a number"),
    ],
    ids=["drift report", "windows a string", "unknown kind", "estimate", "multivariate", "text"],
)
def test_an_object_that_is_not_a_monitoring_result_refuses(given: object, problem: str) -> None:
    refused = judge(monitoring_clean(), given)
    assert not refused.ok
    assert "is not a monitoring result" in refused.reason
    assert problem in refused.reason


def test_a_wrong_estimate_refuses() -> None:
    refused = judge(monitoring_clean(), monitoring(window(0)), monitoring(window(0)))
    assert not refused.ok
    assert "under 'estimated_performance' (SimpleNamespace) is not an estimated" in refused.reason
    assert judge(monitoring_clean(estimated_key=None), monitoring(window(0)), "junk").ok


def test_a_result_without_windows_refuses() -> None:
    refused = judge(monitoring_clean(), monitoring())
    assert not refused.ok and "has no windows" in refused.reason


def test_max_age_refuses_old_results_and_results_without_time() -> None:
    result = monitoring(window(0), window(1))  # the last window ends 2026-06-03T00:00
    g = monitoring_clean(max_age=timedelta(days=7))
    assert judge(g, result, at=datetime(2026, 6, 9, tzinfo=timezone.utc)).ok
    old = judge(g, result, at=datetime(2026, 6, 11, tzinfo=timezone.utc))
    assert not old.ok
    assert old.reason.startswith(
        "the monitoring result is too old: its last window ended 2026-06-03T00:00:00+00:00, "
        "8 days, 0:00:00 before this request (at most 7 days, 0:00:00 allowed)"
    )
    assert old.details["age_seconds"] == {"monitoring result": 8 * 86400.0}
    rows = monitoring(window(0, end=500), kind="rows")
    assert "has no time windows" in judge(g, rows).reason
    assert judge(monitoring_clean(), rows).ok
    stale = estimated([metric("f1", 0.9)])
    fresh = monitoring(window(6))
    refused = judge(g, fresh, stale, at=datetime(2026, 6, 11, tzinfo=timezone.utc))
    assert refused.reason.startswith("the estimated performance is too old")


def test_a_window_that_ends_after_the_request_has_age_zero() -> None:
    g = monitoring_clean(max_age=timedelta(hours=1))
    verdict = judge(g, monitoring(window(0)), at=datetime(2026, 6, 1, 12, tzinfo=timezone.utc))
    assert verdict.ok and verdict.details["age_seconds"] == {"monitoring result": 0.0}


def test_all_problems_are_named_at_once() -> None:
    result = monitoring(
        window(0, ("age",), quality=[("age", "out of range")], metrics=[metric("f1", 0.2)])
    )
    refused = judge(monitoring_clean(floors={"f1": 0.5}), result)
    assert refused.reason.split("; ") == [
        "inputs drift in 1 window of 1 judged (at most 0 allowed): window 0 (age)",
        "data-quality errors: age in window 0",
        "f1 below its floor 0.5: realized 0.2 in window 0",
    ]


def test_details_survive_json_as_the_history_stores_them() -> None:
    result = monitoring(window(0, ("age",), metrics=[metric("f1", 0.2, "degraded")]))
    refused = judge(monitoring_clean(floors={"f1": 0.5}), result)
    assert GuardResult.from_dict(json.loads(json.dumps(refused.to_dict()))) == refused


def test_the_stored_form_rebuilds_the_same_guard() -> None:
    g = monitoring_clean(
        windows=3,
        max_drifted_windows=1,
        floors={"roc_auc": 0.75, "accuracy": 0.8},
        quality=False,
        degraded=False,
        max_age=timedelta(days=2, seconds=30),
        key="mon",
        evidence=None,
        estimated_key="est",
        estimated_evidence="cbpe",
    )
    stored = json.loads(json.dumps(g.spec.to_dict()))
    assert stored == {
        "name": "monitoring_clean",
        "params": {
            "windows": 3,
            "max_drifted_windows": 1,
            "floors": {"accuracy": 0.8, "roc_auc": 0.75},
            "quality": False,
            "degraded": False,
            "max_age_seconds": 172830.0,
            "key": "mon",
            "evidence": None,
            "estimated_key": "est",
            "estimated_evidence": "cbpe",
        },
    }
    rebuilt = guard_from_spec(stored)
    assert rebuilt == g and hash(rebuilt) == hash(g)
    assert dict(rebuilt.context_evidence) == {"est": "cbpe"}  # type: ignore[attr-defined]
    assert guard("monitoring_clean") == monitoring_clean()
    assert dict(monitoring_clean().context_evidence) == {  # type: ignore[attr-defined]
        "monitoring": "monitoring",
        "estimated_performance": "estimated-performance",
    }
    lc = Lifecycle.default().with_guards("staging", "production", g, monitoring_clean())
    assert Lifecycle.from_dict(json.loads(json.dumps(lc.to_dict()))) == lc


def test_damaged_stored_parameters_are_refused() -> None:
    with pytest.raises(LifecycleDefinitionError, match="windows must be 'last', 'all'"):
        guard_from_spec({"name": "monitoring_clean", "params": {"windows": 0}})
    with pytest.raises(LifecycleDefinitionError, match="max_age_seconds must be a number"):
        guard_from_spec({"name": "monitoring_clean", "params": {"max_age_seconds": "1d"}})
    with pytest.raises(LifecycleDefinitionError, match="does not take the parameters"):
        guard_from_spec({"name": "monitoring_clean", "params": {"floor": {"f1": 0.5}}})


BAD_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("windows zero", {"windows": 0}, "windows must be"),
    ("windows text", {"windows": "first"}, "windows must be"),
    ("windows bool", {"windows": True}, "windows must be"),
    ("negative drifted", {"max_drifted_windows": -1}, "max_drifted_windows must be"),
    ("drifted float", {"max_drifted_windows": 1.5}, "max_drifted_windows must be"),
    ("floors a list", {"floors": ["roc_auc"]}, "floors must map"),
    ("floor NaN", {"floors": {"roc_auc": float("nan")}}, "finite number"),
    ("floor text", {"floors": {"roc_auc": "0.7"}}, "finite number"),
    ("floor bool", {"floors": {"roc_auc": True}}, "finite number"),
    ("floor name blank", {"floors": {" auc": 0.7}}, "surrounding whitespace"),
    ("quality not bool", {"quality": 1}, "quality must be a bool"),
    ("degraded not bool", {"degraded": "yes"}, "degraded must be a bool"),
    ("max_age seconds", {"max_age": 3600}, "positive timedelta"),
    ("max_age zero", {"max_age": timedelta(0)}, "positive timedelta"),
    ("empty key", {"key": ""}, "context key"),
    ("same keys", {"estimated_key": "monitoring"}, "need their own keys"),
    ("same kinds", {"estimated_evidence": "monitoring"}, "different kinds"),
    ("bad kind", {"evidence": "a\nb"}, "evidence kind"),
]


@pytest.mark.parametrize(
    ("kwargs", "message"), [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS]
)
def test_bad_parameters_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        monitoring_clean(**kwargs)


def test_window_ends_parse_with_nanoseconds_offsets_and_dates() -> None:
    utc = timezone.utc
    assert parse_utc("2026-06-05T01:02:03.123456789") == datetime(2026, 6, 5, 1, 2, 3, 123456, utc)
    assert parse_utc("2026-06-05") == datetime(2026, 6, 5, tzinfo=utc)
    assert parse_utc("2026-06-05T01:02Z") == datetime(2026, 6, 5, 1, 2, tzinfo=utc)
    assert parse_utc("2026-06-05T03:00:00+02:00") == datetime(2026, 6, 5, 1, tzinfo=utc)
    assert parse_utc("2026-13-05") is None
    assert parse_utc(12) is None


def test_multivariate_drift_inside_a_monitoring_result_refuses_and_names_the_method() -> None:
    last = window(1)
    last.multivariate = [
        NS(method="classifier", verdict="drift"),
        NS(method="reconstruction", verdict="stable"),
    ]
    result = monitoring(window(0), last)
    verdict = judge(monitoring_clean(), result)
    assert not verdict.ok
    assert "window 1 (multivariate:classifier)" in verdict.reason
    drifted = [(d["window"], list(d["columns"])) for d in verdict.details["drifted"]]
    assert drifted == [(1, ["multivariate:classifier"])]


def test_estimates_inside_a_monitoring_result_are_judged_as_a_separate_estimate_would_be() -> None:
    last = window(1)
    last.estimated = NS(metrics=[metric("roc_auc", 0.61, "degraded", lower=0.58, upper=0.64)])
    inside = judge(monitoring_clean(floors={"roc_auc": 0.7}), monitoring(window(0), last))
    plain = window(1)
    apart = judge(
        monitoring_clean(floors={"roc_auc": 0.7}),
        monitoring(window(0), plain),
        estimated([], [metric("roc_auc", 0.61, "degraded", lower=0.58, upper=0.64)]),
    )
    assert not inside.ok and not apart.ok
    assert inside.reason == apart.reason
    # A separate estimate given with the transition takes precedence over the embedded one.
    fine = estimated([], [metric("roc_auc", 0.9, "stable", lower=0.88, upper=0.92)])
    assert judge(monitoring_clean(floors={"roc_auc": 0.7}), monitoring(window(0), last), fine).ok
