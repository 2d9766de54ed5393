"""Filtering and ordering versions across models."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, Literal

from modelyard.errors import InputError
from modelyard.registry._records import ModelVersion
from modelyard.registry._state import ModelState

__all__ = ["OrderBy", "check_search", "metrics_match", "search_versions"]

OrderBy = Literal["created_at", "version", "name"] | str

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def search_versions(
    states: Iterable[ModelState],
    *,
    tags: Mapping[str, str],
    model_tags: Mapping[str, str],
    min_metrics: Mapping[str, float],
    max_metrics: Mapping[str, float],
    state: str | None,
    alias: str | None,
    include_deleted: bool,
    order_by: OrderBy,
    descending: bool,
    limit: int | None,
) -> list[ModelVersion]:
    key = check_search(order_by, limit)
    found: list[ModelVersion] = []
    for model in states:
        if any(model.tags.get(k) != v for k, v in model_tags.items()):
            continue
        aliased = model.all_aliases() if alias is not None else None
        for version in model.versions.values():
            if version.deleted and not include_deleted:
                continue
            if state is not None and version.state != state:
                continue
            if aliased is not None and aliased.get(alias or "") != version.version:
                continue
            if any(version.tags.get(k) != v for k, v in tags.items()):
                continue
            if not metrics_match(version.metrics, min_metrics, max_metrics):
                continue
            found.append(model.record(version))
    if order_by.startswith("metrics."):
        # Versions without the metric come last in either direction.
        metric = order_by[len("metrics.") :]
        present = [v for v in found if metric in v.metrics]
        absent = [v for v in found if metric not in v.metrics]
        present.sort(key=key, reverse=descending)
        absent.sort(key=_sort_key("name"))
        found = present + absent
    else:
        found.sort(key=key, reverse=descending)
    return found if limit is None else found[:limit]


def check_search(order_by: str, limit: int | None) -> Any:
    """The sort key of ``order_by``; :class:`InputError` for a bad ``order_by`` or ``limit``."""
    key = _sort_key(order_by)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InputError(f"limit must be a non-negative integer, got {limit!r}")
    return key


def metrics_match(
    metrics: Mapping[str, float], low: Mapping[str, float], high: Mapping[str, float]
) -> bool:
    for name, threshold in low.items():
        value = metrics.get(name)
        if value is None or math.isnan(value) or value < threshold:
            return False
    for name, threshold in high.items():
        value = metrics.get(name)
        if value is None or math.isnan(value) or value > threshold:
            return False
    return True


def _sort_key(order_by: str) -> Any:
    if order_by == "created_at":
        return lambda v: (v.created_at or _EPOCH, v.name, v.version)
    if order_by == "version":
        return lambda v: (v.version, v.name)
    if order_by == "name":
        return lambda v: (v.name, v.version)
    if order_by.startswith("metrics.") and len(order_by) > len("metrics."):
        metric = order_by[len("metrics.") :]
        return lambda v: (v.metrics.get(metric, 0.0), v.name, v.version)
    raise InputError(
        f"cannot order by {order_by!r}: use 'created_at', 'version', 'name' or 'metrics.<name>'"
    )
