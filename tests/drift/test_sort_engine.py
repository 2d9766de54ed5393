"""The row sort is the faster of NumPy's and the compiled one on this machine, or the one asked
for; both give the same order."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from modelyard.drift import _binning


def _engine_in_child(value: str) -> str:
    env = {"MODELYARD_SORT": value}
    code = "from modelyard.drift._binning import sort_engine; print(sort_engine())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or out.stderr.strip().splitlines()[-1]


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "MODELYARD_SORT"}


@pytest.mark.slow
@pytest.mark.skipif(_binning._native is None, reason="built without the compiled extension")
def test_the_environment_chooses_the_sort() -> None:
    assert _engine_in_child("numpy") == "numpy"
    assert _engine_in_child("native") == "native"
    assert _engine_in_child("auto") in ("numpy", "native")
    assert "MODELYARD_SORT must be numpy, native or auto" in _engine_in_child("quick")


@pytest.mark.skipif(_binning._native is None, reason="built without the compiled extension")
def test_auto_keeps_the_faster_sort_as_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    timings = _binning.time_sorts(rows=4, length=4096, repeat=1)
    assert set(timings) == {"numpy", "native"} and all(t > 0 for t in timings.values())
    for faster in ("numpy", "native"):
        slower = "native" if faster == "numpy" else "numpy"
        measured = {faster: 5e-9, slower: 2e-8}
        monkeypatch.setattr(_binning, "time_sorts", lambda measured=measured, **_: measured)
        assert _binning._choose_engine("auto") == faster
        assert _binning._choose_engine("") == faster
    assert _binning._choose_engine("numpy") == "numpy"  # asked for: not timed


@pytest.mark.skipif(_binning._native is None, reason="built without the compiled extension")
def test_both_sorts_give_the_same_rows() -> None:
    rng = np.random.default_rng(3)
    data = rng.normal(size=(6, 5000))
    data[0, ::7] = np.nan
    data[1] = np.round(data[1], 1)  # ties
    data[2, :10] = [np.inf, -np.inf, 0.0, -0.0, 1e-300, -1e-300, 5, 5, np.nan, 0]
    by_numpy, by_native = data.copy(), data.copy()
    by_numpy.sort(axis=1)
    _binning._native.sort_rows(by_native)
    np.testing.assert_array_equal(by_numpy, by_native)
