"""``open_yard``: one object holding a store, its artifacts and its registry."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from modelyard._internal.clock import Clock
from modelyard.artifacts import ArtifactRef, ArtifactStore, GcReport, VerifyReport
from modelyard.lifecycle import Lifecycle
from modelyard.registry import ReferenceProblem, Registry
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
        versions: every registry version whose artifact is missing, incomplete or corrupt, and
            every model whose log cannot be read
            (:class:`~modelyard.registry.ReferenceProblem`).
    """

    artifacts: VerifyReport
    versions: tuple[ReferenceProblem, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return self.artifacts.ok and not self.versions


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
    ) -> None:
        self.store = store
        self.artifacts = ArtifactStore(store, clock=clock)
        self.registry = Registry(
            store,
            self.artifacts,
            lifecycle=lifecycle,
            clock=clock,
            actor=actor,
            allow_non_atomic_create=allow_non_atomic_create,
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

        Re-hashes every artifact (``report.artifacts``) and lists every registry version whose
        artifact, or a blob of it, is missing or damaged (``report.versions``).

        >>> import modelyard as my
        >>> yard = my.open_yard("memory://yard-verify-doctest")
        >>> mv = yard.registry.register("churn", b"weights", actor="ana")
        >>> yard.verify().ok
        True
        """
        artifacts = self.artifacts.verify()
        versions = check_references(self.store, self.artifacts, artifacts)
        # The registry log's own check (its event chain) joins here as a third part of the
        # report once the registry verifies its chain.
        return YardReport(artifacts=artifacts, versions=versions)


def open_yard(
    location: str | os.PathLike[str] | Store = DEFAULT_LOCATION,
    *,
    lifecycle: Lifecycle | Callable[[str], Lifecycle] | None = None,
    clock: Clock | None = None,
    actor: str | None = None,
    allow_non_atomic_create: bool = False,
    **store_options: Any,
) -> Yard:
    """Open (or create) a yard at a local folder, any fsspec URL, or on a :class:`Store`.

    ``store_options`` go to :func:`~modelyard.storage.open_store` (for example
    ``endpoint_url=...`` for S3). ``lifecycle`` governs every model (or pass a function of the
    model name); ``actor`` is recorded on changes that do not name one.

    >>> import modelyard as my, tempfile
    >>> yard = my.open_yard(tempfile.mkdtemp())
    >>> ref = yard.artifacts.put([1, 2, 3], name="numbers")
    >>> yard.artifacts.get("numbers@latest")
    [1, 2, 3]
    """
    store = open_store(location, **store_options)
    return Yard(
        store,
        lifecycle=lifecycle,
        clock=clock,
        actor=actor,
        allow_non_atomic_create=allow_non_atomic_create,
    )
