"""Validation of what callers pass to the registry, before anything is written.

Every command checks all of its arguments here before it reads or writes anything. The rules:

* names (models, aliases, states) follow :func:`~modelyard._internal.names.validate_name`;
* one-line values (tag keys and values, metric and parameter names, roles) are non-empty, hold no
  control, line-separator or bidi-override character and no surrounding whitespace;
* free text (descriptions, reasons, comments) may span lines (newlines and tabs are allowed) but
  holds no other control character; printers escape it (:func:`modelyard._internal.text.one_line`);
* actors follow :func:`~modelyard._internal.actors.check_actor`;
* a version in a reference is ASCII digits without a leading zero: ``"churn/٢"`` is refused;
* an alias is not named like a stage of the model's lifecycle (``name@production`` names the
  stage's holder), and an alias follows only an exclusive stage, which has one holder to follow.
* an evidence kind is a short lowercase name such as ``drift-report`` (:func:`check_evidence_kind`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from modelyard._internal.canonical import canonical_json
from modelyard._internal.names import validate_name
from modelyard._internal.references import parse_reference
from modelyard._internal.text import first_bad_character
from modelyard.errors import InputError, InvalidNameError
from modelyard.lifecycle import Lifecycle

__all__ = [
    "RESERVED_ALIASES",
    "check_alias_name",
    "check_follow",
    "check_evidence_kind",
    "check_label",
    "check_metrics",
    "check_params",
    "check_tag_key",
    "check_tags",
    "check_text",
    "parse_ref",
]

RESERVED_ALIASES = frozenset({"latest"})
MAX_TAG_KEY = 128
MAX_TEXT = 10_000
# Spelled out rather than \d, which also matches other scripts' digits ("٢" is 2 to int()); at most
# 18 digits, so int() never meets a number too long to convert.
_VERSION = re.compile(r"[1-9][0-9]{0,17}")
MAX_EVIDENCE_KIND = 64
# Lowercase words joined by single hyphens or dots: a kind is matched exactly by guards and
# filters, so "Drift Report" and "drift_report" must not pass for "drift-report".
_EVIDENCE_KIND = re.compile(r"[a-z][a-z0-9]*(?:[-.][a-z0-9]+)*")


def check_text(value: object, *, what: str, max_length: int = MAX_TEXT) -> str:
    """Free text: several lines are fine, other control characters are not."""
    if not isinstance(value, str):
        raise InputError(f"{what} must be a string, got {type(value).__name__}")
    if len(value) > max_length:
        raise InputError(f"{what} is {len(value)} characters long; at most {max_length} allowed")
    bad = first_bad_character(value, multiline=True)
    if bad is not None:
        raise InputError(
            f"{what} contains the control character {bad!r} (U+{ord(bad):04X}): "
            f"{value[:40]!r}; remove it (newlines and tabs are allowed)"
        )
    return value


def check_label(value: object, *, what: str, max_length: int = MAX_TAG_KEY) -> str:
    """A one-line value: non-empty, no control characters, no surrounding whitespace.

    >>> check_label("team", what="tag key")
    'team'
    >>> check_label("team\\n", what="tag key")
    Traceback (most recent call last):
    ...
    modelyard.errors.InvalidNameError: invalid tag key 'team\\n': ...
    """
    if not isinstance(value, str) or not value:
        raise _bad_label(value, what, "it must be a non-empty string")
    if len(value) > max_length:
        raise _bad_label(value, what, f"it is {len(value)} characters long, at most {max_length}")
    bad = first_bad_character(value)
    if bad is not None:
        raise _bad_label(value, what, f"it contains the control character U+{ord(bad):04X}")
    if value != value.strip():
        raise _bad_label(value, what, "it starts or ends with whitespace")
    return value


def check_evidence_kind(kind: object) -> str:
    """The kind of an attached piece of evidence: lowercase words joined by ``-`` or ``.``.

    >>> check_evidence_kind("drift-report")
    'drift-report'
    >>> check_evidence_kind("Drift Report")
    Traceback (most recent call last):
    ...
    modelyard.errors.InvalidNameError: invalid evidence kind 'Drift Report': ...
    """
    if not isinstance(kind, str) or not kind:
        raise _bad_kind(kind, "it must be a non-empty string")
    if len(kind) > MAX_EVIDENCE_KIND:
        raise _bad_kind(kind, f"it is {len(kind)} characters long, at most {MAX_EVIDENCE_KIND}")
    if not _EVIDENCE_KIND.fullmatch(kind):
        raise _bad_kind(
            kind,
            "use lowercase letters and digits, words joined by '-' or '.', starting with a letter",
        )
    return kind


def _bad_kind(kind: object, problem: str) -> InvalidNameError:
    return InvalidNameError(
        f"invalid evidence kind {kind!r}: {problem} (e.g. 'drift-report', 'evaluation')",
        name=kind,
        reason=problem,
    )


def _bad_label(value: object, what: str, problem: str) -> InvalidNameError:
    return InvalidNameError(
        f"invalid {what} {value!r}: {problem}; use one line of visible text",
        name=value,
        reason=problem,
    )


def check_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise InputError(f"tags must be a mapping of str to str, got {type(tags).__name__}")
    out = {}
    for key, value in tags.items():
        check_tag_key(key)
        out[key] = check_tag_value(value, key=key)
    return out


def check_tag_key(key: object, *, what: str = "tag key") -> str:
    return check_label(key, what=what)


def check_tag_value(value: object, *, key: str) -> str:
    """A tag value is one line (tags are matched exactly, so "risk\\n" next to "risk" would be a
    trap); unlike a key it may be empty."""
    if not isinstance(value, str):
        raise InputError(f"tag {key!r} must be a string, got {type(value).__name__}")
    if value == "":
        return value
    return check_label(value, what=f"value of tag {key!r}", max_length=MAX_TEXT)


def check_metrics(metrics: Mapping[str, float] | None) -> dict[str, float]:
    if metrics is None:
        return {}
    if not isinstance(metrics, Mapping):
        raise InputError(
            f"metrics must be a mapping of str to number, got {type(metrics).__name__}"
        )
    out = {}
    for key, value in metrics.items():
        check_tag_key(key, what="metric name")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                value = float(value)  # numpy scalars
            except (TypeError, ValueError):
                raise InputError(f"metric {key!r} must be a number, got {value!r}") from None
        if not math.isfinite(value):
            raise InputError(f"metric {key!r} must be finite, got {value!r}")
        out[key] = float(value)
    return out


def check_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise InputError(f"params must be a mapping, got {type(params).__name__}")
    out = {}
    for key, value in params.items():
        check_tag_key(key, what="parameter name")
        try:
            canonical_json(value)
        except (TypeError, ValueError):
            value = repr(value)  # e.g. an estimator as a parameter: keep a readable trace
        out[key] = value
    return out


def parse_ref(ref: object) -> tuple[str, str | None, int | None]:
    """Parse ``"name@alias"`` or ``"name/3"``, with or without the ``models:/`` scheme, into
    ``(name, alias, version)``; an ``artifacts:/`` reference is refused.

    >>> parse_ref("churn@champion"), parse_ref("models:/churn/3")
    (('churn', 'champion', None), ('churn', None, 3))
    >>> parse_ref("churn/\\u0662")  # ARABIC-INDIC DIGIT TWO
    Traceback (most recent call last):
    ...
    modelyard.errors.InvalidReferenceError: invalid model reference 'churn/٢': ...
    """
    parsed = parse_reference(ref, expect="model")
    assert parsed.name is not None
    return parsed.name, parsed.alias, parsed.version


def check_alias_name(name: str, alias: str, lifecycle: Lifecycle) -> None:
    """Refuse an alias named like one of ``lifecycle``'s states.

    >>> check_alias_name("churn", "production", Lifecycle.default())
    Traceback (most recent call last):
    ...
    modelyard.errors.InputError: 'production' is a stage of the lifecycle of 'churn', ...
    """
    if alias not in lifecycle.states:
        return
    hint = ""
    if lifecycle.displacement(alias) is not None:
        hint = (
            f" To have an alias that always names the holder of {alias!r}, bind one: "
            f"set_alias({name!r}, 'champion', follow={alias!r})"
        )
    raise InputError(
        f"{alias!r} is a stage of the lifecycle of {name!r}, so it cannot be an alias: "
        f"'{name}@{alias}' already names the stage. Pick another alias name.{hint}",
        name=name,
        alias=alias,
    )


def check_follow(name: str, alias: str, stage: str, lifecycle: Lifecycle) -> None:
    """Refuse to bind ``alias`` to ``stage`` unless the stage is exclusive in ``lifecycle``.

    >>> check_follow("churn", "champion", "staging", Lifecycle.default())
    Traceback (most recent call last):
    ...
    modelyard.errors.InputError: alias 'champion' of 'churn' cannot follow 'staging': ...
    """
    validate_name(stage, kind="state")
    lifecycle.require_state(stage)
    if lifecycle.displacement(stage) is None:
        exclusive = ", ".join(sorted(lifecycle.exclusive)) or "none"
        raise InputError(
            f"alias {alias!r} of {name!r} cannot follow {stage!r}: it is not an exclusive stage, "
            f"so several versions may be in it and an alias points at one. Follow an exclusive "
            f"stage (exclusive stages: {exclusive})",
            name=name,
            alias=alias,
            state=stage,
        )
