"""Self-describing artifacts: only registered types load; no manifest chooses code to import."""

from __future__ import annotations

import importlib.metadata
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

import modelyard.drift as drift
from modelyard.artifacts import (
    ArtifactStore,
    CodecPluginWarning,
    _types,
    register_type,
    registered_types,
)
from modelyard.errors import CodecError, InputError, UnsupportedObjectError
from tests.artifacts._crafted import plant
from tests.artifacts._selfdescribing import Histogram, NotReally


@pytest.fixture(autouse=True)
def isolated_types(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by a test stay in that test."""
    monkeypatch.setattr(_types, "_by_name", dict(_types._by_name))
    monkeypatch.setattr(_types, "_name_of", dict(_types._name_of))
    monkeypatch.setattr(_types, "_loaded_all", _types._loaded_all)


def _recording_module(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A module that leaves a file behind when it is imported, on sys.path."""
    name = f"planted_{uuid.uuid4().hex}"
    marker = folder / f"{name}.imported"
    (folder / f"{name}.py").write_text(
        "import pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text('ran')\n"
        "class Thing:\n"
        "    media_type = 'x/y'\n"
        "    def to_bytes(self): return b''\n"
        "    @classmethod\n"
        "    def from_bytes(cls, data): return cls()\n"
    )
    monkeypatch.syspath_prepend(str(folder))
    return name, marker


def test_registered_type_round_trips_under_its_name(mem_artifacts: ArtifactStore) -> None:
    register_type(Histogram, name="test.histogram")
    histogram = Histogram([0.0, 1.0, 2.0], [3, 4])
    ref = mem_artifacts.put(histogram, name="hist")
    manifest = mem_artifacts.manifest(ref)
    assert manifest.codec == "self-describing"
    assert manifest.codec_params == {"type": "test.histogram"}
    assert ref.media_type == Histogram.media_type
    assert mem_artifacts.get(ref) == histogram
    assert registered_types()["test.histogram"] is Histogram


def test_an_unregistered_type_is_refused_at_put_before_anything_is_written(
    mem_artifacts: ArtifactStore,
) -> None:
    with pytest.raises(UnsupportedObjectError, match="register_type"):
        mem_artifacts.put(Histogram([0.0], []))
    assert [k for k in mem_artifacts.store.list("") if not k.startswith("leases/")] == []


@pytest.mark.parametrize("trusted", [False, True])
@pytest.mark.parametrize("spelling", ["{module}:Thing", "{module}"])
def test_a_manifest_naming_a_module_never_imports_it(
    mem_artifacts: ArtifactStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    trusted: bool,
    spelling: str,
) -> None:
    module, marker = _recording_module(tmp_path, monkeypatch)
    artifact = plant(
        mem_artifacts.store,
        b"",
        media_type="x/y",
        codec="self-describing",
        codec_params={"type": spelling.format(module=module)},
    )
    with pytest.raises(CodecError, match="not registered") as caught:
        mem_artifacts.get(artifact, trusted=trusted)
    assert "register_type" in str(caught.value)
    assert not marker.exists() and module not in sys.modules


def test_entry_point_lookup_loads_only_what_installed_packages_declare(
    mem_artifacts: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, marker = _recording_module(tmp_path, monkeypatch)
    declared = importlib.metadata.EntryPoint(
        name="test.histogram",
        value="tests.artifacts._selfdescribing:Histogram",
        group=_types.TYPE_ENTRY_POINT_GROUP,
    )
    monkeypatch.setattr(_types, "entry_points", lambda group: [declared])
    monkeypatch.setattr(_types, "_loaded_all", False)
    # An old-style path that is not declared anywhere, and a name that no entry point has.
    for recorded in (f"{module}:Thing", module):
        artifact = plant(
            mem_artifacts.store,
            b"",
            media_type="x/y",
            codec="self-describing",
            codec_params={"type": recorded},
        )
        with pytest.raises(CodecError, match="not registered"):
            mem_artifacts.get(artifact)
    assert not marker.exists() and module not in sys.modules
    # The declared type loads, under its entry point name, and puts record that name.
    ref = mem_artifacts.put(Histogram([1.0], [2]))
    assert mem_artifacts.manifest(ref).codec_params == {"type": "test.histogram"}
    assert mem_artifacts.get(ref) == Histogram([1.0], [2])


def test_a_broken_type_plugin_warns_and_stays_unloadable(
    mem_artifacts: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = importlib.metadata.EntryPoint(
        name="test.broken", value="no_such_module_xyz:Thing", group=_types.TYPE_ENTRY_POINT_GROUP
    )
    monkeypatch.setattr(_types, "entry_points", lambda group: [broken])
    artifact = plant(
        mem_artifacts.store,
        b"",
        media_type="x/y",
        codec="self-describing",
        codec_params={"type": "test.broken"},
    )
    with pytest.warns(CodecPluginWarning, match="test.broken"), pytest.raises(CodecError):
        mem_artifacts.get(artifact)


def test_artifacts_written_before_registration_load_through_the_registered_class(
    mem_artifacts: ArtifactStore,
) -> None:
    # Earlier versions recorded the import path; it is matched, not imported.
    legacy = plant(
        mem_artifacts.store,
        Histogram([0.5], [1]).to_bytes(),
        media_type=Histogram.media_type,
        codec="self-describing",
        codec_params={"type": "tests.artifacts._selfdescribing:Histogram"},
    )
    with pytest.raises(CodecError, match="not registered"):
        mem_artifacts.get(legacy)
    register_type(Histogram, name="test.histogram")
    assert mem_artifacts.get(legacy) == Histogram([0.5], [1])


def test_drift_profiles_are_registered_and_old_profile_artifacts_still_load(
    mem_artifacts: ArtifactStore,
) -> None:
    profile = drift.profile(np.random.default_rng(1).normal(size=(200, 2)))
    ref = mem_artifacts.put(profile, name="reference")
    assert mem_artifacts.manifest(ref).codec_params == {"type": "modelyard.drift-profile"}
    assert mem_artifacts.get(ref) == profile
    # What the previous version wrote: the class's import path.
    legacy = plant(
        mem_artifacts.store,
        profile.to_bytes(),
        media_type=profile.media_type,
        codec="self-describing",
        codec_params={"type": "modelyard.drift._profile:DriftProfile"},
    )
    assert mem_artifacts.get(legacy) == profile


def test_a_registered_class_that_lost_the_protocol_is_not_called(
    mem_artifacts: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_type(Histogram, name="test.histogram")
    ref = mem_artifacts.put(Histogram([0.0], []))
    monkeypatch.setattr(Histogram, "from_bytes", None)
    with pytest.raises(CodecError, match="no longer has"):
        mem_artifacts.get(ref)


def test_register_type_refuses_what_it_cannot_load() -> None:
    class Local(Histogram):
        pass

    with pytest.raises(InputError, match="module level"):
        register_type(Local)
    with pytest.raises(InputError, match="not a self-describing class"):
        register_type(NotReally)
    with pytest.raises(InputError, match="type name"):
        register_type(Histogram, name=" spaced ")
    register_type(Histogram, name="test.taken")
    with pytest.raises(InputError, match="already registered"):
        register_type(drift.DriftProfile, name="test.taken")
    assert register_type(drift.DriftProfile, name="test.taken", clobber=True) is drift.DriftProfile
    assert registered_types()["test.taken"] is drift.DriftProfile
