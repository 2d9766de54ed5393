"""The shares a chart draws: per bin or category, the reference's and the current side's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["binned_shares", "category_shares"]

Shares = tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...]]

#: A chart of more categories than this is unreadable; the most frequent ones are kept.
TOP_CATEGORIES = 12


def _shares(counts: Any) -> list[float]:
    total = float(counts.sum())
    return (counts / total).tolist() if total > 0 else [0.0] * counts.size


def binned_shares(labels: Sequence[str], reference: Any, current: Any) -> Shares:
    """Bins non-empty on either side (the first always, so an empty chart keeps its axis)."""
    keep = (reference > 0) | (current > 0)
    keep[:1] = True
    index = np.flatnonzero(keep).tolist()
    ref, cur = _shares(reference), _shares(current)
    return (
        tuple(labels[i] for i in index),
        tuple(ref[i] for i in index),
        tuple(cur[i] for i in index),
    )


def category_shares(labels: Sequence[str], reference: Any, current: Any) -> Shares:
    """The most frequent categories of both sides together, as :func:`compare` keeps them."""
    width = len(labels)
    ref, cur = _shares(reference[:width]), _shares(current[:width])
    top = np.argsort(-(reference[:width] + current[:width]), kind="stable")[:TOP_CATEGORIES]
    index = top.tolist()
    return (
        tuple(labels[i] for i in index),
        tuple(ref[i] for i in index),
        tuple(cur[i] for i in index),
    )
