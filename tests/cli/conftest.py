"""Every command-line test starts the console script in a new process (most import pandas and
SciPy there), so all but a few are marked slow: CI runs them all after the quick run. The quick
run keeps one test of each exit code a pipeline branches on, and the start-up checks."""

from __future__ import annotations

import pytest

QUICK = {
    "test_usage_errors_exit_2",  # 2
    "test_verify_a_sound_yard_exits_0_and_a_damaged_one_5",  # 0 and 5
    "test_a_missing_yard_is_not_found_not_a_new_empty_one",  # 3
    "test_a_refused_transition_exits_4_with_every_reason",  # 4
    "test_compare_exits_1_on_drift_and_0_without",  # 1
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not isinstance(item, pytest.Function) or "tests/cli/" not in item.nodeid:
            continue
        if item.module is not None and item.module.__name__.endswith("test_startup"):
            continue
        if item.originalname not in QUICK:
            item.add_marker(pytest.mark.slow)
