"""Chi-square tests on category frequencies, vectorised across columns."""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ChiSquareResult", "chi_square"]

FloatArray = NDArray[np.float64]


class ChiSquareResult(NamedTuple):
    """Result of :func:`chi_square`, one value per column."""

    statistic: FloatArray
    p_value: FloatArray
    dof: NDArray[np.int64]


def chi_square(
    reference: ArrayLike,
    current: ArrayLike,
    *,
    test: Literal["homogeneity", "goodness_of_fit"] = "homogeneity",
) -> ChiSquareResult:
    r"""Chi-square test that the current category frequencies match the reference's.

    ``reference`` and ``current`` are ``(columns, categories)`` counts over the same categories
    (pad with zeros). Categories absent from both sides are ignored.

    ``test="homogeneity"`` (default) treats the two samples symmetrically: Pearson's test on the
    ``2 x K`` contingency table, expected counts ``E_sj = n_s * t_j / N``, ``K - 1`` degrees of
    freedom, exactly ``scipy.stats.chi2_contingency(table, correction=False)``. A category unseen in
    the reference counts towards the statistic instead of making it infinite.

    ``test="goodness_of_fit"`` is Evidently's: the current counts against the reference
    proportions scaled to the current size, ``scipy.stats.chisquare(f_obs, f_exp)``; a category
    unseen in the reference makes the statistic infinite and the p-value 0.

    >>> result = chi_square([[30, 20, 0]], [[10, 25, 5]])
    >>> round(float(result.statistic[0]), 4), round(float(result.p_value[0]), 6), int(result.dof[0])
    (14.625, 0.000667, 2)
    """
    from scipy import special

    ref = np.atleast_2d(np.asarray(reference, dtype=np.float64))
    cur = np.atleast_2d(np.asarray(current, dtype=np.float64))
    if ref.shape != cur.shape:
        raise ValueError(f"count arrays differ in shape: {ref.shape} and {cur.shape}")
    used = (ref > 0) | (cur > 0)
    dof = np.count_nonzero(used, axis=1).astype(np.int64) - 1
    n_ref = ref.sum(axis=1, keepdims=True)
    n_cur = cur.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        if test == "homogeneity":
            total = ref + cur
            grand = n_ref + n_cur
            e_ref = n_ref * total / grand
            e_cur = n_cur * total / grand
            terms = np.where(used, (ref - e_ref) ** 2 / e_ref + (cur - e_cur) ** 2 / e_cur, 0.0)
        elif test == "goodness_of_fit":
            expected = ref * (n_cur / n_ref)
            terms = np.where(used, (cur - expected) ** 2 / expected, 0.0)
        else:
            raise ValueError(f"unknown chi-square test {test!r}")
        statistic = terms.sum(axis=1)
    empty = (n_ref[:, 0] == 0) | (n_cur[:, 0] == 0)
    statistic = np.where(empty, np.nan, np.where(dof > 0, statistic, 0.0))
    p_value = np.where(
        empty,
        np.nan,
        np.where(dof > 0, special.chdtrc(np.maximum(dof, 1), statistic), 1.0),
    )
    return ChiSquareResult(statistic, p_value, np.maximum(dof, 0))
