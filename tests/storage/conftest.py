"""The checks of the public conformance suite that start processes or move megabytes are marked
slow where the project runs the suite, not in the suite itself: a backend author's own test run
needs no marker of ours."""

from __future__ import annotations

import pytest

from modelyard.testing import StoreConformance

SLOW_CHECKS = {
    "test_processes_racing_create_have_one_winner",
    "test_writer_killed_mid_write_leaves_old_value_or_nothing",
    "test_writer_killed_at_any_moment_leaves_old_or_new",
    "test_large_create_from_a_stream_is_exclusive",
}
SLOW_SIZES = {"test_write_then_read[5242883]"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not isinstance(item, pytest.Function) or item.cls is None:
            continue
        if not issubclass(item.cls, StoreConformance):
            continue
        if item.originalname in SLOW_CHECKS or item.name in SLOW_SIZES:
            item.add_marker(pytest.mark.slow)
