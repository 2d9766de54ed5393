"""The window arguments every per-window function takes (``time``, ``every``, ``step``,
``rows``, ``windows``, ``anchor``), checked and turned into :class:`Windows` one way."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from modelyard.drift._windows import Windows
from modelyard.drift._windows import windows as make_windows
from modelyard.errors import InputError

__all__ = ["build_windows", "window_bounds"]


def build_windows(
    data: Any,
    length: int,
    time: object,
    every: object,
    step: object,
    rows: int | None,
    windows: Windows | None,
    anchor: Literal["calendar", "first"] = "calendar",
) -> Windows:
    """The windows over ``data`` (``length`` rows) the arguments describe."""
    if windows is not None:
        if time is not None or every is not None or rows is not None or step is not None:
            raise InputError(
                "windows= are built already; pass them alone, without time=, every=, step= or rows="
            )
        if not isinstance(windows, Windows):
            raise InputError(
                f"windows= must come from drift.windows(), not a {type(windows).__name__}"
            )
        if windows.data_rows != length:
            raise InputError(
                f"windows= was built over {windows.data_rows} rows, but data has {length}; "
                "build the windows from this data"
            )
        return windows
    if every is None and rows is None:
        raise InputError(
            "say how to cut the data into windows: time= and every= (time windows), rows= "
            "(count windows) or windows= (from drift.windows())"
        )
    if time is not None and not isinstance(time, str):
        if every is None:
            raise InputError("time= given as times needs every= (the length of a window)")
        built = make_windows(time, every=every, step=step, anchor=anchor)
        if built.data_rows != length:
            raise InputError(
                f"time= holds {built.data_rows} times, but data has {length} rows; pass one "
                "time per row"
            )
        return built
    return make_windows(data, time=time, every=every, step=step, rows=rows, anchor=anchor)


def window_bounds(windows: Windows) -> tuple[list[str | int], list[str | int]]:
    """Each window's start and end as stored: UTC ISO text (nanoseconds) for time windows, row
    positions for count windows."""
    if windows.kind == "rows":
        return list(windows.start.tolist()), list(windows.end.tolist())
    return (
        list(np.datetime_as_string(windows.start, unit="ns").tolist()),
        list(np.datetime_as_string(windows.end, unit="ns").tolist()),
    )
