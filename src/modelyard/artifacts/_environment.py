"""The producing environment recorded in each manifest."""

from __future__ import annotations

import functools
import platform
from collections.abc import Iterable
from importlib import metadata

from modelyard.artifacts._manifest import Environment

__all__ = ["environment"]


@functools.lru_cache(maxsize=256)
def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def environment(packages: Iterable[str]) -> Environment:
    """Python's version plus modelyard's and each named distribution's installed version.

    >>> env = environment(["numpy"])
    >>> sorted(env.packages) == ["modelyard", "numpy"]
    True
    """
    found = {}
    for name in ("modelyard", *packages):
        version = _version(name)
        if version is not None:
            found[name] = version
    return Environment(python=platform.python_version(), packages=found)
