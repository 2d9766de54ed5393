"""The ``test`` extra (and so ``dev``) resolves at once: boto3 (from moto) is held in the botocore
window that aiobotocore (from s3fs) accepts, so pip never backtracks through boto3 and botocore
releases."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

tomllib = pytest.importorskip("tomllib", reason="tomllib arrived in Python 3.11")

ROOT = Path(__file__).resolve().parents[1]


def _dev_requirement(name: str) -> Requirement:
    with (ROOT / "pyproject.toml").open("rb") as file:
        extras = tomllib.load(file)["project"]["optional-dependencies"]
    found = [Requirement(line) for line in extras["test"] if Requirement(line).name == name]
    assert found, f"the test extra does not constrain {name}"
    return found[0]


def _bounds(specifier: SpecifierSet) -> tuple[Version, Version]:
    lower = [Version(s.version) for s in specifier if s.operator == ">="]
    upper = [Version(s.version) for s in specifier if s.operator == "<"]
    assert len(lower) == 1 and len(upper) == 1, f"{specifier} is not a window >=a,<b"
    return lower[0], upper[0]


def test_boto3_is_held_in_the_botocore_window_of_the_pinned_aiobotocore() -> None:
    try:
        installed = importlib.metadata.version("aiobotocore")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("aiobotocore is not installed (the s3 extra)")
    assert installed in _dev_requirement("aiobotocore").specifier
    botocore = next(
        Requirement(line)
        for line in importlib.metadata.requires("aiobotocore") or []
        if Requirement(line).name == "botocore" and Requirement(line).marker is None
    )
    # boto3 X.Y.Z needs botocore X.Y.Z or newer (below X.Y+1), so the boto3 window must lie
    # within the botocore window.
    boto3_low, boto3_high = _bounds(_dev_requirement("boto3").specifier)
    botocore_low, botocore_high = _bounds(botocore.specifier)
    assert botocore_low <= boto3_low and boto3_high <= botocore_high
    assert importlib.metadata.version("boto3") in _dev_requirement("boto3").specifier
