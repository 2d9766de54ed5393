"""Window lengths and steps: ``"15min"``, ``"1h"``, ``"1D"``, ``"1W"``, ``"1M"``, ``"1Y"``.

Units shorter than a day are fixed durations. Days, weeks, months and years are calendar units:
in a time zone with daylight saving time a day runs from one local midnight to the next, which
can be 23 or 25 hours, so they cannot be reduced to a number of nanoseconds.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import numpy as np

from modelyard.errors import InputError

__all__ = ["DAY", "Every", "parse_every"]

DAY = 86_400 * 10**9

_FIXED = {"ns": 1, "us": 10**3, "ms": 10**6, "s": 10**9, "min": 60 * 10**9, "h": 3_600 * 10**9}
_CALENDAR_DAYS = {"D": 1, "W": 7}
_CALENDAR_MONTHS = {"M": 1, "Q": 3, "Y": 12}
_ALIASES = {"H": "h", "d": "D", "w": "W", "y": "Y", "S": "s", "sec": "s", "µs": "us"}
_PATTERN = re.compile(r"^\s*(\d+)?\s*([^\d\s]+)\s*$")
_UNITS = "ns, us, ms, s, min, h (fixed), D, W, M, Q, Y (calendar)"


@dataclass(frozen=True)
class Every:
    """A duration: fixed ``nanos``, or calendar ``days`` (``weekly`` for weeks) or ``months``."""

    text: str
    nanos: int = 0
    days: int = 0
    months: int = 0
    weekly: bool = False

    @property
    def calendar(self) -> bool:
        return self.nanos == 0

    def same_length(self, other: Every) -> bool:
        return (self.nanos, self.days, self.months) == (other.nanos, other.days, other.months)


def parse_every(value: object, *, name: str = "every") -> Every:
    """Parse a window length or step.

    >>> parse_every("15min").nanos
    900000000000
    >>> parse_every("2W").days, parse_every("1Q").months
    (14, 3)
    >>> parse_every("5m")
    Traceback (most recent call last):
    ...
    modelyard.errors.InputError: every='5m' is ambiguous: write '5min' for minutes or ...
    """
    if isinstance(value, (datetime.timedelta, np.timedelta64)):
        nanos = int(np.timedelta64(value, "ns").astype(np.int64))
        if nanos <= 0:
            raise InputError(f"{name}={value!r} must be a positive duration", argument=name)
        return Every(text=str(value), nanos=nanos)
    if not isinstance(value, str):
        raise InputError(
            f"{name}={value!r} is not a duration; pass a string such as '1D', '1h' or '15min', "
            "or a datetime.timedelta",
            argument=name,
        )
    match = _PATTERN.match(value)
    if match is None:
        raise InputError(
            f"{name}={value!r} is not a duration; write a count and a unit, such as '1D' or "
            f"'15min' (units: {_UNITS})",
            argument=name,
        )
    count = int(match.group(1) or 1)
    unit = _ALIASES.get(match.group(2), match.group(2))
    if unit == "m":
        raise InputError(
            f"{name}={value!r} is ambiguous: write '{count}min' for minutes or '{count}M' for "
            "months",
            argument=name,
        )
    if count < 1:
        raise InputError(f"{name}={value!r} must be at least one unit long", argument=name)
    if unit in _FIXED:
        return Every(text=value.strip(), nanos=count * _FIXED[unit])
    if unit in _CALENDAR_DAYS:
        return Every(text=value.strip(), days=count * _CALENDAR_DAYS[unit], weekly=unit == "W")
    if unit in _CALENDAR_MONTHS:
        return Every(text=value.strip(), months=count * _CALENDAR_MONTHS[unit])
    raise InputError(
        f"{name}={value!r} has an unknown unit {match.group(2)!r}; use one of {_UNITS}",
        argument=name,
    )
