"""Conventions of a comparison (binning, smoothing, log bases, thresholds) and named presets."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from modelyard._internal.frozen import FrozenMap
from modelyard._internal.reprs import WIDTH
from modelyard.drift._statistics import STATISTICS, Statistic, applicable, default_thresholds
from modelyard.errors import DriftInputError

__all__ = ["PRESETS", "DriftConfig", "Statistic", "resolve_config"]

NUMERIC_STATISTICS = applicable("numeric")
CATEGORICAL_STATISTICS = applicable("categorical")
#: Statistics whose verdict is a p-value below the threshold; the others are distances.
TESTS: frozenset[str] = frozenset(name for name, spec in STATISTICS.items() if spec.test)

DEFAULT_THRESHOLDS: Mapping[str, float] = MappingProxyType(default_thresholds())


class DriftConfig(BaseModel):
    """How a comparison is computed and judged. Immutable; build variants with ``model_copy``.

    The defaults are modelyard's conventions; :data:`PRESETS` holds configurations that reproduce
    Evidently's and NannyML's numbers. Every field is documented in the drift guide.

    >>> import math
    >>> DriftConfig().thresholds["psi"], DriftConfig().log_base == math.e
    (0.25, True)
    >>> PRESETS["nannyml"].js_base
    2.0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "modelyard"
    bins: int = Field(10, ge=1)
    binning: Literal["quantile", "uniform", "doane", "sturges_both"] = "quantile"
    epsilon: float = Field(1e-4, ge=0.0)
    epsilon_rule: Literal["fixed", "evidently"] = "fixed"
    drop_empty_bins: bool = True
    log_base: float = Field(math.e, gt=1.0)
    kl_direction: Literal["reference||current", "current||reference"] = "reference||current"
    kl_normalize: bool = False
    js_base: float = Field(math.e, gt=1.0)
    js_epsilon: float = Field(0.0, ge=0.0)
    chi_square_test: Literal["homogeneity", "goodness_of_fit"] = "homogeneity"
    ks_method: Literal["auto", "exact", "asymp", "scipy"] = "auto"
    wasserstein_scale: Literal["std", "none"] = "std"
    numeric_stats: tuple[Statistic, ...] = ("psi", "ks", "wasserstein", "kl", "js")
    categorical_stats: tuple[Statistic, ...] = ("psi", "chi2", "kl", "js")
    thresholds: Mapping[str, float] = Field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    psi_warning: float = 0.1
    #: Statistics whose "drift" verdict marks the column as drifted. Tests (KS, chi-square) are
    #: reported but do not decide by default: on large samples they flag shifts too small to
    #: matter. ``None``: every computed statistic decides. When none of these was computed for a
    #: column, every computed statistic decides.
    decisive: tuple[Statistic, ...] | None = ("psi", "js", "wasserstein")
    #: ``"tested"``: a statistic says drift when its p-value, adjusted by ``correction`` across
    #: every statistic of every column in the report, is below ``alpha`` *and* its effect reaches
    #: its threshold (the tests KS and chi-square have no effect size: significance alone).
    #: ``"threshold"``: the effect against its threshold alone, as Evidently and NannyML decide.
    rule: Literal["tested", "threshold"] = "tested"
    alpha: float = Field(0.05, gt=0.0, lt=1.0)
    correction: Literal["holm", "bh", "none"] = "holm"
    #: Binned statistics (PSI, KL, JS, chi-square) need on average this many values per
    #: non-empty bin on the smaller side; below it their verdict is ``"insufficient data"``.
    min_expected: float = Field(20.0, ge=0.0)
    #: KS and Wasserstein need this many values on each side.
    min_rows: int = Field(20, ge=1)

    @field_validator("thresholds")
    @classmethod
    def _complete(cls, value: Mapping[str, float]) -> Mapping[str, float]:
        unknown = set(value) - set(DEFAULT_THRESHOLDS)
        if unknown:
            raise ValueError(f"unknown statistics {sorted(unknown)}")
        return FrozenMap({**DEFAULT_THRESHOLDS, **value})

    @field_serializer("thresholds")
    def _plain(self, value: Mapping[str, float]) -> dict[str, float]:
        # The read-only view is not JSON; a loaded report must serialise again.
        return dict(value)

    @field_validator("numeric_stats")
    @classmethod
    def _numeric(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [s for s in value if s not in NUMERIC_STATISTICS]
        if bad:
            raise ValueError(f"{bad} do not apply to numeric columns")
        return value

    @field_validator("categorical_stats")
    @classmethod
    def _categorical(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [s for s in value if s not in CATEGORICAL_STATISTICS]
        if bad:
            raise ValueError(f"{bad} do not apply to categorical columns")
        return value

    def __repr__(self) -> str:
        text = (
            f"DriftConfig(name={self.name!r}, rule={self.rule!r}, alpha={self.alpha}, "
            f"correction={self.correction!r}, bins={self.bins}, thresholds={dict(self.thresholds)})"
        )
        return text if len(text) <= WIDTH else text[: WIDTH - 4] + "...)"


PRESETS: Mapping[str, DriftConfig] = MappingProxyType(
    {
        "modelyard": DriftConfig(),
        # Evidently (legacy stattests, 0.4 - 0.7): equal-width Sturges bins over both samples,
        # zeros filled with 0.0001 (or min/1e6), KL through scipy.stats.entropy (renormalised),
        # JS natural log without smoothing, Wasserstein divided by max(std_ref, 0.001),
        # chi-square goodness of fit, PSI threshold 0.1.
        "evidently": DriftConfig(
            name="evidently",
            binning="sturges_both",
            epsilon=1e-4,
            epsilon_rule="evidently",
            drop_empty_bins=False,
            kl_normalize=True,
            chi_square_test="goodness_of_fit",
            decisive=None,
            rule="threshold",
            correction="none",
            thresholds={"psi": 0.1, "kl": 0.1, "js": 0.1, "wasserstein": 0.1},
        ),
        # NannyML (univariate drift, 0.10 - 0.13): Jensen-Shannon in base 2 on Doane bins of the
        # reference (values outside its range share one extra bin), chi-square of homogeneity.
        "nannyml": DriftConfig(
            name="nannyml",
            binning="doane",
            js_base=2.0,
            numeric_stats=("js", "ks", "wasserstein"),
            categorical_stats=("js", "chi2"),
            decisive=("js",),
            rule="threshold",
            correction="none",
        ),
    }
)


def resolve_config(config: DriftConfig | str | None) -> DriftConfig:
    if config is None:
        return PRESETS["modelyard"]
    if isinstance(config, DriftConfig):
        return config
    if config in PRESETS:
        return PRESETS[config]
    raise DriftInputError(
        f"unknown drift preset {config!r}; available: {sorted(PRESETS)}",
        available=sorted(PRESETS),
    )
