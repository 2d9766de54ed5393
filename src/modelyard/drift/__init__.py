"""Drift statistics: vectorised kernels, reusable reference profiles, reports.

Profile the reference once, compare any number of current batches against it::

    >>> import numpy as np
    >>> import modelyard.drift as drift
    >>> rng = np.random.default_rng(7)
    >>> reference = drift.profile(rng.normal(size=(5000, 3)))
    >>> report = drift.compare(reference, rng.normal([0, 0, 0.5], size=(3000, 3)))
    >>> report.drifted
    ['2']

Over time, :func:`windows` splits data into windows of time or of row counts, and
:func:`performance` computes a model's realized performance per window once labels arrive,
:func:`estimate_performance` estimates it before they do, :func:`monitor` judges the drift of
every window against one reference, column by column, and :func:`multivariate` judges how the
columns move together. In a running service, :class:`LiveMonitor` judges windows of the traffic
as it arrives, in bounded memory.

The statistics themselves are in :mod:`modelyard.drift.kernels`; the conventions (binning,
smoothing, log base, KL direction, thresholds) in :class:`DriftConfig` and :data:`PRESETS`.
"""

import modelyard._internal.public as _public
from modelyard.drift import kernels
from modelyard.drift._compare import compare
from modelyard.drift._config import PRESETS, DriftConfig
from modelyard.drift._estimated import estimate_performance
from modelyard.drift._estimated_result import EstimatedPerformance
from modelyard.drift._fitted import FittedBand, FittedThresholds
from modelyard.drift._live import LiveMonitor
from modelyard.drift._live_checkpoint import Checkpoint
from modelyard.drift._monitor import monitor
from modelyard.drift._monitoring import Monitoring, WindowColumn, WindowDrift
from modelyard.drift._multivariate import multivariate
from modelyard.drift._multivariate_result import MultivariateDrift, MultivariateWindow
from modelyard.drift._performance import PerformanceResult, performance
from modelyard.drift._performance_record import MetricResult, WindowPerformance
from modelyard.drift._profile import DriftProfile, merge, profile
from modelyard.drift._quality import quality
from modelyard.drift._quality_report import QualityFinding, QualityReport
from modelyard.drift._report import ColumnDrift, DriftReport, StatisticResult
from modelyard.drift._warnings import DriftWarning
from modelyard.drift._windows import Windows, windows

__all__ = [
    "Checkpoint",
    "ColumnDrift",
    "DriftConfig",
    "DriftProfile",
    "DriftReport",
    "DriftWarning",
    "EstimatedPerformance",
    "FittedBand",
    "FittedThresholds",
    "LiveMonitor",
    "MetricResult",
    "Monitoring",
    "MultivariateDrift",
    "MultivariateWindow",
    "PRESETS",
    "PerformanceResult",
    "QualityFinding",
    "QualityReport",
    "StatisticResult",
    "WindowColumn",
    "WindowDrift",
    "WindowPerformance",
    "Windows",
    "compare",
    "estimate_performance",
    "kernels",
    "merge",
    "monitor",
    "multivariate",
    "performance",
    "profile",
    "quality",
    "windows",
]

_public.publish(__name__, globals(), __all__)
