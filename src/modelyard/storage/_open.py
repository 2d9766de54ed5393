"""URL -> store: built-in schemes, registered factories and ``modelyard.stores`` plugins."""

from __future__ import annotations

import os
import re
import threading
import warnings
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from modelyard.errors import InputError, PluginError, UnsupportedURLError
from modelyard.storage._fsspec import FsspecStore
from modelyard.storage._local import LocalStore
from modelyard.storage._memory import MemoryStore
from modelyard.storage._protocol import Store

__all__ = [
    "ENTRY_POINT_GROUP",
    "StoreFactory",
    "StorePluginWarning",
    "open_store",
    "register_store",
    "registered_stores",
]

ENTRY_POINT_GROUP = "modelyard.stores"

#: ``factory(url, **options) -> Store``
StoreFactory = Callable[..., Store]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# "s3:/bucket", "s3:bucket", "memory:/x": a scheme with a slash missing. One letter before the
# colon is a Windows drive ("C:/yard"), not a scheme.
_BROKEN_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):(?!//)")


class StorePluginWarning(UserWarning):
    """A store plugin advertised under the ``modelyard.stores`` entry point failed to load."""


def _local(url: str, **options: Any) -> Store:
    path = url[len("file://") :] if url.startswith("file://") else url
    return LocalStore(path, **options)


def _memory(url: str, **options: Any) -> Store:
    if options:
        raise InputError(f"memory:// stores take no options, got {sorted(options)}")
    return MemoryStore.named(url[len("memory://") :].strip("/"))


_lock = threading.Lock()
_factories: dict[str, StoreFactory] = {"file": _local, "memory": _memory}
_plugins_loaded = False


def register_store(scheme: str, factory: StoreFactory, *, clobber: bool = False) -> None:
    """Make ``open_store("<scheme>://...")`` call ``factory(url, **options)``.

    Registering a scheme that exists raises :class:`~modelyard.errors.InputError` unless
    ``clobber=True``. Packages can instead advertise a factory under the entry point group
    ``modelyard.stores`` (name = scheme); it is imported on first use of the scheme.

    >>> from modelyard.storage import MemoryStore
    >>> register_store("scratch", lambda url, **options: MemoryStore())
    >>> open_store("scratch://anything")
    MemoryStore(<0 keys>)
    """
    if not isinstance(scheme, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        raise InputError(f"invalid scheme {scheme!r}: letters, digits, '+', '.', '-'")
    if not callable(factory):
        raise InputError(f"store factory for {scheme!r} must be callable, got {factory!r}")
    with _lock:
        scheme = scheme.lower()
        if scheme in _factories and not clobber:
            raise InputError(
                f"a store is already registered for {scheme!r}; pass clobber=True to replace it",
                scheme=scheme,
            )
        _factories[scheme] = factory


def registered_stores() -> Mapping[str, StoreFactory]:
    """A read-only view of the registered schemes (plugins included once loaded)."""
    _load_plugins()
    return MappingProxyType(_factories)


def _load_plugins() -> None:
    # Entry points are read once and lazily: importing modelyard never imports a plugin, and a
    # broken plugin costs a warning, not the import of modelyard.
    global _plugins_loaded
    if _plugins_loaded:
        return
    from importlib.metadata import entry_points

    with _lock:
        if _plugins_loaded:
            return
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            if entry.name.lower() in _factories:
                continue
            _factories[entry.name.lower()] = _lazy_plugin(entry.name, entry.value)
        _plugins_loaded = True


def _lazy_plugin(name: str, target: str) -> StoreFactory:
    def factory(url: str, **options: Any) -> Store:
        from importlib.metadata import entry_points

        try:
            (entry,) = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == name]
            loaded = entry.load()
        except Exception as exc:
            warnings.warn(
                f"store plugin {name!r} ({target}) failed to load: {exc!r}; reinstall the "
                "package that provides it",
                StorePluginWarning,
                stacklevel=3,
            )
            raise PluginError(
                f"the store plugin for {name}:// ({target}) failed to load: {exc}", scheme=name
            ) from exc
        store: Store = loaded(url, **options)
        return store

    return factory


def open_store(
    target: str | os.PathLike[str] | Store, *, create: bool = True, **options: Any
) -> Store:
    """Return a :class:`Store` for a URL, a local path, or a store (returned as it is).

    * a path or ``file://...``: :class:`LocalStore` (OS-level atomic, durable);
    * ``memory://name``: the process-wide :class:`MemoryStore` called ``name``;
    * a scheme registered with :func:`register_store` or advertised by a ``modelyard.stores``
      plugin: that factory;
    * any other scheme fsspec knows (``s3://``, ``gcs://``, ...): :class:`FsspecStore`, with
      ``options`` passed to fsspec.

    A local folder that does not exist is created, unless ``create=False``: then it is a
    :class:`~modelyard.errors.NotFoundError`. Other stores create nothing when opened. A string
    that looks like a URL with a slash missing (``"s3:/bucket"``) is refused with an
    :class:`~modelyard.errors.InputError` rather than taken for a folder named ``s3:``; pass a
    :class:`pathlib.Path` for a folder whose name really contains a colon.

    >>> open_store("memory://open-store-doctest")
    MemoryStore(<0 keys>)
    >>> open_store("s3:/bucket")
    Traceback (most recent call last):
    ...
    modelyard.errors.InputError: 's3:/bucket' is not a URL: a URL needs '://' after the scheme...
    """
    if isinstance(target, os.PathLike):
        return LocalStore(target, create=create, **options)
    if not isinstance(target, str):
        if isinstance(target, Store):
            return target
        raise InputError(
            f"cannot open a store from {type(target).__name__}: pass a URL, a path or a Store"
        )
    match = _SCHEME.match(target)
    if match is None:
        if not target:
            raise InputError("cannot open a store from an empty string; pass a URL or a path")
        _refuse_broken_url(target)
        return LocalStore(target, create=create, **options)
    scheme = match.group(1).lower()
    factory = _factories.get(scheme)
    if factory is None:
        _load_plugins()
        factory = _factories.get(scheme)
    if factory is _local:
        return _local(target, create=create, **options)
    if factory is not None:
        return factory(target, **options)
    return _open_fsspec(target, scheme, options)


def _refuse_broken_url(target: str) -> None:
    broken = _BROKEN_URL.match(target)
    if broken is None:
        return
    scheme = broken.group(1)
    rest = target[broken.end() :].lstrip("/")
    raise InputError(
        f"{target!r} is not a URL: a URL needs '://' after the scheme. Did you mean "
        f"'{scheme}://{rest}'? For a local folder whose name contains ':', pass "
        f"pathlib.Path({target!r}) or './{target}'.",
        url=target,
        scheme=scheme,
    )


def _open_fsspec(url: str, scheme: str, options: dict[str, Any]) -> Store:
    import fsspec

    try:
        fsspec.get_filesystem_class(scheme)
    except ImportError as exc:
        # The package itself, which an index has; modelyard's own extra needs a checkout.
        package = {"s3": "s3fs>=2024.12", "s3a": "s3fs>=2024.12"}.get(scheme)
        hint = f"pip install {package!r} (modelyard's 's3' extra)" if package else str(exc)
        raise UnsupportedURLError(
            f"{scheme}:// needs a package that is not installed: {hint}",
            url=url,
            scheme=scheme,
            available=sorted(_factories),
        ) from exc
    except ValueError:
        raise UnsupportedURLError(
            f"no store for {scheme}://: registered schemes are {sorted(_factories)}, plus every "
            "protocol fsspec knows; register one with modelyard.storage.register_store()",
            url=url,
            scheme=scheme,
            available=sorted(_factories),
        ) from None
    return FsspecStore(url, **options)
