"""Every built-in codec round-trips, is chosen by type, and refuses what it must refuse."""

from __future__ import annotations

import hashlib
import importlib.metadata
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from modelyard.artifacts import (
    ArtifactStore,
    Encoded,
    Payload,
    _registry,
    register_codec,
    registered_codecs,
)
from modelyard.errors import (
    CodecError,
    InputError,
    NotFoundError,
    UnsupportedObjectError,
    UntrustedLoadError,
)
from modelyard.testing import FakeClock


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "x": rng.normal(size=50),
            "n": rng.integers(0, 9, size=50),
            "c": pd.Categorical(rng.choice(["a", "b", "c"], size=50)),
            "s": [f"row{i}" for i in range(50)],
        },
        index=pd.Index(range(100, 150), name="id"),
    )


@pytest.mark.parametrize(
    "value",
    [None, True, 3, 2.5, "héllo", [1, "a", None], {"a": {"b": [1.5, 2]}}, []],
)
def test_json_values_round_trip(mem_artifacts: ArtifactStore, value: Any) -> None:
    ref = mem_artifacts.put(value)
    assert mem_artifacts.manifest(ref).codec == "json"
    assert mem_artifacts.get(ref) == value


def test_tuples_come_back_as_lists(mem_artifacts: ArtifactStore) -> None:
    assert mem_artifacts.get(mem_artifacts.put({"t": (1, 2)})) == {"t": [1, 2]}


def test_bytes_round_trip_and_digest_is_sha256(mem_artifacts: ArtifactStore) -> None:
    data = bytes(range(256)) * 10
    ref = mem_artifacts.put(bytearray(data))
    assert ref.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert ref.size == len(data)
    assert mem_artifacts.get(ref) == data


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=np.int32).reshape(3, 4),
        np.linspace(0, 1, 7),
        np.array([[1 + 2j]]),
        np.zeros((0, 3)),
        np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    ],
)
def test_numpy_round_trip(mem_artifacts: ArtifactStore, array: np.ndarray) -> None:
    ref = mem_artifacts.put(array)
    assert mem_artifacts.manifest(ref).codec == "numpy"
    back = mem_artifacts.get(ref)
    assert back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)


def test_numpy_object_arrays_are_refused(mem_artifacts: ArtifactStore) -> None:
    with pytest.raises(UnsupportedObjectError):
        mem_artifacts.put(np.array([{"a": 1}], dtype=object))


def test_pandas_round_trip_keeps_index_and_dtypes(mem_artifacts: ArtifactStore) -> None:
    frame = _frame()
    ref = mem_artifacts.put(frame)
    manifest = mem_artifacts.manifest(ref)
    assert (manifest.codec, manifest.media_type) == ("pandas", "application/vnd.apache.parquet")
    assert set(manifest.environment.packages) >= {"pandas", "pyarrow", "modelyard"}
    assert manifest.environment.packages["pandas"] == importlib.metadata.version("pandas")
    pd.testing.assert_frame_equal(mem_artifacts.get(ref), frame)


def test_equal_frames_give_equal_bytes(mem_artifacts: ArtifactStore, clock: FakeClock) -> None:
    first = mem_artifacts.put(_frame())
    clock.advance(seconds=1)
    second = mem_artifacts.put(_frame().copy())
    assert first.digest == second.digest
    assert first.id != second.id  # two versions (created at different times), one blob
    blobs = [k for k in mem_artifacts.store.list("blobs/")]
    assert len(blobs) == 1


def test_arrow_round_trip(mem_artifacts: ArtifactStore) -> None:
    table = pa.table({"a": [1, 2, None], "b": ["x", "y", "z"]})
    ref = mem_artifacts.put(table)
    assert mem_artifacts.manifest(ref).codec == "arrow"
    assert mem_artifacts.get(ref).equals(table)


def test_file_round_trip(mem_artifacts: ArtifactStore, tmp_path: Path) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(b"\x00\x01" * 5000)
    ref = mem_artifacts.put(source, name="weights")
    out = mem_artifacts.get(ref, dest=tmp_path / "out")
    assert out == tmp_path / "out" / "weights.bin"
    assert out.read_bytes() == source.read_bytes()
    # A second get into the same folder refuses to overwrite.
    with pytest.raises(InputError, match="already exists"):
        mem_artifacts.get(ref, dest=tmp_path / "out")
    # Without dest, a new temp folder each time.
    assert mem_artifacts.get(ref).read_bytes() == source.read_bytes()


def test_sklearn_round_trip_with_skops(mem_artifacts: ArtifactStore) -> None:
    pytest.importorskip("skops")
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    model = LogisticRegression().fit(x, y)
    ref = mem_artifacts.put(model)
    manifest = mem_artifacts.manifest(ref)
    assert manifest.codec == "sklearn"
    assert manifest.codec_params == {"format": "skops"}
    assert "scikit-learn" in manifest.environment.packages
    back = mem_artifacts.get(ref)  # no trusted=True needed: skops loads allow-listed types only
    np.testing.assert_array_equal(back.predict_proba(x), model.predict_proba(x))


def test_sklearn_without_skops_is_pickled_and_needs_trust(
    mem_artifacts: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.preprocessing import StandardScaler

    monkeypatch.setitem(__import__("sys").modules, "skops.io", None)  # import now fails
    scaler = StandardScaler().fit(np.arange(10.0).reshape(5, 2))
    ref = mem_artifacts.put(scaler)
    assert mem_artifacts.manifest(ref).codec_params == {"format": "pickle"}
    with pytest.raises(UntrustedLoadError, match="trusted=True"):
        mem_artifacts.get(ref)
    back = mem_artifacts.get(ref, trusted=True)
    np.testing.assert_array_equal(back.mean_, scaler.mean_)


@pytest.mark.parametrize("codec", ["pickle", "joblib"])
def test_pickle_and_joblib_only_when_named_and_trusted(
    mem_artifacts: ArtifactStore, codec: str
) -> None:
    value = {"when": complex(1, 2), "set": {1, 2}}
    with pytest.raises(UnsupportedObjectError):
        mem_artifacts.put(value)  # never chosen automatically
    ref = mem_artifacts.put(value, codec=codec, name="thing")
    with pytest.raises(UntrustedLoadError) as caught:
        mem_artifacts.get(ref)
    assert "trusted=True" in str(caught.value) and "thing" in str(caught.value)
    assert isinstance(caught.value, PermissionError)
    assert mem_artifacts.get(ref, trusted=True) == value


def test_unsupported_object_lists_codecs_and_how_to_register(
    mem_artifacts: ArtifactStore,
) -> None:
    with pytest.raises(UnsupportedObjectError) as caught:
        mem_artifacts.put(object())
    error = caught.value
    assert isinstance(error, TypeError)
    assert set(error.available) >= {"json", "numpy", "pandas", "pickle", "sklearn"}
    assert "register_codec" in str(error) and "modelyard.codecs" in str(error)
    assert mem_artifacts.store.list("") == []  # nothing written


def test_unknown_codec_name(mem_artifacts: ArtifactStore) -> None:
    with pytest.raises(NotFoundError, match="no codec named 'nope'"):
        mem_artifacts.put(1, codec="nope")


class _Upper:
    """Stores strings upper-cased: a codec that overrides the built-in JSON one for str."""

    name = "test-upper"

    def can_encode(self, obj: Any) -> bool:
        return isinstance(obj, str) and obj.startswith("up:")

    def encode(self, obj: Any) -> Encoded:
        return Encoded("text/plain", obj.upper().encode(), params={"v": 1})

    def decode(self, payload: Payload, *, trusted: bool) -> Any:
        return payload.read().decode().lower()


def test_registered_codec_is_asked_first(
    mem_artifacts: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_registry, "_codecs", dict(_registry._codecs))
    register_codec(_Upper())
    assert next(iter(registered_codecs())) == "test-upper"
    ref = mem_artifacts.put("up:abc")
    assert mem_artifacts.manifest(ref).codec_params == {"v": 1}
    assert mem_artifacts.store.read(f"blobs/sha256/{ref.digest[7:9]}/{ref.digest[9:]}") == b"UP:ABC"
    assert mem_artifacts.get(ref) == "up:abc"
    assert mem_artifacts.manifest(mem_artifacts.put("plain")).codec == "json"
    with pytest.raises(InputError, match="already registered"):
        register_codec(_Upper())
    with pytest.raises(InputError, match="not a codec"):
        register_codec(object())  # type: ignore[arg-type]


def test_codec_plugins_load_from_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    good = importlib.metadata.EntryPoint(
        name="upper", value="tests.artifacts.test_codecs:_Upper", group="modelyard.codecs"
    )
    broken = importlib.metadata.EntryPoint(
        name="broken", value="no_such_module_xyz:Codec", group="modelyard.codecs"
    )
    real = importlib.metadata.entry_points

    def entry_points(**kwargs: Any) -> Any:
        if kwargs.get("group") == "modelyard.codecs":
            return [good, broken]
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    monkeypatch.setattr(_registry, "_codecs", {})
    monkeypatch.setattr(_registry, "_builtins_loaded", False)
    monkeypatch.setattr(_registry, "_plugins_loaded", False)
    with pytest.warns(_registry.CodecPluginWarning, match="broken"):
        codecs = registered_codecs()
    assert "test-upper" in codecs and "json" in codecs


def test_encoder_failure_is_a_codec_error_and_writes_nothing(
    mem_artifacts: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Exploding:
        def __reduce__(self) -> Any:
            raise RuntimeError("boom")

    with pytest.raises(CodecError, match="boom"):
        mem_artifacts.put(Exploding(), codec="pickle")
    assert [k for k in mem_artifacts.store.list("") if not k.startswith("leases/")] == []
    assert pickle.HIGHEST_PROTOCOL >= 5
