"""Public classes and functions say where to import them from, not which file defines them."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping

__all__ = ["defined_in", "publish"]

# The module each published object was defined in: what stored data written before publishing
# named it by (e.g. a self-describing artifact's type path).
_defined_in: dict[object, str] = {}


def publish(package: str, namespace: Mapping[str, object], names: Iterable[str]) -> None:
    """Set ``__module__`` of every class and function named in ``names`` that a private module
    defines to ``package``, so reprs, help() and error messages show the import path users
    write. A name exported by two packages keeps the first public one it was given.

    >>> class Thing: ...
    >>> Thing.__module__ = "modelyard.drift._report"
    >>> publish("modelyard.drift", {"Thing": Thing}, ["Thing"])
    >>> Thing.__module__
    'modelyard.drift'
    """
    for name in names:
        obj = namespace.get(name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        module = obj.__module__
        if module.startswith("modelyard") and any(p.startswith("_") for p in module.split(".")):
            _defined_in[obj] = module
            obj.__module__ = package
            if inspect.isclass(obj):
                _publish_members(obj, module, package)


def _publish_members(cls: type, module: str, package: str) -> None:
    # Doctest finds a method's examples only where its __module__ says it lives.
    for member in list(vars(cls).values()):
        func = getattr(member, "__func__", getattr(member, "fget", member))
        if inspect.isfunction(func) and func.__module__ == module:
            func.__module__ = package


def defined_in(obj: object) -> str:
    """The module that defines ``obj`` (its ``__module__`` before :func:`publish`).

    >>> from modelyard.drift import DriftProfile
    >>> DriftProfile.__module__, defined_in(DriftProfile)
    ('modelyard.drift', 'modelyard.drift._profile')
    """
    return _defined_in.get(obj, getattr(obj, "__module__", ""))
