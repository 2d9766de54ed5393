"""The engines are optional: neither ``import modelyard.drift`` nor importing the engine modules
imports Dask or Spark; only a call does."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_engine_modules_imports_no_engine() -> None:
    code = (
        "import sys, modelyard.drift, modelyard.drift.dask, modelyard.drift.spark;"
        "print(','.join(m for m in ('dask', 'distributed', 'pyspark') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
