"""PCA reconstruction error: how well the reference's main directions still describe the data.

Fitted on the reference: each column is standardised with the reference's mean and standard
deviation (``StandardScaler``: population deviation, a constant column left unscaled), then the
principal axes are the eigenvectors of the centred, standardised reference's scatter matrix (its
right singular vectors), and the first ``k`` are kept, ``k`` the fewest whose explained variance
exceeds ``variance`` (0.65 by default, as NannyML's ``n_components=0.65`` with scikit-learn's
``PCA``). A row's reconstruction
error is the Euclidean norm of its standardised values minus their projection onto those axes
and back; a window's value is the mean over its rows (NannyML's data reconstruction drift).

When the columns keep their marginals but change how they move together, rows leave the plane
the reference spans and the error grows; a univariate statistic sees nothing.

The thresholds are NannyML's: the reference is cut into windows of the data's size, each gets its
mean error, and a window drifts when its value leaves ``mean +/- 3 standard deviations`` of those
(population deviation, lower bound at least 0). How often that band alarms on a window with no
change depends on how many reference windows it was estimated from: see
:func:`band_false_alarm` (about 5.2% a window with 6 reference windows, 0.7% with 30, 0.27% in
the limit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Reconstruction", "band_false_alarm", "fit_reconstruction", "reference_thresholds"]

FloatArray = NDArray[np.float64]

_BLOCK = 1 << 14


@dataclass(frozen=True)
class Reconstruction:
    """A fitted reconstruction: scaling, the centre and the kept axes (``(k, columns)``)."""

    mean: FloatArray
    scale: FloatArray
    centre: FloatArray
    axes: FloatArray

    @property
    def components(self) -> int:
        return int(self.axes.shape[0])

    def errors(self, values: FloatArray) -> FloatArray:
        """The reconstruction error of every row of ``values`` (imputed and encoded)."""
        # The residual is the centred row times the projector onto the discarded directions,
        # one small (columns x columns) product; blocks of rows keep the temporaries in cache.
        projector = np.eye(self.axes.shape[1]) - self.axes.T @ self.axes
        factor = 1.0 / self.scale
        shift = self.mean * factor + self.centre
        out = np.empty(len(values), dtype=np.float64)
        for lo in range(0, len(values), _BLOCK):
            residual = (values[lo : lo + _BLOCK] * factor - shift) @ projector
            out[lo : lo + _BLOCK] = np.sqrt(np.einsum("ij,ij->i", residual, residual))
        return out


def fit_reconstruction(values: FloatArray, variance: float = 0.65) -> Reconstruction:
    """Fit the scaling and the axes on the reference's rows (imputed and encoded).

    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 2))
    >>> fit = fit_reconstruction(np.column_stack([x[:, 0], x[:, 0] + 0.1 * x[:, 1]]))
    >>> fit.components
    1
    """
    mean = values.mean(axis=0)
    scale = values.std(axis=0)
    # A constant column would divide by zero; StandardScaler leaves it unscaled, and so do we.
    scale = np.where(scale > np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0), scale, 1.0)
    scaled = (values - mean) / scale
    centre = scaled.mean(axis=0)
    centred = scaled - centre
    # The axes are the eigenvectors of the (columns x columns) scatter matrix, as scikit-learn's
    # "covariance_eigh" solver finds them for tall data: one product instead of an SVD of every
    # row, and the same subspace to rounding.
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred)
    order = np.argsort(eigenvalues)[::-1]
    explained = np.maximum(eigenvalues[order], 0.0)
    axes = eigenvectors[:, order].T
    total = explained.sum()
    if total <= 0:
        keep = 1
    else:
        ratio = np.cumsum(explained) / total
        # The fewest components whose cumulative share is above the target, as scikit-learn
        # picks them for a fractional n_components.
        keep = int(np.searchsorted(ratio, variance, side="right")) + 1
        keep = min(keep, len(ratio))
    return Reconstruction(mean, scale, centre, np.ascontiguousarray(axes[:keep]))


def reference_thresholds(
    errors: FloatArray, size: int, sigmas: float = 3.0
) -> tuple[float, float, FloatArray]:
    """``(lower, upper, values)``: the mean errors of the reference's complete windows of
    ``size`` rows, in order, and the band ``mean +/- sigmas * sd`` around them (lower at least 0).

    >>> lower, upper, values = reference_thresholds(np.array([1.0, 3, 1, 3, 1, 3]), 2)
    >>> values.tolist(), lower, upper
    ([2.0, 2.0, 2.0], 2.0, 2.0)
    """
    count = len(errors) // size
    values = errors[: count * size].reshape(count, size).mean(axis=1)
    centre, spread = float(values.mean()), float(values.std())
    return max(centre - sigmas * spread, 0.0), centre + sigmas * spread, values


def band_false_alarm(windows: int, sigmas: float = 3.0) -> float:
    """The chance that a window with no change falls outside ``mean +/- sigmas * sd`` of
    ``windows`` reference windows, for normal window values.

    A new value ``X`` and the reference values ``V_1..V_m`` are independent ``N(mu, s^2)``, so
    ``(X - mean(V)) / (S sqrt(1 + 1/m))`` follows Student's t with ``m - 1`` degrees of freedom
    (``S`` the sample deviation); the band uses the population deviation
    ``S sqrt((m - 1) / m)``, so it alarms when ``|t| > sigmas * sqrt((m - 1) / (m + 1))``.

    >>> [round(band_false_alarm(m), 4) for m in (6, 30, 10**6)]
    [0.0522, 0.007, 0.0027]
    """
    from scipy.special import stdtr

    if windows < 2:
        return 1.0
    m = float(windows)
    return float(2 * stdtr(m - 1, -sigmas * np.sqrt((m - 1) / (m + 1))))
