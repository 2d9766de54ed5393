"""Self-describing types that ``get`` may load: registered by the program, never named by a store.

A self-describing artifact's manifest names its type, and the manifest is written by whoever can
write to the store. Importing what it names would let that writer run code in every reader (a
module runs its top level when imported), so a name is only ever looked up:

1. among the types registered in this process with :func:`register_type`;
2. among the entry points of the group ``modelyard.types`` with exactly that name. Loading one
   imports the module its *installed package* declared, never one the manifest chose.

A name found in neither is refused before anything is imported. Artifacts written before types were
registered name the class by its import path (``"module:QualName"``); they are read by comparing
that path with the registered classes' own paths (which loads the ``modelyard.types`` entry points,
again only what installed packages declared), never by importing it.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from types import MappingProxyType
from typing import Any, TypeVar

from modelyard._internal.public import defined_in
from modelyard.errors import InputError

__all__ = [
    "TYPE_ENTRY_POINT_GROUP",
    "import_path",
    "is_self_describing",
    "register_type",
    "registered_types",
    "type_for_path",
    "type_name_of",
    "type_named",
]

#: The entry point group under which packages advertise self-describing types. The entry point's
#: name is the type's registered name; its value is the class (``"package.module:Class"``).
TYPE_ENTRY_POINT_GROUP = "modelyard.types"

T = TypeVar("T", bound=type)

_lock = threading.RLock()
_by_name: dict[str, type[Any]] = {}
_name_of: dict[type[Any], str] = {}
_loaded_all = False


def is_self_describing(cls: Any) -> bool:
    """Whether ``cls`` is a class with ``media_type`` (a str), ``to_bytes`` and ``from_bytes``."""
    return (
        isinstance(cls, type)
        and isinstance(getattr(cls, "media_type", None), str)
        and callable(getattr(cls, "to_bytes", None))
        and callable(getattr(cls, "from_bytes", None))
    )


def import_path(cls: type[Any]) -> str:
    """``"module:QualName"``: how artifacts written before registration named their type (the
    defining module, also for a class whose ``__module__`` names its public package)."""
    return f"{defined_in(cls)}:{cls.__qualname__}"


def _check_name(name: Any) -> str:
    if (
        not isinstance(name, str)
        or not name
        or len(name) > 200
        or name != name.strip()
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
    ):
        raise InputError(
            f"a type name must be a non-empty string without control characters or surrounding "
            f"spaces (at most 200 characters), not {name!r}",
            name=name,
        )
    return name


def register_type(cls: T, *, name: str | None = None, clobber: bool = False) -> T:
    """Allow ``get`` to load artifacts of the self-describing class ``cls``.

    ``put`` stores a self-describing object (one with ``media_type``, ``to_bytes()`` and the
    classmethod ``from_bytes()``, see :class:`SelfDescribing`) under its registered ``name``, and
    ``get`` rebuilds only types registered under the name the manifest records: a store can never
    make a reader import a module. ``name`` defaults to the class's import path
    (``"module:QualName"``), which is also how artifacts written by earlier versions of modelyard
    name it, so registering a class makes its old artifacts loadable too; pass a stable name of
    your own (``name="acme.histogram"``) if the class may move. Registering a taken name raises
    :class:`~modelyard.errors.InputError` unless ``clobber=True``. Returns ``cls``, so it also
    works as a class decorator. Packages can advertise types under the entry point group
    ``modelyard.types`` instead (entry point name: the type's name; value: the class).

    >>> class Note:
    ...     media_type = "text/plain"
    ...     def __init__(self, text): self.text = text
    ...     def to_bytes(self): return self.text.encode()
    ...     @classmethod
    ...     def from_bytes(cls, data): return cls(data.decode())
    >>> register_type(Note, name="doctest.note") is Note
    True
    >>> registered_types()["doctest.note"] is Note
    True
    """
    if not is_self_describing(cls):
        raise InputError(
            f"{cls!r} is not a self-describing class: it needs a str 'media_type', to_bytes() "
            "and a classmethod from_bytes(data) (see modelyard.artifacts.SelfDescribing)"
        )
    if "<locals>" in cls.__qualname__:
        raise InputError(
            f"{cls.__qualname__} is defined inside a function; define it at module level so that "
            "every process that reads its artifacts can register the same class"
        )
    chosen = _check_name(name if name is not None else import_path(cls))
    with _lock:
        taken = _by_name.get(chosen)
        if taken is not None and taken is not cls and not clobber:
            raise InputError(
                f"the type name {chosen!r} is already registered for {import_path(taken)}; pass "
                "clobber=True to replace it",
                name=chosen,
            )
        _by_name[chosen] = cls
        _name_of[cls] = chosen
    return cls


def registered_types() -> Mapping[str, type[Any]]:
    """A read-only view of the loadable self-describing types by name (entry points included)."""
    _load_all()
    with _lock:
        return MappingProxyType(dict(_by_name))


def type_named(name: str) -> type[Any] | None:
    """The type registered as ``name``, or None. Imports nothing but a ``modelyard.types`` entry
    point of exactly that name."""
    with _lock:
        found = _by_name.get(name)
    if found is not None:
        return found
    for entry in _entry_points():
        if entry.name == name:
            _load(entry)
    with _lock:
        return _by_name.get(name)


def type_for_path(path: str) -> type[Any] | None:
    """The registered type whose import path is ``path`` (an artifact from before registration)."""
    found = type_named(path)
    if found is not None:
        return found
    _load_all()
    with _lock:
        matches = [cls for cls in _name_of if import_path(cls) == path]
    return matches[0] if len(matches) == 1 else None


def type_name_of(cls: type[Any]) -> str | None:
    """The name ``cls`` is registered under, or None."""
    with _lock:
        name = _name_of.get(cls)
    if name is None:
        _load_all()
        with _lock:
            name = _name_of.get(cls)
    return name


def _entry_points() -> list[EntryPoint]:
    return list(entry_points(group=TYPE_ENTRY_POINT_GROUP))


def _load_all() -> None:
    global _loaded_all
    if _loaded_all:
        return
    with _lock:
        if _loaded_all:
            return
        for entry in _entry_points():
            with _lock:
                known = entry.name in _by_name
            if not known:
                _load(entry)
        _loaded_all = True


def _load(entry: EntryPoint) -> None:
    # Plugins fail softly: a broken package costs a warning, and its artifacts stay unloadable.
    from modelyard.artifacts._registry import CodecPluginWarning

    try:
        loaded = entry.load()
        if not is_self_describing(loaded):
            raise InputError(f"{entry.value} is not a self-describing class")
        with _lock:
            if entry.name not in _by_name:
                _by_name[entry.name] = loaded
                _name_of.setdefault(loaded, entry.name)
    except Exception as exc:
        warnings.warn(
            f"type plugin {entry.name!r} ({entry.value}) failed to load: {exc!r}; reinstall the "
            "package that provides it",
            CodecPluginWarning,
            stacklevel=4,
        )
