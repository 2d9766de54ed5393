"""Bad input gets a clear error from the modelyard tree, and nothing is written."""

from __future__ import annotations

import pytest

from modelyard.artifacts import ArtifactRef
from modelyard.errors import (
    CapabilityError,
    InputError,
    InvalidNameError,
    InvalidReferenceError,
    NotFoundError,
    TransitionRejected,
)
from modelyard.registry import Registry
from modelyard.storage import MemoryStore, StoreCapabilities

BAD_NAMES = ["../x", "", "a" * 300, "a\x00b", "line\nbreak", "tab\tname", "a/b", "x@y", " lead"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_model_names_are_refused_before_anything_is_written(
    registry: Registry, model_ref: ArtifactRef, name: str
) -> None:
    before = registry.store.list()
    with pytest.raises(InvalidNameError) as info:
        registry.register(name, model_ref)
    assert isinstance(info.value, ValueError)
    assert registry.store.list() == before


def test_bad_object_registration_writes_no_artifact(registry: Registry) -> None:
    before = registry.store.list()
    with pytest.raises(InvalidNameError):
        registry.register("../x", {"w": 1})
    with pytest.raises(InputError):
        registry.register("churn", {"w": 1}, metrics={"auc": float("nan")})
    with pytest.raises(InputError):
        registry.register("churn", {"w": 1}, tags={"team": 3})  # type: ignore[dict-item]
    assert registry.store.list() == before


def test_unknown_model_version_and_alias_list_what_exists(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    registry.register("churn", model_ref)
    registry.register("churn", model_ref)
    registry.set_alias("churn", "champion", 1)
    with pytest.raises(NotFoundError) as info:
        registry.resolve("fraud@latest")
    assert info.value.available == ["churn"]
    with pytest.raises(NotFoundError) as info:
        registry.resolve("churn/7")
    assert info.value.available == [1, 2]
    assert "[1, 2]" in str(info.value)
    with pytest.raises(NotFoundError) as info:
        registry.load("churn@challenger")
    assert info.value.available == ["champion", "latest"]
    with pytest.raises(NotFoundError):
        registry.set_alias("churn", "champion", 5)
    with pytest.raises(LookupError):
        registry.transition("churn", 9, "staging")


@pytest.mark.parametrize("ref", ["churn", "churn/0", "churn/x", "churn@", "@x", "churn/-1"])
def test_malformed_references(registry: Registry, model_ref: ArtifactRef, ref: str) -> None:
    registry.register("churn", model_ref)
    with pytest.raises((InvalidReferenceError, InvalidNameError)):
        registry.resolve(ref)


def test_forbidden_transition_is_rejected_with_reasons(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    registry.register("churn", model_ref)
    before = registry.store.list()
    with pytest.raises(TransitionRejected) as info:
        registry.transition("churn", 1, "production")
    assert "development" in str(info.value) and "production" in str(info.value)
    assert registry.store.list() == before
    assert len(registry.history("churn")) == 1


def test_a_store_without_atomic_create_is_refused_unless_opted_in(model_ref: ArtifactRef) -> None:
    class CheckThenWriteStore(MemoryStore):
        @property
        def capabilities(self) -> StoreCapabilities:
            return StoreCapabilities(False, True, True, False)

    store = CheckThenWriteStore()
    refused = Registry(store)
    ref = refused.artifacts.put(b"m", name="m")
    with pytest.raises(CapabilityError, match="allow_non_atomic_create"):
        refused.register("churn", ref)
    assert not [key for key in store.list() if key.startswith("models/")]
    allowed = Registry(store, allow_non_atomic_create=True)
    assert allowed.register("churn", ref).version == 1
