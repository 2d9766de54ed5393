"""Drift kernels: NumPy functions over ``(rows, columns)`` arrays, one result per column.

Every kernel is vectorised across columns (no Python loop over columns), takes arrays and returns
arrays; none reads files, logs, or builds report objects. Counting into bins and sorting columns
use a small compiled extension when modelyard was built with it, with the same results as their
NumPy fallback. The conventions (log base, smoothing,
KL direction) are keyword arguments with the defaults described in the drift guide.

Binning:
    :func:`quantile_edges`, :func:`uniform_edges`, :func:`bin_counts`, :func:`sorted_columns`
Binned divergences (on ``(columns, bins)`` counts):
    :func:`psi`, :func:`kl_divergence`, :func:`js_distance`, :func:`proportions`
ECDF distances:
    :func:`ks_statistic`, :func:`wasserstein_distance`, :func:`ecdf_distances`
P-values:
    :func:`ks_pvalue`, :func:`kolmogorov_sf`, :func:`binned_p_value` (PSI, KL, JS),
    :func:`adjust_p_values` (Holm, Benjamini-Hochberg)
Categorical:
    :func:`chi_square`

Example:
    >>> import numpy as np
    >>> from modelyard.drift import kernels
    >>> rng = np.random.default_rng(0)
    >>> ref, cur = rng.normal(size=(5000, 3)), rng.normal(0.3, size=(4000, 3))
    >>> edges = kernels.quantile_edges(ref, bins=10)
    >>> kernels.psi(kernels.bin_counts(ref, edges), kernels.bin_counts(cur, edges)).round(3)
    array([0.083, 0.089, 0.078])
"""

from __future__ import annotations

import modelyard._internal.public as _public
from modelyard.drift._binning import bin_counts, quantile_edges, sorted_columns, uniform_edges
from modelyard.drift._chisquare import ChiSquareResult, chi_square
from modelyard.drift._divergence import js_distance, kl_divergence, proportions, psi
from modelyard.drift._ecdf import EcdfDistances, ecdf_distances, ks_statistic, wasserstein_distance
from modelyard.drift._ks_pvalue import kolmogorov_sf, ks_pvalue
from modelyard.drift._verdicts import adjust_p_values, binned_p_value

__all__ = [
    "ChiSquareResult",
    "EcdfDistances",
    "adjust_p_values",
    "bin_counts",
    "binned_p_value",
    "chi_square",
    "ecdf_distances",
    "js_distance",
    "kl_divergence",
    "kolmogorov_sf",
    "ks_pvalue",
    "ks_statistic",
    "proportions",
    "psi",
    "quantile_edges",
    "sorted_columns",
    "uniform_edges",
    "wasserstein_distance",
]

_public.publish(__name__, globals(), __all__)
