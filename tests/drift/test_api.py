"""The public surface of modelyard.drift: names, import cost, the profile protocol."""

from __future__ import annotations

import subprocess
import sys

import modelyard.drift as drift


def test_public_names() -> None:
    assert drift.__all__ == sorted(drift.__all__)
    for name in (
        "profile",
        "compare",
        "merge",
        "DriftProfile",
        "DriftReport",
        "DriftWarning",
        "DriftConfig",
        "PRESETS",
        "kernels",
    ):
        assert hasattr(drift, name)
    assert issubclass(drift.DriftWarning, UserWarning)
    assert set(drift.PRESETS) == {"modelyard", "evidently", "nannyml"}
    for name in drift.kernels.__all__:
        assert callable(getattr(drift.kernels, name))


def test_import_does_not_load_heavy_libraries() -> None:
    code = (
        "import sys, modelyard.drift, modelyard.drift.kernels;"
        "print(sorted(m for m in ('pandas', 'scipy', 'pyarrow', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_self_describing_protocol() -> None:
    import numpy as np

    p = drift.profile(np.arange(20.0).reshape(10, 2))
    assert isinstance(type(p).media_type, str)
    assert type(p).from_bytes(p.to_bytes()) == p
