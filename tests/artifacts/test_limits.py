"""Sizes read from stored bytes are checked against those bytes before anything is allocated."""

from __future__ import annotations

import io
import json
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import modelyard.drift as drift
from modelyard.artifacts import ArtifactStore
from modelyard.errors import CodecError
from tests.artifacts._crafted import plant

MIB = 1024 * 1024


def _peak_mib(call: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        call()
    except CodecError:
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak / MIB


def _npy_header(shape: tuple[int, ...], descr: str = "<f8", version: int = 1) -> bytes:
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    if version == 1:
        np.lib.format.write_array_header_1_0(buffer, header)
    else:
        np.lib.format.write_array_header_2_0(buffer, header)
    return buffer.getvalue()


@pytest.mark.parametrize("version", [1, 2])
def test_an_npy_header_cannot_ask_for_more_than_its_bytes(
    mem_artifacts: ArtifactStore, version: int
) -> None:
    # 64 bytes of header and 16 of data that claim a 256 MiB array.
    crafted = _npy_header((1 << 25,), version=version) + bytes(16)
    artifact = plant(mem_artifacts.store, crafted, media_type="application/x-npy", codec="numpy")
    with pytest.raises(CodecError, match="describes 268435456 bytes of data"):
        mem_artifacts.get(artifact)
    assert _peak_mib(lambda: mem_artifacts.get(artifact)) < 16


@pytest.mark.parametrize(
    "blob",
    [
        b"not npy at all",
        b"\x93NUMPY\x01\x00\xff\xff",  # a header longer than the bytes
        b"\x93NUMPY\x07\x00\x00\x00",  # an unknown version
        _npy_header((2, 2))[:-8] + b"{'x': 1}" + bytes(32),  # a header that is not one
        _npy_header((3,)) + bytes(25),  # one byte too many
    ],
)
def test_malformed_npy_is_a_codec_error(mem_artifacts: ArtifactStore, blob: bytes) -> None:
    artifact = plant(mem_artifacts.store, blob, media_type="application/x-npy", codec="numpy")
    with pytest.raises(CodecError, match=r"not a valid \.npy"):
        mem_artifacts.get(artifact)


def _profile_bytes(**settings: Any) -> bytes:
    """A real 3-column profile of 100 rows, its recorded settings changed as given."""
    rng = np.random.default_rng(3)
    data = rng.normal(size=(100, 3))
    data[::4, :] = np.nan  # every column has missing values, so the sample has padding
    stream = pa.ipc.open_stream(pa.py_buffer(drift.profile(data).to_bytes()))
    table = stream.read_all()
    recorded = json.loads(table.schema.metadata[b"modelyard"])
    recorded.update(settings)
    table = table.replace_schema_metadata({"modelyard": json.dumps(recorded)})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _plant_profile(artifacts: ArtifactStore, blob: bytes) -> str:
    return plant(
        artifacts.store,
        blob,
        media_type=drift.DriftProfile.media_type,
        codec="self-describing",
        codec_params={"type": "modelyard.drift-profile"},
    )


def test_a_small_profile_artifact_cannot_ask_for_a_32_gb_sample(
    mem_artifacts: ArtifactStore,
) -> None:
    crafted = _profile_bytes(sample_rows=1 << 30)  # 2**30 rows x 3 columns x 8 bytes = 24 GiB
    assert len(crafted) < 8_000
    artifact = _plant_profile(mem_artifacts, crafted)
    with pytest.raises(CodecError, match="sample of 1073741824 rows"):
        mem_artifacts.get(artifact)


def test_the_sample_is_sized_by_the_stored_values_whatever_the_settings_say(
    mem_artifacts: ArtifactStore,
) -> None:
    # Settings that agree with each other (as many rows as sample rows) still cannot make the
    # reader allocate for values that are not there.
    crafted = _profile_bytes(sample_rows=1 << 25, rows=1 << 25)
    artifact = _plant_profile(mem_artifacts, crafted)
    assert _peak_mib(lambda: mem_artifacts.get(artifact)) < 32
    profile = mem_artifacts.get(artifact)
    assert profile.sample.shape == (75, 3) and profile.rows == 1 << 25


def test_profiles_round_trip_through_their_bytes_without_padding() -> None:
    original = drift.DriftProfile.from_bytes(_profile_bytes())
    rng = np.random.default_rng(3)
    data = rng.normal(size=(100, 3))
    data[::4, :] = np.nan
    profile = drift.profile(data)
    assert profile.sample.shape == (100, 3)  # padded to the row count in memory
    assert original == profile and original.sample.shape == (75, 3)
    assert original.to_bytes() == profile.to_bytes()
    assert (
        drift.compare(original, data).to_pandas().equals(drift.compare(profile, data).to_pandas())
    )


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"edge_count": 1 << 40}, "lengths it records"),
        ({"bins": 0}, "setting 'bins'"),
        ({"rows": -1}, "setting 'rows'"),
        ({"sample_rows": "many"}, "setting 'sample_rows'"),
        ({"binning": "magic"}, "binning"),
        ({"sample_size": 1}, "setting 'sample_size'"),
    ],
)
def test_inconsistent_profile_settings_are_refused(settings: dict[str, Any], match: str) -> None:
    with pytest.raises(CodecError, match=match):
        drift.DriftProfile.from_bytes(_profile_bytes(**settings))


def test_a_profile_whose_lists_disagree_with_its_counts_is_refused() -> None:
    table = pa.ipc.open_stream(pa.py_buffer(_profile_bytes())).read_all()
    counts = table.column("sample_count").to_pylist()
    counts[0] += 1_000_000
    index = table.schema.get_field_index("sample_count")
    table = table.set_column(index, "sample_count", pa.array(counts, type=pa.int64()))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    with pytest.raises(CodecError, match="lengths it records"):
        drift.DriftProfile.from_bytes(bytes(sink.getvalue().to_pybytes()))


def test_an_array_inside_a_skops_model_cannot_ask_for_more_than_its_bytes(
    mem_artifacts: ArtifactStore,
) -> None:
    pytest.importorskip("skops")
    import zipfile

    from sklearn.preprocessing import StandardScaler

    ref = mem_artifacts.put(StandardScaler().fit(np.arange(10.0).reshape(5, 2)))
    original = mem_artifacts.store.read(f"blobs/sha256/{ref.digest[7:9]}/{ref.digest[9:]}")
    crafted = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(original)) as source,
        zipfile.ZipFile(crafted, "w") as target,
    ):
        for name in source.namelist():
            member = source.read(name)
            if name.endswith(".npy"):
                member = _npy_header((1 << 25,)) + bytes(16)  # claims 256 MiB
            target.writestr(name, member)
    artifact = plant(
        mem_artifacts.store,
        crafted.getvalue(),
        media_type="application/vnd.skops",
        codec="sklearn",
        codec_params={"format": "skops"},
    )
    with pytest.raises(CodecError, match="not a valid skops file"):
        mem_artifacts.get(artifact)
    assert _peak_mib(lambda: mem_artifacts.get(artifact)) < 16
