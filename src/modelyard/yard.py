"""``open_yard``: one object holding a store, its artifacts and its registry."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from modelyard._internal.canonical import canonical_json
from modelyard._internal.clock import Clock, utcnow
from modelyard._version import __version__
from modelyard.artifacts import ArtifactRef, ArtifactStore, GcReport, VerifyReport
from modelyard.errors import IntegrityError, KeyExistsError, NotFoundError, StoreError
from modelyard.lifecycle import Lifecycle
from modelyard.registry import ReferenceProblem, Registry, RegistryReport
from modelyard.registry._references import check_references
from modelyard.storage import Store, open_store

__all__ = ["DEFAULT_LOCATION", "Yard", "YardReport", "open_yard"]

#: Where :func:`open_yard` keeps everything when given no location: a folder in the working dir.
DEFAULT_LOCATION = "./.modelyard"


@dataclass(frozen=True)
class YardReport:
    """What :meth:`Yard.verify` found.

    Attributes:
        artifacts: the artifact store's :class:`~modelyard.artifacts.VerifyReport` (every blob
            re-hashed, every manifest checked).
        registry: the registry's :class:`~modelyard.registry.RegistryReport` (every model's
            event chain and snapshots walked).
        versions: every registry version whose artifact is missing, incomplete or corrupt, and
            every model whose log cannot be read
            (:class:`~modelyard.registry.ReferenceProblem`).
    """

    artifacts: VerifyReport
    registry: RegistryReport
    versions: tuple[ReferenceProblem, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return self.artifacts.ok and self.registry.ok and not self.versions


class Yard:
    """A store with its :class:`~modelyard.artifacts.ArtifactStore` and
    :class:`~modelyard.registry.Registry`. Safe to share between threads."""

    def __init__(
        self,
        store: Store,
        *,
        lifecycle: Lifecycle | Callable[[str], Lifecycle] | None = None,
        clock: Clock | None = None,
        actor: str | None = None,
        allow_non_atomic_create: bool = False,
        code_lineage: bool | None = None,
    ) -> None:
        self.store = store
        self.artifacts = ArtifactStore(store, clock=clock, code_lineage=code_lineage)
        self.registry = Registry(
            store,
            self.artifacts,
            lifecycle=lifecycle,
            clock=clock,
            actor=actor,
            allow_non_atomic_create=allow_non_atomic_create,
            code_lineage=code_lineage,
        )

    def __repr__(self) -> str:
        return f"Yard({self.store!r})"

    def gc(
        self,
        roots: Iterable[ArtifactRef | str] = (),
        grace: timedelta = timedelta(hours=1),
        dry_run: bool = True,
        *,
        keep_named: bool = True,
    ) -> GcReport:
        """Remove the artifacts and blobs that nothing refers to: the documented way to collect.

        Keeps every artifact a registry version refers to (deleted versions included) and
        everything it was made from, plus what :meth:`ArtifactStore.gc
        <modelyard.artifacts.ArtifactStore.gc>` keeps (``roots``, artifacts younger than
        ``grace``, named ones with ``keep_named=True``), and deletes nothing if it cannot account
        for everything (``report.refused`` says why). ``dry_run=True`` (the default) only reports.

        >>> from datetime import timedelta
        >>> import modelyard as my
        >>> yard = my.open_yard("memory://yard-gc-doctest")
        >>> model = yard.artifacts.put(b"weights")  # unnamed, as pipelines store them
        >>> scratch = yard.artifacts.put(b"scratch")
        >>> mv = yard.registry.register("churn", model, actor="ana")
        >>> report = yard.gc(grace=timedelta(0), dry_run=False)
        >>> report.artifacts == (scratch.id,), yard.registry.load("churn@latest")
        (True, b'weights')
        """
        return self.artifacts.gc(roots, grace, dry_run, keep_named=keep_named)

    def verify(self) -> YardReport:
        """Check the whole yard; never raises for damage.

        Re-hashes every artifact (``report.artifacts``), walks every model's event chain
        (``report.registry``, see :meth:`~modelyard.registry.Registry.verify`) and lists every
        registry version whose artifact, or a blob of it, is missing or damaged
        (``report.versions``).

        >>> import modelyard as my
        >>> yard = my.open_yard("memory://yard-verify-doctest")
        >>> mv = yard.registry.register("churn", b"weights", actor="ana")
        >>> yard.verify().ok
        True
        """
        artifacts = self.artifacts.verify()
        versions = check_references(self.store, self.artifacts, artifacts)
        return YardReport(artifacts=artifacts, registry=self.registry.verify(), versions=versions)


def open_yard(
    location: str | os.PathLike[str] | Store = DEFAULT_LOCATION,
    *,
    create: bool = True,
    lifecycle: Lifecycle | Callable[[str], Lifecycle] | None = None,
    clock: Clock | None = None,
    actor: str | None = None,
    allow_non_atomic_create: bool = False,
    code_lineage: bool | None = None,
    **store_options: Any,
) -> Yard:
    """Open (or create) a yard at a local folder, any fsspec URL, or on a :class:`Store`.

    ``store_options`` go to :func:`~modelyard.storage.open_store` (for example
    ``endpoint_url=...`` for S3). ``lifecycle`` (or a function of the model name) is the one
    the yard stores at its first write if it has none; a yard that stores another refuses this
    registry's writes with :class:`~modelyard.errors.LifecycleMismatchError` (open it without
    ``lifecycle`` to use the stored one). ``actor`` is recorded on changes that do not name one.
    ``code_lineage=False`` stops manifests and registry versions recording the code that made
    them (git commit, dirty state, remote, command line); None (the default) reads
    ``$MODELYARD_CODE_LINEAGE`` (``0`` off, ``1`` or unset: on).

    A yard exists where ``open_yard`` created one (it writes a small ``yard.json`` marker) or where
    an earlier modelyard left artifacts or models. With ``create=True`` (the default) a location
    without a yard becomes a new, empty one; services pass ``create=False``, so that a mistyped
    location is a :class:`~modelyard.errors.NotFoundError` instead of a new empty yard. Opening
    checks the location at once: a store that cannot be used (a missing bucket, an endpoint that
    does not answer, a folder that cannot be written, a file given as the location) raises a
    :class:`~modelyard.errors.StoreError` that says what to fix.

    >>> import modelyard as my, tempfile
    >>> yard = my.open_yard(tempfile.mkdtemp())
    >>> ref = yard.artifacts.put([1, 2, 3], name="numbers")
    >>> yard.artifacts.get("numbers@latest")
    [1, 2, 3]
    >>> my.open_yard(tempfile.mkdtemp(), create=False)
    Traceback (most recent call last):
    ...
    modelyard.errors.NotFoundError: no yard at ...: ...
    """
    store = open_store(location, create=create, **store_options)
    _ensure_yard(store, location, create=create, clock=clock)
    return Yard(
        store,
        lifecycle=lifecycle,
        clock=clock,
        actor=actor,
        allow_non_atomic_create=allow_non_atomic_create,
        code_lineage=code_lineage,
    )


# -- what makes a location a yard --------------------------------------------------------------

#: Written by ``open_yard`` when it creates a yard: its presence is what makes a location a yard.
YARD_MARKER = "yard.json"
_MARKER_SCHEMA = 1
# Yards written before the marker existed are recognised by their data: a model in the registry's
# index, a named artifact, or any manifest (in that order: the first listings are the shortest).
_EARLIER_DATA = ("models/_index/", "names/", "manifests/")


def _ensure_yard(
    store: Store, location: str | os.PathLike[str] | Store, *, create: bool, clock: Clock | None
) -> None:
    where = str(location) if isinstance(location, (str, os.PathLike)) else repr(store)
    try:
        raw = store.read(YARD_MARKER)
    except NotFoundError:
        pass
    else:
        _check_marker(raw, where)
        return
    earlier = any(store.list(prefix) for prefix in _EARLIER_DATA)
    if not create:
        if earlier:
            return  # a yard from an earlier version: read as it is, nothing written
        raise NotFoundError(
            f"no yard at {where}: the location holds no yard, and create=False. Check the "
            "location (and its endpoint); to start a new yard there, open it once with "
            "create=True.",
            location=where,
        )
    now = (clock.now() if clock is not None else utcnow()).isoformat()
    marker = {"schema_version": _MARKER_SCHEMA, "created_at": now, "created_by": __version__}
    try:
        store.create(YARD_MARKER, canonical_json(marker))
    except KeyExistsError:
        pass  # another process created the yard at the same moment
    except StoreError as exc:
        # A reader without write access to a yard from an earlier version may still read it.
        if not (earlier and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)):
            raise


def _check_marker(raw: bytes, where: str) -> None:
    try:
        marker = json.loads(raw)
        version = marker["schema_version"]
        valid = isinstance(version, int) and not isinstance(version, bool) and version >= 1
    except (ValueError, TypeError, KeyError):
        valid = False
    if not valid:
        raise IntegrityError(
            f"the yard marker {YARD_MARKER!r} at {where} is damaged; delete it (open_yard() "
            "writes a new one) or restore it from a backup",
            key=YARD_MARKER,
            location=where,
        )
    if version > _MARKER_SCHEMA:
        raise IntegrityError(
            f"the yard at {where} was written by a newer modelyard (yard format {version}; this "
            f"version reads format {_MARKER_SCHEMA}): upgrade modelyard to open it",
            key=YARD_MARKER,
            location=where,
            schema_version=version,
        )
