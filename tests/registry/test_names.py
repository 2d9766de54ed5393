"""Model names are unique under case folding and Unicode normalisation: no two share storage."""

from __future__ import annotations

import pytest

from modelyard.artifacts import ArtifactRef
from modelyard.errors import InputError, IntegrityError, NotFoundError
from modelyard.registry import Registry
from modelyard.registry._names import claim_key, fold
from modelyard.storage import MemoryStore, Store

from ._tamper import CaseInsensitiveStore, edit_json, event_key, read_json


def _contents(store: Store, prefix: str) -> dict[str, bytes]:
    return {key: store.read(key) for key in store.list(prefix)}


def test_fold_is_nfkc_then_casefold() -> None:
    assert fold("Churn") == fold("CHURN") == "churn"
    assert fold("\uff23hurn") == "churn"  # fullwidth C
    assert fold("Stra\u00dfe") == fold("STRASSE")  # sharp s folds to ss
    assert claim_key("Churn") == "models/_names/churn"
    assert claim_key("a\uff0fb").startswith("models/_names/sha256-")  # fullwidth solidus -> "/"


def test_a_name_that_folds_like_an_existing_one_is_refused_naming_it(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    registry.register("churn", model_ref)
    before = registry.store.list()
    for name in ("Churn", "CHURN", "cHuRn"):
        with pytest.raises(InputError, match="model 'churn' exists") as info:
            registry.register(name, model_ref)
        assert info.value.existing == "churn"
        assert registry.store.list() == before
    with pytest.raises(NotFoundError, match="did you mean 'churn'"):
        registry.resolve("Churn@latest")


def test_on_a_case_insensitive_filesystem_churn_and_Churn_never_share_a_log(
    model_ref: ArtifactRef,
) -> None:
    store = CaseInsensitiveStore()
    registry = Registry(store, actor="ana")
    ref = registry.artifacts.put(b"m", name="m")
    registry.register("churn", ref)
    assert store.read("models/CHURN/log/000000000001.json")  # one folder, as on macOS
    log = _contents(store, "models/churn/")
    other = Registry(store, actor="lee")  # a process that has never seen churn
    with pytest.raises(InputError, match="model 'churn' exists"):
        other.register("Churn", ref)
    with pytest.raises(NotFoundError, match="Use 'churn'"):
        other.resolve("Churn@latest")
    assert _contents(store, "models/churn/") == log
    assert other.resolve("churn@latest").version == 1


def test_names_of_models_registered_before_claims_are_still_found(
    registry: Registry, model_ref: ArtifactRef
) -> None:
    registry.register("Churn", model_ref)
    registry.store.delete(claim_key("Churn"))  # as in a yard written before names were claimed
    fresh = Registry(registry.store)
    assert fresh.resolve("Churn@latest").version == 1
    with pytest.raises(InputError, match="model 'Churn' exists"):
        fresh.register("churn", model_ref)  # the listed spelling keeps the name
    assert fresh.register("Churn", model_ref).version == 2
    assert read_json(registry.store, claim_key("churn")) == {"name": "Churn", "schema_version": 1}


def test_a_damaged_name_claim_is_an_integrity_error() -> None:
    store = MemoryStore()
    registry = Registry(store)
    ref = registry.artifacts.put(b"m", name="m")
    store.write(claim_key("churn"), b"{}")
    with pytest.raises(IntegrityError, match="not a valid name claim") as info:
        registry.register("churn", ref)
    assert info.value.key == "models/_names/churn"
    edit_json(store, claim_key("churn"), lambda doc: doc.update(schema_version=2, name="churn"))
    with pytest.raises(IntegrityError, match="newer modelyard"):
        Registry(store).register("churn", ref)
    assert not store.exists(event_key("churn", 1))
