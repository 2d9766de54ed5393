"""The warning category of the drift package."""

from __future__ import annotations

__all__ = ["DriftWarning"]


class DriftWarning(UserWarning):
    """A drift statistic was computed on data that makes it less meaningful.

    Raised (as a warning, never an error) for a constant column or a column with no values on one
    side; the report still has a defined entry for the column. Filter it like any warning::

        warnings.filterwarnings("ignore", category=DriftWarning)
    """
