"""Every drift statistic, defined once: what it applies to, how it is measured and judged.

The configuration's lists of statistics, the default thresholds, the comparison, the monitor,
the reports and their legends all read :data:`STATISTICS`; a new statistic is one entry here
(and its ``Statistic`` name).

A statistic is measured either from bin counts (``source="bins"``: ``(columns, bins)`` counts
of the reference and the current data, after the binning) or from the sorted values
(``source="sorted"``: the ECDF pass that gives KS and Wasserstein together). Either way it
yields, per column, its ``value``, its ``p_value`` under "no change" and the ``score`` its
threshold is compared with.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from modelyard.drift._config import DriftConfig

__all__ = ["STATISTICS", "Measured", "SortedInputs", "Statistic", "StatisticSpec"]

#: The name of a statistic: one per entry of :data:`STATISTICS`.
Statistic = Literal["psi", "kl", "js", "ks", "wasserstein", "chi2"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Evidently divides the Wasserstein distance by the reference standard deviation, floored here.
MIN_SCALE = 0.001


class Measured(NamedTuple):
    """One statistic over a block of columns (NaN where undefined)."""

    value: FloatArray
    p_value: FloatArray
    score: FloatArray


class SortedInputs(NamedTuple):
    """What the ECDF pass gives the statistics measured on sorted values, per column."""

    ks: FloatArray
    wasserstein: FloatArray
    #: The KS test's p-value, which the Wasserstein distance borrows (see ``wasserstein``).
    ks_p_value: FloatArray
    #: The reference standard deviation, NaN where unknown.
    reference_std: FloatArray


@dataclass(frozen=True)
class StatisticSpec:
    """The definition of one statistic."""

    name: Statistic
    #: Its name in reports and legends.
    title: str
    #: One line for a legend: what it measures.
    summary: str
    kinds: frozenset[Literal["numeric", "categorical"]]
    source: Literal["bins", "sorted"]
    #: Judged by its p-value alone (a test, with no effect size of its own).
    test: bool
    #: The default threshold: the effect that matters, or for a test the p-value level.
    threshold: float
    from_bins: Callable[[IntArray, IntArray, DriftConfig], Measured] | None = None
    from_sorted: Callable[[SortedInputs, DriftConfig], Measured] | None = None
    #: The largest value the statistic can take under a configuration (None: unbounded).
    largest: Callable[[DriftConfig], float] | None = None

    def upper_limit(self, config: DriftConfig) -> float:
        """The largest value the statistic can take (``inf`` when unbounded)."""
        return math.inf if self.largest is None else self.largest(config)

    def measure_bins(self, reference: IntArray, current: IntArray, config: DriftConfig) -> Measured:
        """The statistic from ``(columns, bins)`` counts of both sides."""
        if self.from_bins is None:
            raise ValueError(f"{self.name} is not measured from bin counts")
        return self.from_bins(reference, current, config)

    def measure_sorted(self, inputs: SortedInputs, config: DriftConfig) -> Measured:
        """The statistic from the ECDF pass."""
        if self.from_sorted is None:
            raise ValueError(f"{self.name} is not measured from sorted values")
        return self.from_sorted(inputs, config)


def _smoothing(config: DriftConfig) -> dict[str, Any]:
    # PSI and KL smooth empty bins and take logarithms the same way.
    return {
        "epsilon": config.epsilon,
        "base": config.log_base,
        "rule": config.epsilon_rule,
        "drop_empty": config.drop_empty_bins,
    }


def _with_binned_p(
    name: str, value: FloatArray, reference: IntArray, current: IntArray, base: float
) -> Measured:
    from modelyard.drift._verdicts import binned_p_value

    used = np.asarray(((reference > 0) | (current > 0)).sum(axis=1), dtype=np.int64)
    p = binned_p_value(name, value, reference.sum(axis=1), current.sum(axis=1), used, base=base)
    return Measured(value, p, value)


def _psi(reference: IntArray, current: IntArray, config: DriftConfig) -> Measured:
    from modelyard.drift._divergence import psi

    value = psi(reference, current, **_smoothing(config))
    return _with_binned_p("psi", value, reference, current, config.log_base)


def _kl(reference: IntArray, current: IntArray, config: DriftConfig) -> Measured:
    from modelyard.drift._divergence import kl_divergence

    value = kl_divergence(
        reference,
        current,
        direction=config.kl_direction,
        normalize=config.kl_normalize,
        **_smoothing(config),
    )
    return _with_binned_p("kl", value, reference, current, config.log_base)


def _js(reference: IntArray, current: IntArray, config: DriftConfig) -> Measured:
    from modelyard.drift._divergence import js_distance

    value = js_distance(reference, current, epsilon=config.js_epsilon, base=config.js_base)
    return _with_binned_p("js", value, reference, current, config.js_base)


def _chi2(reference: IntArray, current: IntArray, config: DriftConfig) -> Measured:
    from modelyard.drift._chisquare import chi_square

    result = chi_square(reference, current, test=config.chi_square_test)
    return Measured(result.statistic, result.p_value, result.p_value)


def _ks(inputs: SortedInputs, config: DriftConfig) -> Measured:
    return Measured(inputs.ks, inputs.ks_p_value, inputs.ks_p_value)


def _wasserstein(inputs: SortedInputs, config: DriftConfig) -> Measured:
    # The Wasserstein distance has no null distribution of its own that does not depend on the
    # data's shape; its significance is the KS test's on the same column.
    score = inputs.wasserstein
    if config.wasserstein_scale == "std":
        score = score / np.maximum(np.nan_to_num(inputs.reference_std, nan=1.0), MIN_SCALE)
    return Measured(inputs.wasserstein, inputs.ks_p_value, score)


_BOTH: frozenset[Literal["numeric", "categorical"]] = frozenset({"numeric", "categorical"})
_NUMERIC: frozenset[Literal["numeric", "categorical"]] = frozenset({"numeric"})
_CATEGORICAL: frozenset[Literal["numeric", "categorical"]] = frozenset({"categorical"})

#: The statistics, in the order reports list them.
STATISTICS: Mapping[Statistic, StatisticSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            StatisticSpec(
                "psi",
                "PSI",
                "population stability index: the symmetric log-ratio of bin shares",
                _BOTH,
                "bins",
                test=False,
                threshold=0.25,
                from_bins=_psi,
            ),
            StatisticSpec(
                "kl",
                "KL",
                "Kullback-Leibler divergence of the current bin shares from the reference's",
                _BOTH,
                "bins",
                test=False,
                threshold=0.1,
                from_bins=_kl,
            ),
            StatisticSpec(
                "js",
                "JS",
                "Jensen-Shannon distance between the bin shares (0 same, 1 disjoint in base 2)",
                _BOTH,
                "bins",
                test=False,
                threshold=0.1,
                from_bins=_js,
                # sqrt(ln 2) in nats: the distance of two disjoint distributions.
                largest=lambda config: math.sqrt(math.log(2.0) / math.log(config.js_base)),
            ),
            StatisticSpec(
                "ks",
                "KS",
                "Kolmogorov-Smirnov test: the largest gap between the two cumulative distributions",
                _NUMERIC,
                "sorted",
                test=True,
                threshold=0.05,
                from_sorted=_ks,
                largest=lambda config: 1.0,
            ),
            StatisticSpec(
                "wasserstein",
                "Wasserstein",
                "Wasserstein-1 distance (earth mover's), in reference standard deviations",
                _NUMERIC,
                "sorted",
                test=False,
                threshold=0.1,
                from_sorted=_wasserstein,
            ),
            StatisticSpec(
                "chi2",
                "chi-square",
                "chi-square test that the category frequencies did not change",
                _CATEGORICAL,
                "bins",
                test=True,
                threshold=0.05,
                from_bins=_chi2,
            ),
        )
    }
)


def applicable(kind: Literal["numeric", "categorical"]) -> tuple[Statistic, ...]:
    """The statistics that apply to a kind of column, in report order."""
    return tuple(name for name, spec in STATISTICS.items() if kind in spec.kinds)


def default_thresholds() -> dict[str, float]:
    """Every statistic's default threshold."""
    return {name: spec.threshold for name, spec in STATISTICS.items()}


def title(name: str) -> str:
    """A statistic's name in reports."""
    spec = STATISTICS.get(name)  # type: ignore[call-overload]
    return name if spec is None else spec.title
