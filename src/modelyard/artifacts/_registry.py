"""The codec registry: built-ins, codecs registered at runtime, and ``modelyard.codecs`` plugins."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from modelyard.artifacts._codec import Codec
from modelyard.errors import InputError, NotFoundError, PluginError, UnsupportedObjectError

__all__ = [
    "ENTRY_POINT_GROUP",
    "CodecPluginWarning",
    "codec_for",
    "codec_named",
    "register_codec",
    "registered_codecs",
]

ENTRY_POINT_GROUP = "modelyard.codecs"


class CodecPluginWarning(UserWarning):
    """A codec (``modelyard.codecs``) or a self-describing type (``modelyard.types``) advertised
    by an entry point failed to load."""


_lock = threading.RLock()
# Insertion order is selection order, reversed: the codec registered last is asked first, so a
# user's codec overrides a built-in for the types it claims.
_codecs: dict[str, Codec] = {}
_builtins_loaded = False
_plugins_loaded = False


def register_codec(codec: Codec, *, clobber: bool = False) -> Codec:
    """Make ``codec`` available to every :class:`ArtifactStore` in this process.

    Codecs registered later are asked first by automatic selection, so a registered codec
    overrides a built-in one for the objects it claims. Registering a name that is taken raises
    :class:`~modelyard.errors.InputError` unless ``clobber=True``. Returns ``codec`` (usable as a
    class decorator on an instance factory is not needed: pass an instance).

    Packages can advertise codecs under the entry point group ``modelyard.codecs``; the entry point
    names a codec instance, or a class or function that returns one. They load on first use.

    >>> from modelyard.artifacts import Encoded
    >>> class Upper:
    ...     name = "doctest-upper"
    ...     def can_encode(self, obj): return False
    ...     def encode(self, obj): return Encoded("text/plain", obj.upper().encode())
    ...     def decode(self, payload, *, trusted): return payload.read().decode()
    >>> register_codec(Upper()).name
    'doctest-upper'
    """
    if not isinstance(codec, Codec):
        raise InputError(
            f"{codec!r} is not a codec: it needs a 'name' and can_encode(obj), encode(obj) and "
            "decode(payload, *, trusted) methods (see modelyard.artifacts.Codec)"
        )
    name = codec.name
    if not isinstance(name, str) or not name:
        raise InputError(f"codec {codec!r} needs a non-empty string 'name'")
    _ensure_loaded()
    with _lock:
        if name in _codecs and not clobber:
            raise InputError(
                f"a codec named {name!r} is already registered; pass clobber=True to replace it",
                name=name,
            )
        _codecs.pop(name, None)
        _codecs[name] = codec
    return codec


def registered_codecs() -> Mapping[str, Codec]:
    """A read-only view of the codecs by name, in the order automatic selection asks them.

    >>> codecs = registered_codecs()
    >>> {"json", "numpy", "pandas", "pickle", "self-describing"} <= set(codecs)
    True
    >>> list(codecs).index("self-describing") < list(codecs).index("json")
    True
    """
    _ensure_loaded()
    with _lock:
        return MappingProxyType(dict(reversed(list(_codecs.items()))))


def codec_named(name: str) -> Codec:
    """The codec called ``name``; :class:`~modelyard.errors.NotFoundError` lists the others."""
    _ensure_loaded()
    with _lock:
        codec = _codecs.get(name)
        available = sorted(_codecs)
    if codec is None:
        raise NotFoundError(
            f"no codec named {name!r}; install the package that provides it or register it with "
            "modelyard.artifacts.register_codec()",
            name=name,
            available=available,
        )
    return codec


def codec_for(obj: Any) -> Codec:
    """The first codec, in selection order, that can encode ``obj``."""
    for codec in registered_codecs().values():
        if codec.can_encode(obj):
            return codec
    available = list(registered_codecs())
    kind = f"{type(obj).__module__}.{type(obj).__qualname__}"
    raise UnsupportedObjectError(
        f"no codec can store an object of type {kind}. Codecs: {', '.join(available)}. Pass "
        "codec=<name> to choose one (e.g. codec='pickle' for trusted objects), give the object "
        "to_bytes()/from_bytes()/media_type (modelyard.artifacts.SelfDescribing), or register a "
        "codec with modelyard.artifacts.register_codec() or the 'modelyard.codecs' entry point",
        type_name=kind,
        available=available,
    )


def _ensure_loaded() -> None:
    global _builtins_loaded, _plugins_loaded
    if _builtins_loaded and _plugins_loaded:
        return
    with _lock:
        if not _builtins_loaded:
            from modelyard.artifacts._builtin_codecs import BUILTIN_CODECS

            # Built-ins first, so that plugins and user codecs are asked before them.
            for codec in BUILTIN_CODECS:
                _codecs.setdefault(codec.name, codec)
            _builtins_loaded = True
        if not _plugins_loaded:
            _plugins_loaded = True
            _load_plugins()


def _load_plugins() -> None:
    # Plugins load once and fail softly: a broken codec package costs a warning, not every put.
    from importlib.metadata import entry_points

    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
            codec = (
                loaded() if isinstance(loaded, type) or not isinstance(loaded, Codec) else loaded
            )
            if not isinstance(codec, Codec):
                raise PluginError(f"{entry.value} did not give a codec", name=entry.name)
        except Exception as exc:
            warnings.warn(
                f"codec plugin {entry.name!r} ({entry.value}) failed to load: {exc!r}; reinstall "
                "the package that provides it",
                CodecPluginWarning,
                stacklevel=4,
            )
            continue
        _codecs.setdefault(codec.name, codec)
