"""Retry with capped exponential backoff and full jitter.

Full jitter (sleep a uniform random time up to the capped exponential bound) spreads racing writers
apart quickly; see Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry an optimistic write.

    >>> policy = RetryPolicy(attempts=3, base=0.0)
    >>> len(list(policy.delays()))
    2
    """

    attempts: int = 50
    base: float = 0.001
    cap: float = 0.1

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """Yield the sleep before each retry (``attempts - 1`` values)."""
        draw = (rng or random).uniform
        for attempt in range(self.attempts - 1):
            yield draw(0.0, min(self.cap, self.base * (2**attempt)))

    def sleep(self, delay: float, sleeper: Callable[[float], None] = time.sleep) -> None:
        if delay > 0:
            sleeper(delay)
