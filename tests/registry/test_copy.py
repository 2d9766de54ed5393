"""Promotion across yards: ``Registry.copy`` between memory, local and S3 yards."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from modelyard.artifacts import ArtifactStore
from modelyard.artifacts._layout import blob_key
from modelyard.errors import (
    CapabilityError,
    InputError,
    IntegrityError,
    InvalidNameError,
    NotFoundError,
    StoreError,
)
from modelyard.lifecycle import Lifecycle, Transition
from modelyard.registry import CopyResult, Provenance, Registry
from modelyard.storage import LocalStore, MemoryStore, Store, StoreCapabilities
from modelyard.testing import FakeClock
from modelyard.yard import open_yard

from .._unprivileged import unprivileged
from . import _workers
from ._tamper import edit_json, read_json


def _store(kind: str, path: Path) -> Store:
    return MemoryStore() if kind == "memory" else LocalStore(path, durable=False)


def _registry(store: Store, actor: str, **options: Any) -> Registry:
    clock = FakeClock()
    return Registry(store, ArtifactStore(store, clock=clock), clock=clock, actor=actor, **options)


@pytest.fixture(params=[("memory", "local"), ("local", "memory"), ("memory", "memory")])
def yards(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Registry, Registry]:
    source_kind, dest_kind = request.param
    return (
        _registry(_store(source_kind, tmp_path / "dev"), "ana"),
        _registry(_store(dest_kind, tmp_path / "prod"), "ci"),
    )


def _develop(dev: Registry) -> int:
    """A model with lineage, promoted to staging in the development yard; its version number."""
    data = dev.artifacts.put({"rows": [1, 2, 3]}, name="churn-train")
    model = dev.artifacts.put({"weights": [0.5]}, name="churn-model", parents=[data])
    dev.register("churn", b"an earlier try")
    mv = dev.register(
        "churn",
        model,
        metrics={"auc": 0.91},
        params={"depth": 4, "grid": {"lr": [0.1, 0.2]}},
        tags={"team": "risk"},
        description="gradient boosting, weekly data",
    )
    dev.transition("churn", mv.version, "staging", reason="offline eval passed")
    return mv.version


def test_a_version_arrives_with_its_artifact_lineage_fields_and_provenance(
    yards: tuple[Registry, Registry],
) -> None:
    dev, prod = yards
    number = _develop(dev)
    source = dev.version("churn", number)

    result = dev.copy(f"churn/{number}", to=prod, actor="lee", reason="release 7")

    assert isinstance(result, CopyResult) and result.created
    mv = result.version
    assert (mv.name, mv.version, mv.state) == ("churn", 1, "development")  # prod's initial state
    assert mv.artifact == source.artifact and mv.lineage == source.lineage
    assert dict(mv.metrics) == {"auc": 0.91} and dict(mv.tags) == {"team": "risk"}
    assert dict(mv.params) == {"depth": 4, "grid": {"lr": [0.1, 0.2]}}
    assert mv.description == "gradient boosting, weekly data"
    assert mv.created_by == "lee"
    where = str(dev.store.root) if isinstance(dev.store, LocalStore) else "memory://"
    model_id = dev._existing("churn").model_id
    assert model_id is not None
    assert mv.provenance == Provenance(where, "churn", model_id, number, source.artifact)
    assert prod.load("churn/1") == {"weights": [0.5]}
    assert prod.artifacts.get("churn-train@latest") == {"rows": [1, 2, 3]}  # the lineage came
    assert result.transfer is not None and result.transfer.closure == 2
    entry = prod.history("churn")[-1]
    assert (entry.kind, entry.actor, entry.reason, entry.version) == (
        "version.copied",
        "lee",
        "release 7",
        1,
    )
    assert entry.data["provenance"]["version"] == number
    moved = result.transfer.bytes
    assert str(result) == f"churn/{number} copied as churn/1 (2 blobs, {moved} bytes moved)"
    # The destination's own log is whole and its artifacts are pinned (gc keeps them).
    assert prod.verify().ok
    prod.artifacts.gc(grace=timedelta(0), dry_run=False, keep_named=False)
    assert prod.load("churn@latest") == {"weights": [0.5]}


def test_a_second_copy_is_a_no_op_that_says_so_even_from_a_fresh_process(
    yards: tuple[Registry, Registry],
) -> None:
    dev, prod = yards
    number = _develop(dev)
    first = dev.copy(f"churn/{number}", to=prod)
    keys = prod.store.list()

    again = dev.copy("churn@latest", to=prod)  # the same version, by another reference
    assert not again.created and again.transfer is None
    assert again.version == first.version
    assert str(again) == f"churn/{number} was already copied as churn/1; nothing was copied"
    # Another registry object on the same stores knows nothing this one cached.
    fresh_dev = Registry(dev.store, ArtifactStore(dev.store), actor="bo")
    fresh_prod = Registry(prod.store, ArtifactStore(prod.store), actor="bo")
    assert not fresh_dev.copy(f"churn/{number}", to=fresh_prod).created
    assert prod.store.list() == keys
    assert [v.version for v in prod.versions("churn")] == [1]
    # Another version of the same model is a new copy.
    assert dev.copy("churn/1", to=prod).version.version == 2


def test_name_renames_and_the_destination_lifecycle_decides_the_initial_state(
    tmp_path: Path,
) -> None:
    dev = _registry(MemoryStore(), "ana")
    gated = Lifecycle(
        states=["candidate", "production", "retired"],
        initial="candidate",
        transitions=[Transition("candidate", "production"), Transition("production", "retired")],
        exclusive={"production": "retired"},
    )
    prod = _registry(LocalStore(tmp_path, durable=False), "ci", lifecycle=gated)
    dev.register("churn", b"weights")
    prod.register("churn-prod", b"something already there")
    result = dev.copy("churn/1", to=prod, name="churn-prod")
    assert result.version.ref == "churn-prod/2" and result.version.state == "candidate"
    assert dev.copy("churn/1", to=prod, name="churn-prod").version.version == 2
    # Promotion in the destination goes through its own lifecycle.
    assert prod.transition("churn-prod", 2, "production").state == "production"


def test_a_copied_version_reads_back_from_a_snapshot(tmp_path: Path) -> None:
    dev = _registry(MemoryStore(), "ana")
    store = LocalStore(tmp_path, durable=False)
    prod = _registry(store, "ci", snapshot_every=2)
    dev.register("churn", b"weights", metrics={"auc": 0.8})
    copied = dev.copy("churn/1", to=prod).version
    prod.set_tag("churn", "owner", "risk")  # event 2: a snapshot is written after it
    assert store.list("models/churn/snapshots/")
    fresh = Registry(store, actor="bo")
    assert fresh.version("churn", 1).provenance == copied.provenance is not None
    assert fresh.verify().ok


def test_a_tampered_source_blob_fails_the_copy_and_nothing_is_registered(
    yards: tuple[Registry, Registry],
) -> None:
    dev, prod = yards
    number = _develop(dev)
    train = dev.artifacts.resolve("churn-train@latest")
    stored = dev.store.read(blob_key(train.digest))
    dev.store.write(blob_key(train.digest), stored[:-1] + b" ")  # same size, other bytes
    with pytest.raises(IntegrityError, match="churn-train"):
        dev.copy(f"churn/{number}", to=prod)
    assert prod.store.list("manifests/") == [] and prod.store.list("models/") == []
    with pytest.raises(NotFoundError):
        prod.versions("churn")


@pytest.mark.parametrize(
    ("ref", "error", "match"),
    [
        ("churn/9", NotFoundError, "version 9 of model 'churn' does not exist"),
        ("nope/1", NotFoundError, "no model named 'nope'"),
        ("churn@champion", NotFoundError, "no alias 'champion'"),
        ("churn/2", InputError, "churn/2 is deleted"),
    ],
)
def test_an_unknown_or_deleted_source_version_is_refused_before_anything_is_written(
    yards: tuple[Registry, Registry], ref: str, error: type[Exception], match: str
) -> None:
    dev, prod = yards
    dev.register("churn", b"v1")
    dev.register("churn", b"v2")
    dev.delete_version("churn", 2)
    with pytest.raises(error, match=match):
        dev.copy(ref, to=prod)
    assert prod.store.list() == []


class _NonAtomic(MemoryStore):
    @property
    def capabilities(self) -> StoreCapabilities:
        return StoreCapabilities(
            atomic_create=False, atomic_write=True, shared_across_processes=False, durable=False
        )


def test_bad_destinations_and_names_are_refused_before_anything_is_written() -> None:
    dev = _registry(MemoryStore(), "ana")
    dev.register("churn", b"weights")
    keys = dev.store.list()
    flat = _NonAtomic()
    with pytest.raises(CapabilityError, match="cannot create keys atomically"):
        dev.copy("churn/1", to=Registry(flat, actor="ci"))
    assert flat.list() == []
    with pytest.raises(InputError, match="into its own store"):
        dev.copy("churn/1", to=Registry(dev.store, actor="ci"))
    here = open_yard("memory://copy-test-same", actor="ana")
    here.registry.register("churn", b"weights")
    with pytest.raises(InputError, match="into its own store"):
        here.registry.copy("churn/1", to=open_yard("memory://copy-test-same"))
    with pytest.raises(InputError, match="destination Registry or yard"):
        dev.copy("churn/1", to="memory://prod")
    prod = _registry(MemoryStore(), "ci")
    with pytest.raises(InvalidNameError):
        dev.copy("churn/1", to=prod, name="../etc")
    with pytest.raises(InputError, match="reason"):
        dev.copy("churn/1", to=prod, reason="bad\x00reason")
    assert prod.store.list() == [] and dev.store.list() == keys
    # A knowingly single-writer destination may opt in, as for any write.
    assert dev.copy("churn/1", to=Registry(flat, actor="ci", allow_non_atomic_create=True)).created


def _copy_into(location: str) -> Any:
    dev = open_yard("memory://copy-test-read-only", actor="ana")
    dev.registry.register("churn", b"weights")
    return dev.registry.copy("churn/1", to=open_yard(location)).created


def test_a_second_store_object_on_the_same_folder_is_the_same_yard(tmp_path: Path) -> None:
    dev = open_yard(tmp_path, actor="ana")
    dev.registry.register("churn", b"weights")
    keys = dev.store.list()
    with pytest.raises(InputError, match="into its own store"):
        dev.registry.copy("churn/1", to=Registry(LocalStore(tmp_path), actor="ci"))
    assert dev.store.list() == keys


def test_a_destination_that_cannot_be_written_fails_with_a_store_error_and_no_data(
    shared_dir: Path,
) -> None:
    folder = shared_dir / "prod"
    open_yard(folder)
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir():
            path.chmod(0o555)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    # Once here first, so the child (which may not read every module) has imported what it needs.
    assert _copy_into("memory://copy-test-warm-up")
    outcome, error = unprivileged(_copy_into, str(folder))
    assert outcome == "raised" and isinstance(error, StoreError), repr(error)
    assert "permission denied" in str(error)
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before


def test_a_gc_in_the_destination_between_transfer_and_registration_keeps_the_copy(
    tmp_path: Path,
) -> None:
    dev = _registry(MemoryStore(), "ana")
    prod_store = LocalStore(tmp_path, durable=False)
    prod = Registry(prod_store, ArtifactStore(prod_store), actor="ci")
    data = dev.artifacts.put(b"rows")
    dev.register("churn", dev.artifacts.put(b"weights", parents=[data]))
    reports = []
    guard = prod.artifacts.reference_guard

    def collect_first(ref: Any) -> Any:
        # The copied artifacts are unnamed and old by created_at: only the copy's lease keeps
        # this gc from collecting them before the version is recorded.
        reports.append(prod.artifacts.gc(grace=timedelta(0), dry_run=False, keep_named=False))
        return guard(ref)

    prod.artifacts.reference_guard = collect_first  # type: ignore[method-assign]
    result = dev.copy("churn/1", to=prod)
    assert reports[0].deferred and not reports[0].artifacts
    prod.artifacts.gc(grace=timedelta(0), dry_run=False, keep_named=False)
    assert prod.load("churn/1") == b"weights" and prod.artifacts.verify().ok
    assert prod.artifacts.lineage(result.version.artifact).ancestors[0].id == data.id


def test_yards_are_accepted_as_destinations(tmp_path: Path) -> None:
    dev = open_yard("memory://copy-test-dev", actor="ana")
    prod = open_yard(tmp_path, actor="ci")
    dev.registry.register("churn", b"weights")
    result = dev.registry.copy("churn@latest", to=prod)
    assert result.version.provenance is not None
    assert result.version.provenance.location == "memory://copy-test-dev"
    assert open_yard(tmp_path, create=False).verify().ok
    stored = read_json(prod.store, "models/churn/log/000000000001.json")
    assert stored["kind"] == "version.copied" and stored["schema_version"] == 3


@pytest.mark.slow
def test_two_processes_copying_one_version_at_once_register_it_once(tmp_path: Path) -> None:
    dev, prod = tmp_path / "dev", tmp_path / "prod"
    source = open_yard(dev, actor="ana")
    data = source.artifacts.put(b"rows" * 100_000, name="churn-train")
    source.registry.register("churn", source.artifacts.put(b"weights", parents=[data]))
    open_yard(prod)
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_workers.copy_version, args=(str(dev), str(prod), w, barrier, queue))
        for w in range(2)
    ]
    for proc in procs:
        proc.start()
    from .test_processes import _gather

    results = sorted(_gather(queue, procs, 2))
    assert all(proc.exitcode == 0 for proc in procs)
    assert sorted(created for _, created, _ in results) == [False, True]
    assert {version for _, _, version in results} == {1}
    target = open_yard(prod, create=False)
    assert [v.version for v in target.registry.versions("churn")] == [1]
    assert target.verify().ok


@pytest.mark.s3
@pytest.mark.slow
def test_copies_to_and_from_s3(s3_url: str, s3_endpoint: str, tmp_path: Path) -> None:
    options = {"endpoint_url": s3_endpoint, "key": "testing", "secret": "testing"}
    local = open_yard(tmp_path, actor="ana")
    s3 = open_yard(s3_url, actor="ci", **options)
    data = local.artifacts.put(b"rows", name="churn-train")
    local.registry.register("churn", local.artifacts.put(b"weights", parents=[data]))
    to_s3 = local.registry.copy("churn/1", to=s3)
    assert to_s3.created and to_s3.transfer is not None and to_s3.transfer.blobs == 2
    assert not local.registry.copy("churn/1", to=open_yard(s3_url, **options)).created
    memory = open_yard("memory://copy-test-from-s3", actor="lee")
    back = open_yard(s3_url, **options).registry.copy("churn/1", to=memory)
    assert back.version.provenance is not None
    assert back.version.provenance.location.startswith("s3://")
    assert memory.registry.load("churn/1") == b"weights"
    assert back.version.artifact == to_s3.version.artifact
    assert memory.verify().ok and open_yard(s3_url, **options).verify().ok


@pytest.mark.parametrize(
    "provenance",
    [None, {"location": "x", "model": "churn", "version": "3", "artifact": "y"}, "churn/3"],
)
def test_a_copied_event_with_a_damaged_provenance_is_refused(provenance: object) -> None:
    dev, prod = _registry(MemoryStore(), "ana"), _registry(MemoryStore(), "ci")
    dev.register("churn", b"weights")
    dev.copy("churn/1", to=prod)
    key = "models/churn/log/000000000001.json"
    edit_json(prod.store, key, lambda doc: doc["data"].update(provenance=provenance))
    with pytest.raises(IntegrityError, match=r"not a valid 'version\.copied' event") as info:
        Registry(prod.store).version("churn", 1)
    assert info.value.key == key


def test_a_copy_that_lands_while_another_is_deciding_wins_and_the_other_returns_it() -> None:
    """The destination's log, read again when the event is decided, settles a race."""
    dev, prod = _registry(MemoryStore(), "ana"), _registry(MemoryStore(), "ci")
    dev.register("churn", b"weights")
    rival = Registry(prod.store, ArtifactStore(prod.store), actor="bo")
    guard = prod.artifacts.reference_guard

    def rival_first(ref: Any) -> Any:
        # After this copy's own look at the destination, before it writes its event.
        assert Registry(dev.store, actor="bo").copy("churn/1", to=rival).created
        return guard(ref)

    prod.artifacts.reference_guard = rival_first  # type: ignore[method-assign]
    result = dev.copy("churn/1", to=prod)
    assert not result.created and result.transfer is not None
    assert result.version.created_by == "bo"
    assert [v.version for v in prod.versions("churn")] == [1]
