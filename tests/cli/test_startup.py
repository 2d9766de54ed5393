"""The command line starts without the heavy libraries: ``--help`` and ``registry resolve``
(the step a deploy script runs) never import NumPy, pandas, SciPy or scikit-learn."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import modelyard as my

HEAVY = ("numpy", "pandas", "scipy", "sklearn")


def _imported(
    *args: str, yard: Path | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -X importtime -m modelyard *args``; return the run and every module it
    imported (importtime writes one line per module to stderr)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MODELYARD_YARD", "MODELYARD_ACTOR")}
    if yard is not None:
        env["MODELYARD_YARD"] = str(yard)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "modelyard", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    return done, modules


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_help_imports_no_heavy_library() -> None:
    done, modules = _imported("--help")
    assert done.returncode == 0 and "registry" in done.stdout
    assert "modelyard.cli._app" in modules  # the measurement saw the command line's imports
    assert _heavy(modules) == []


@pytest.mark.parametrize("ref", ["models:/churn@champion", "churn/1"])
def test_registry_resolve_imports_no_heavy_library(tmp_path: Path, ref: str) -> None:
    yard = my.open_yard(tmp_path / "yard")
    mv = yard.registry.register("churn", b"weights", actor="ana")
    yard.registry.set_alias("churn", "champion", 1, actor="ana")
    done, modules = _imported("registry", "resolve", ref, yard=tmp_path / "yard")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["churn/1", mv.artifact]
    assert "modelyard.registry" in modules
    assert _heavy(modules) == []
