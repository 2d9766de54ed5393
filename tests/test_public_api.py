"""The public surface: curated, sorted, resolvable and documented (a change here is deliberate)."""

from __future__ import annotations

import importlib
import inspect

import pytest

import modelyard

PACKAGES = [
    "modelyard",
    "modelyard.storage",
    "modelyard.artifacts",
    "modelyard.registry",
    "modelyard.lifecycle",
    "modelyard.drift",
    "modelyard.drift.dask",
    "modelyard.drift.spark",
    "modelyard.errors",
    "modelyard.testing",
    "modelyard.cli",
]


def test_top_level_exports_are_pinned() -> None:
    assert modelyard.__all__ == [
        "ConcurrentModificationError",
        "IntegrityError",
        "KeyExistsError",
        "ModelyardError",
        "NotFoundError",
        "Store",
        "TransitionRejected",
        "Yard",
        "YardCheckpoint",
        "__version__",
        "artifacts",
        "drift",
        "errors",
        "lifecycle",
        "open_store",
        "open_yard",
        "registry",
        "storage",
        "testing",
    ]


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_sorted_and_resolves(package: str) -> None:
    module = importlib.import_module(package)
    names = list(module.__all__)
    assert len(names) == len(set(names))

    def isort_key(name: str) -> tuple[int, str]:  # CONSTANTS, then Classes, then functions
        return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)

    assert names in (sorted(names), sorted(names, key=isort_key))
    for name in names:
        assert getattr(module, name) is not None, name
    assert set(names) <= set(dir(module))


@pytest.mark.parametrize("package", PACKAGES)
def test_public_classes_and_functions_are_documented(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__doc__
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{package}.{name} has no docstring"


def test_the_top_level_namespace_resolves_lazily() -> None:
    assert modelyard.open_yard is importlib.import_module("modelyard.yard").open_yard
    with pytest.raises(AttributeError):
        modelyard.no_such_name  # noqa: B018


def test_registry_exports_are_pinned() -> None:
    import modelyard.registry

    assert modelyard.registry.__all__ == [
        "AliasMove",
        "CopyResult",
        "Evidence",
        "FeedEvent",
        "FeedPage",
        "GovernanceEntry",
        "HistoryEntry",
        "LogProblem",
        "ModelCard",
        "ModelCheck",
        "ModelSnapshot",
        "ModelVersion",
        "OrderBy",
        "Provenance",
        "ReferenceProblem",
        "RegisteredModel",
        "Registry",
        "RegistryEvent",
        "RegistryListener",
        "RegistryReport",
        "SnapshotWarning",
    ]


def test_storage_exports_are_pinned() -> None:
    import modelyard.storage

    assert modelyard.storage.__all__ == [
        "ENTRY_POINT_GROUP",
        "CountingStore",
        "CreateBatch",
        "Data",
        "FsspecStore",
        "LatencyStore",
        "LocalStore",
        "MemoryStore",
        "StagedWrite",
        "Store",
        "StoreCapabilities",
        "StoreFactory",
        "StorePluginWarning",
        "SupportsCreateBatch",
        "SupportsStaging",
        "SupportsVolatileWrite",
        "iter_chunks",
        "join_chunks",
        "open_store",
        "register_store",
        "registered_stores",
        "validate_key",
        "validate_prefix",
    ]


def test_lifecycle_exports_are_pinned() -> None:
    import modelyard.lifecycle

    assert modelyard.lifecycle.__all__ == [
        "Approval",
        "CAUSES",
        "Cause",
        "CommittedTransition",
        "Decision",
        "Guard",
        "GuardContext",
        "GuardResult",
        "GuardSpec",
        "LIFECYCLE_SCHEMA",
        "Lifecycle",
        "MissingGuard",
        "ModelStatus",
        "StateChange",
        "Transition",
        "TransitionListener",
        "TransitionRequest",
        "VersionStatus",
        "actor_key",
        "as_guard",
        "decide",
        "decide_rollback",
        "drift_clean",
        "evaluate_guards",
        "guard",
        "guard_from_spec",
        "holder_stack",
        "metric_at_least",
        "metric_at_most",
        "monitoring_clean",
        "notify",
        "register_guard",
        "require_approvals",
        "require_role",
        "require_tags",
        "validate_request",
    ]


def test_drift_exports_are_pinned() -> None:
    import modelyard.drift

    assert modelyard.drift.__all__ == [
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


def test_engine_exports_are_pinned() -> None:
    import modelyard.drift.dask
    import modelyard.drift.spark

    assert modelyard.drift.dask.__all__ == ["compare", "monitor", "profile"]
    assert modelyard.drift.spark.__all__ == ["compare", "monitor", "profile"]


def test_the_code_record_is_public() -> None:
    import modelyard.artifacts

    assert "CodeRecord" in modelyard.artifacts.__all__
    assert modelyard.artifacts.CodeRecord.__module__ == "modelyard.artifacts"


def test_cli_exports_are_pinned() -> None:
    import modelyard.cli

    assert modelyard.cli.__all__ == ["ExitCode", "main"]


def test_folder_progress_is_public() -> None:
    import modelyard.artifacts

    assert "Progress" in modelyard.artifacts.__all__
    assert modelyard.artifacts.Progress.__module__ == "modelyard.artifacts"


def test_a_pack_is_public() -> None:
    import modelyard.artifacts

    assert "Pack" in modelyard.artifacts.__all__
    assert modelyard.artifacts.Pack.__module__ == "modelyard.artifacts"
    assert (
        modelyard.artifacts.Manifest.model_fields["packs"].annotation
        == (tuple[modelyard.artifacts.Pack, ...])
    )
