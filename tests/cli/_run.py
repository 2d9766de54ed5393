"""Run the installed ``modelyard`` console script in a subprocess, as a pipeline would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest


def console_script() -> str:
    """The ``modelyard`` script installed beside this interpreter (skips if it is not there)."""
    here = Path(sys.executable).parent / "modelyard"
    found = str(here) if here.exists() else shutil.which("modelyard")
    if found is None:
        pytest.skip("the modelyard console script is not installed (pip install -e .)")
    return found


def run(
    *args: str,
    yard: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    cwd: str | Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``modelyard *args`` with ``MODELYARD_YARD`` set to ``yard``; never raises on exit codes."""
    # The caller's own actor and yard must not leak into a test; each test says what it uses.
    environment = {
        k: v for k, v in os.environ.items() if k not in ("MODELYARD_ACTOR", "MODELYARD_YARD")
    }
    environment.update({"MODELYARD_PROGRESS": "0", **(env or {})})
    if yard is not None:
        environment["MODELYARD_YARD"] = str(yard)
    return subprocess.run(
        [console_script(), *args],
        env=environment,
        input=input,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_json(*args: str, **kwargs: Any) -> tuple[int, Any]:
    """``modelyard *args --json``: the exit code and stdout's one JSON document."""
    done = run(*args, "--json", **kwargs)
    try:
        return done.returncode, json.loads(done.stdout)
    except json.JSONDecodeError as error:
        raise AssertionError(
            f"stdout is not one JSON document (exit {done.returncode}):\n{done.stdout}\n"
            f"stderr:\n{done.stderr}"
        ) from error


def run_on_terminal(*args: str, yard: str | Path) -> tuple[int, bytes]:
    """``modelyard *args`` with stderr on a pseudo-terminal (where progress bars are drawn): the
    exit code and what was drawn there."""
    import pty

    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "MODELYARD_PROGRESS"}
    environment["MODELYARD_YARD"] = str(yard)
    done = subprocess.run(
        [console_script(), *args],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=environment,
        timeout=120,
        check=False,
    )
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal's other end is closed: all was read
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    return done.returncode, drawn
