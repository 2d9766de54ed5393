"""Where windows of time start and end: on the local calendar, or on a grid of fixed steps.

Calendar starts are built as local wall-clock times and converted to UTC once, so a day runs
from one local midnight to the next whatever the clocks do in between.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._every import DAY, Every
from modelyard.drift._times import to_utc, to_wall
from modelyard.errors import InputError

__all__ = ["MAX_WINDOWS", "check_count", "ends", "wall_starts"]

MAX_WINDOWS = 1_000_000
# 1969-12-29, the Monday before the epoch (a Thursday), in days since the epoch.
_EPOCH_MONDAY = -3


def wall_starts(lo: int, hi: int, step: Every, anchor: str) -> NDArray[np.int64]:
    """Window starts on the local calendar, from the window holding ``lo`` to the one of ``hi``."""
    if step.months:
        if anchor == "first":
            raise InputError(
                f"step={step.text!r}: month and year windows start on the 1st of a month; "
                "anchor='first' needs a duration in days or less"
            )
        first = int(np.datetime64(lo, "ns").astype("datetime64[M]").astype(np.int64))
        last = int(np.datetime64(hi, "ns").astype("datetime64[M]").astype(np.int64))
        # Aligned on the epoch's months, so 3M windows are calendar quarters.
        first -= first % step.months
        check_count((last - first) // step.months + 1, step)
        months = np.arange(first, last + 1, step.months, dtype=np.int64)
        return months.astype("datetime64[M]").astype("datetime64[ns]").view(np.int64)
    span = step.days * DAY
    if anchor == "first":
        origin = lo
    elif step.weekly:
        weeks = (lo // DAY - _EPOCH_MONDAY) // 7
        origin = (_EPOCH_MONDAY + (weeks - weeks % (step.days // 7)) * 7) * DAY
    else:
        origin = (lo // DAY) * DAY
    count = (hi - origin) // span + 1
    check_count(count, step)
    return origin + np.arange(count, dtype=np.int64) * span


def check_count(count: int, step: Every) -> None:
    if count > MAX_WINDOWS:
        raise InputError(
            f"step={step.text!r} makes {count:,} windows over this time range, more than "
            f"{MAX_WINDOWS:,}; choose a longer step",
            windows=count,
        )


def ends(
    starts_utc: NDArray[np.int64],
    wall: NDArray[np.int64] | None,
    length: Every,
    step: Every,
    timezone: str | None,
) -> NDArray[np.int64]:
    """Window ends: ``length`` after each start, on the local calendar for calendar lengths.

    ``wall`` is the local calendar grid the starts came from, when they did: a start at a local
    midnight that never happened was moved to the end of the gap, and the day it starts still
    ends at the next midnight, not 24 hours after the moved start.
    """
    if not length.calendar:
        return starts_utc + length.nanos
    if wall is None:
        wall = to_wall(starts_utc, timezone)
    if length.days:
        return to_utc(wall + length.days * DAY, timezone)
    if not step.months:
        raise InputError(
            f"every={length.text!r} with step={step.text!r}: a window of months must also step "
            "by months, so that every window starts on the 1st"
        )
    months = wall.view("datetime64[ns]").astype("datetime64[M]") + length.months
    return to_utc(months.astype("datetime64[ns]").view(np.int64), timezone)
