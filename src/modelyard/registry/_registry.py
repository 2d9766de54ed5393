"""The event-sourced model registry."""

from __future__ import annotations

import getpass
import itertools
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, overload

from modelyard._internal.actors import check_actor
from modelyard._internal.clock import Clock, SystemClock
from modelyard._internal.code_switch import code_lineage_setting
from modelyard._internal.names import validate_name
from modelyard._internal.references import parse_reference
from modelyard._internal.retry import RetryPolicy
from modelyard.artifacts import ArtifactRef, ArtifactStore, CodeRecord
from modelyard.errors import (
    CapabilityError,
    ConcurrentModificationError,
    InputError,
    InvalidReferenceError,
    KeyExistsError,
    ModelyardError,
    NotFoundError,
)
from modelyard.lifecycle import (
    Approval,
    CommittedTransition,
    Lifecycle,
    ModelStatus,
    TransitionListener,
    TransitionRequest,
    VersionStatus,
    decide,
    decide_rollback,
    notify,
)
from modelyard.registry._card import ModelCard, build_card
from modelyard.registry._catalog import Catalog
from modelyard.registry._catalog_rows import Filters
from modelyard.registry._copy import CopyResult, copy_version
from modelyard.registry._events import (
    AliasDeleted,
    AliasSet,
    ApprovalRecorded,
    Event,
    EvidenceAttached,
    ModelDescribed,
    RolledBack,
    TagDeleted,
    TagSet,
    Transitioned,
    VersionDeleted,
    VersionDescribed,
    VersionRegistered,
)
from modelyard.registry._feed import Feed
from modelyard.registry._feed_api import cursor_now, read_events, watch_events
from modelyard.registry._follow import alias_moves, follow_target
from modelyard.registry._governance import GovernanceLog, GovernanceState
from modelyard.registry._governance_events import GovernanceEntry
from modelyard.registry._governing import Governance, require_approver_role
from modelyard.registry._log import EventLog
from modelyard.registry._names import fold, name_taken
from modelyard.registry._records import (
    Evidence,
    FeedEvent,
    FeedPage,
    HistoryEntry,
    ModelSnapshot,
    ModelVersion,
    RegisteredModel,
    RegistryEvent,
)
from modelyard.registry._report import RegistryReport
from modelyard.registry._search import check_search, search_versions
from modelyard.registry._state import ModelState
from modelyard.registry._validate import (
    RESERVED_ALIASES,
    check_alias_name,
    check_evidence_kind,
    check_follow,
    check_label,
    check_metrics,
    check_params,
    check_tag_key,
    check_tag_value,
    check_tags,
    check_text,
    parse_ref,
)
from modelyard.registry._verify import verify_registry
from modelyard.storage import Store

if TYPE_CHECKING:
    from modelyard.registry._search import OrderBy

__all__ = ["Registry", "RegistryListener"]

logger = logging.getLogger("modelyard.registry")

#: A plain callable told about every event after it is committed.
RegistryListener = Callable[[RegistryEvent], None]

E = TypeVar("E", bound=Event)


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _default_actor() -> str:
    actor = os.environ.get("MODELYARD_ACTOR")
    if actor:
        return check_actor(actor, what="$MODELYARD_ACTOR")
    try:
        return check_actor(getpass.getuser(), what="the OS user name")
    except Exception:  # no user database in some containers, or a name that is no actor
        return "unknown"


class Registry:
    """Named models, versions, aliases, tags, lifecycle stages and their full history.

    Each model is an append-only log of events on the store, written with the store's atomic
    ``create``; the current state is the fold of the log. Writers that race re-read, re-check and
    retry with jittered backoff, so versions are unique and gap-free, an alias points at one
    version, and an exclusive state has at most one holder, with no lock and no server. Reads are
    cached per registry object and re-validated with one store lookup, so they stay cheap however
    long the history grows. The log verifies itself: every event names its model and the digest
    of the event before it, so an edited, removed, reordered or copied event raises
    :class:`~modelyard.errors.IntegrityError` naming the file, and :meth:`verify` reports every
    such problem. Safe to share between threads.

    >>> from modelyard.storage import MemoryStore
    >>> from modelyard.artifacts import ArtifactStore
    >>> store = MemoryStore()
    >>> registry = Registry(store, ArtifactStore(store), actor="ana")
    >>> mv = registry.register("churn", {"weights": [0.1, 0.2]}, metrics={"auc": 0.91})
    >>> registry.set_alias("churn", "champion", mv.version).aliases
    ('champion', 'latest')
    >>> registry.load("churn@champion")
    {'weights': [0.1, 0.2]}
    >>> registry.transition("churn", 1, "staging", reason="offline eval passed").state
    'staging'
    """

    def __init__(
        self,
        store: Store,
        artifacts: ArtifactStore | None = None,
        *,
        lifecycle: Lifecycle | Callable[[str], Lifecycle] | None = None,
        clock: Clock | None = None,
        actor: str | None = None,
        retry: RetryPolicy | None = None,
        allow_non_atomic_create: bool = False,
        snapshot_every: int = 32,
        code_lineage: bool | None = None,
    ) -> None:
        self.store = store
        self.code_lineage = code_lineage_setting(code_lineage)
        self.artifacts = (
            artifacts if artifacts is not None else ArtifactStore(store, code_lineage=code_lineage)
        )
        if lifecycle is not None and not (isinstance(lifecycle, Lifecycle) or callable(lifecycle)):
            raise InputError(
                f"lifecycle must be a Lifecycle or a function of the model name, got {lifecycle!r}"
            )
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.actor = check_actor(actor) if actor is not None else _default_actor()
        self.retry = retry if retry is not None else RetryPolicy(attempts=100, cap=0.05)
        self.allow_non_atomic_create = allow_non_atomic_create
        self._log = EventLog(store, snapshot_every=snapshot_every, protected=self._protected)
        self._governance = Governance(
            GovernanceLog(store), self._log, code=lifecycle, clock=self.clock, retry=self.retry
        )
        self._feed = Feed(store, self._log)
        self._catalog = Catalog(self._feed, self._log, self.clock.now)
        self._listeners: list[RegistryListener] = []
        self._transition_listeners: list[TransitionListener] = []
        self._listener_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Registry({self.store!r})"

    def lifecycle(self, name: str | None = None) -> Lifecycle:
        """The lifecycle in force for model ``name`` (None: the yard's default).

        It is the one stored in the yard (see :meth:`set_lifecycle`): a model's own, else the
        yard's default. A yard that has none yet stores the one in use at its first write: the
        one this registry was opened with, else :meth:`Lifecycle.default()
        <modelyard.lifecycle.Lifecycle.default>`; until then, that is what this returns.
        """
        if name is not None:
            validate_name(name, kind="model name")
        return self._governance.in_force(name)

    def set_lifecycle(
        self,
        lifecycle: Lifecycle | None,
        model: str | None = None,
        *,
        actor: str | None = None,
        reason: str = "",
    ) -> GovernanceEntry:
        """Store ``lifecycle`` as the yard's default (``model=None``) or as ``model``'s own, as
        an audited event; return it.

        Every writer of the yard obeys the stored lifecycle from then on, whatever it was opened
        with (a registry opened with another one gets
        :class:`~modelyard.errors.LifecycleMismatchError`). ``lifecycle=None`` with a model
        removes the model's own lifecycle, so that the default governs it again
        (:class:`~modelyard.errors.InputError` if it has none). The change is
        itself governed: once the yard has an ``admin`` only admins may make it, and the
        ``amend`` guards of the lifecycle in force must pass (their approvals are recorded with
        :meth:`approve_lifecycle`); otherwise :class:`~modelyard.errors.TransitionRejected` says
        what is missing. Storing the lifecycle already in force writes nothing and returns the
        event that stored it. A stage that becomes protected has its past changes countersigned
        (see ``docs/lifecycle.md``), which reads the logs of the models it governs.

        >>> from modelyard.storage import MemoryStore
        >>> from modelyard.lifecycle import Lifecycle, require_approvals
        >>> registry = Registry(MemoryStore(), actor="ana")
        >>> guarded = Lifecycle.default().with_guards("staging", "production", require_approvals(1))
        >>> entry = registry.set_lifecycle(guarded, reason="one approval before production")
        >>> entry.kind, entry.actor, registry.lifecycle("churn") == guarded
        ('lifecycle.set', 'ana', True)
        """
        who, reason = self._actor(actor), check_text(reason, what="reason")
        self._require_writable()
        return self._governance.set_lifecycle(lifecycle, model, who, reason)

    def approve_lifecycle(
        self,
        lifecycle: Lifecycle | None,
        model: str | None = None,
        *,
        actor: str | None = None,
        role: str | None = None,
        comment: str = "",
    ) -> GovernanceEntry:
        """Record ``actor``'s approval of changing ``model``'s lifecycle (None: the default) to
        exactly ``lifecycle``; the ``amend`` guards of the lifecycle in force count these."""
        who = self._actor(actor)
        self._require_writable()
        return self._governance.approve(lifecycle, model, who, role, comment)

    def grant_role(
        self, role: str, member: str, *, actor: str | None = None, reason: str = ""
    ) -> GovernanceEntry | None:
        """Give ``member`` the role ``role`` in this yard, as an audited event (None: they
        already hold it, nothing is written).

        Roles are what ``require_role`` guards and role-checked approvals
        (``require_approvals(n, roles=...)``) look at. Once anybody holds ``admin``, only admins
        may grant or revoke roles and change lifecycles, so grant ``admin`` first. Before a
        yard's first grant, approvals count with the role their approver claimed; from then on
        only with a role the approver holds.

        >>> from modelyard.storage import MemoryStore
        >>> registry = Registry(MemoryStore(), actor="ana")
        >>> _ = registry.grant_role("admin", "ana")
        >>> _ = registry.grant_role("release", "lee", reason="release manager")
        >>> registry.roles()
        {'admin': ['ana'], 'release': ['lee']}
        >>> registry.grant_role("release", "bob", actor="lee")
        Traceback (most recent call last):
        ...
        modelyard.errors.NotAuthorizedError: 'lee' cannot change roles: ...
        """
        who = self._actor(actor)
        self._require_writable()
        return self._governance.grant(role, member, who, reason)

    def revoke_role(
        self, role: str, member: str, *, actor: str | None = None, reason: str = ""
    ) -> GovernanceEntry | None:
        """Take ``role`` from ``member`` (None: they do not hold it). The last admin cannot be
        revoked."""
        who = self._actor(actor)
        self._require_writable()
        return self._governance.revoke(role, member, who, reason)

    def roles(self) -> dict[str, list[str]]:
        """Every role of the yard and its members, by name."""
        return self._governance.roles()

    def governance_history(self, *, kinds: Iterable[str] | None = None) -> list[GovernanceEntry]:
        """Every change of the yard's governance, oldest first: lifecycles set (with the
        definitions before and after), roles granted and revoked, approvals of changes."""
        return self._governance.history(kinds)

    # -- models and versions ---------------------------------------------------------------------

    def register(
        self,
        name: str,
        artifact_or_object: Any,
        *,
        metrics: Mapping[str, float] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        description: str = "",
        actor: str | None = None,
        codec: str | None = None,
    ) -> ModelVersion:
        """Register a new version of model ``name`` and return it.

        ``artifact_or_object`` is an :class:`~modelyard.artifacts.ArtifactRef` (or its id, or an
        artifact reference such as ``"churn-model@latest"``) or any object, which is first stored
        as an artifact named after the model. The version's lineage is its artifact's parents.
        Versions are numbered 1, 2, 3, ... without gaps, whatever the number of racing writers.
        The artifact must be whole (:class:`~modelyard.errors.NotFoundError` otherwise, before
        anything is written); from then on every gc keeps it and its ancestors, for as long as
        the version is in the log (deleted versions included).
        """
        validate_name(name, kind="model name")
        metrics_ = check_metrics(metrics)
        params_ = check_params(params)
        tags_ = check_tags(tags)
        description = check_text(description, what="description")
        who = self._actor(actor)
        self._require_writable()
        governed = self._governance.for_write(name, who)
        initial = governed[0].initial
        ref = self._artifact(artifact_or_object, name=name, codec=codec)
        # Checks the artifact is whole, and keeps a concurrent gc from deleting it (the log is
        # what gc keeps: see modelyard.registry._references).
        guard = self.artifacts.reference_guard(ref)
        lineage = list(guard.manifest.parents)
        code = CodeRecord.current() if self.code_lineage else None

        def build(state: ModelState) -> VersionRegistered:
            return VersionRegistered(
                at=self._now(state),
                actor=who,
                version=state.max_version + 1,
                artifact=ref.id,
                state=initial,
                metrics=metrics_,
                params=params_,
                tags=tags_,
                description=description,
                lineage=tuple(lineage),
                code=code,
            )

        with guard:
            state, event = self._commit(name, build, governed=governed)
        return self._version(state, event.version)

    def copy(
        self,
        ref: str,
        *,
        to: Registry | Any,
        name: str | None = None,
        actor: str | None = None,
        reason: str = "",
    ) -> CopyResult:
        """Copy the version ``ref`` (``"churn/3"``, ``"churn@champion"``) into another yard.

        ``to`` is the destination :class:`Registry`, or anything with a ``registry`` (a
        :class:`~modelyard.Yard`). The version's artifact and everything it was made from move
        by content hash (only what the destination lacks, streamed and verified: a damaged blob
        raises :class:`~modelyard.errors.IntegrityError` and nothing is registered), and the
        destination registers a new version of model ``name`` (default: the same name) in its
        lifecycle's initial state, with the source's metrics, params, tags and description and
        a :class:`~modelyard.registry.Provenance` (``version.provenance``, and a
        ``version.copied`` entry in the destination's :meth:`history`). ``actor`` and ``reason``
        are recorded there.

        Copying the same version to the same destination model again registers nothing: the
        result's ``created`` is False and its ``version`` is the earlier copy (found in the
        destination's log, so this holds across processes). Input is checked before anything is
        written: an unknown or deleted source version, a destination that cannot create keys
        atomically (:class:`~modelyard.errors.CapabilityError`), the source's own store.

        >>> import modelyard as my
        >>> dev = my.open_yard("memory://copy-doctest-dev", actor="ana")
        >>> prod = my.open_yard("memory://copy-doctest-prod", actor="ci")
        >>> mv = dev.registry.register("churn", b"weights", metrics={"auc": 0.91})
        >>> result = dev.registry.copy("churn/1", to=prod, reason="release 7")
        >>> result.created, result.version.ref, result.version.state, result.version.metrics["auc"]
        (True, 'churn/1', 'development', 0.91)
        >>> result.version.provenance.location, prod.registry.history("churn")[-1].kind
        ('memory://copy-doctest-dev', 'version.copied')
        >>> print(dev.registry.copy("churn/1", to=prod))
        churn/1 was already copied as churn/1; nothing was copied
        """
        dest = to if isinstance(to, Registry) else getattr(to, "registry", None)
        if not isinstance(dest, Registry):
            raise InputError(
                f"copy needs a destination Registry or yard (to=...), got {type(to).__name__}"
            )
        return copy_version(self, ref, dest, name=name, actor=actor, reason=reason)

    def version(self, name: str, number: int) -> ModelVersion:
        """The record of version ``number`` of model ``name`` (deleted versions included, marked
        ``deleted``). To load the object itself: :meth:`load`.

        >>> from modelyard.storage import MemoryStore
        >>> registry = Registry(MemoryStore(), actor="ana")
        >>> _ = registry.register("churn", b"weights")
        >>> registry.version("churn", 1).ref
        'churn/1'
        """
        state = self._existing(name)
        return state.record(self._lookup(state, number, allow_deleted=True))

    def get(self, name: str, version: int) -> ModelVersion:
        """Deprecated spelling of :meth:`version` (``get`` of the artifact store returns the
        object, this returned a record)."""
        warnings.warn(
            "Registry.get(name, version) is deprecated: use Registry.version(name, number) for "
            "the record, or Registry.load(ref) for the object",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.version(name, version)

    def versions(self, name: str, *, include_deleted: bool = False) -> list[ModelVersion]:
        """The versions of ``name``, oldest first."""
        state = self._existing(name)
        return [
            state.record(v)
            for _, v in sorted(state.versions.items())
            if include_deleted or not v.deleted
        ]

    def model(self, name: str) -> RegisteredModel:
        """The model ``name``: description, tags, aliases, version count."""
        return self._model_record(self._existing(name))

    def models(self) -> list[RegisteredModel]:
        """Every model in the registry, by name."""
        states = (self._log.state(name) for name in self._log.names())
        return [self._model_record(state) for state in states if state.head > 0]

    def delete_version(
        self, name: str, version: int, *, actor: str | None = None, reason: str = ""
    ) -> ModelVersion:
        """Soft-delete a version: it stays in the history and can still be read with :meth:`get`,
        but is left out of listings, searches and ``latest``. A version that an alias points at or
        that holds an exclusive state must be moved off first."""
        who, reason = self._actor(actor), check_text(reason, what="reason")
        governed = self._governed(name, who)
        lifecycle = governed[0]

        def build(state: ModelState) -> VersionDeleted:
            record = self._lookup(state, version)
            aliases = sorted(a for a, v in state.aliases.items() if v == version)
            if aliases:
                raise InputError(
                    f"version {version} of {name!r} is pointed at by {aliases}; move or delete "
                    "those aliases first",
                    name=name,
                    version=version,
                )
            if record.state in lifecycle.exclusive or record.state in lifecycle.protected:
                raise InputError(
                    f"version {version} of {name!r} holds the {_kind(lifecycle, record.state)} "
                    f"state {record.state!r}; "
                    "transition it out first",
                    name=name,
                    version=version,
                )
            return VersionDeleted(at=self._now(state), actor=who, reason=reason, version=version)

        state, _ = self._commit(name, build, must_exist=True, governed=governed)
        return self._version(state, version, allow_deleted=True)

    def set_description(
        self,
        name: str,
        description: str,
        *,
        version: int | None = None,
        actor: str | None = None,
    ) -> None:
        """Describe the model, or one of its versions."""
        description = check_text(description, what="description")
        who = self._actor(actor)

        def build(state: ModelState) -> Event:
            if version is None:
                return ModelDescribed(at=self._now(state), actor=who, description=description)
            self._lookup(state, version)
            return VersionDescribed(
                at=self._now(state), actor=who, version=version, description=description
            )

        self._commit(name, build, must_exist=True, actor=who)

    # -- aliases ---------------------------------------------------------------------------------

    @overload
    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        expected: int | None = ...,
        actor: str | None = ...,
        reason: str = ...,
    ) -> ModelVersion: ...

    @overload
    def set_alias(
        self,
        name: str,
        alias: str,
        *,
        follow: str,
        expected: int | None = ...,
        actor: str | None = ...,
        reason: str = ...,
    ) -> ModelVersion | None: ...

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int | None = None,
        *,
        follow: str | None = None,
        expected: int | None = UNSET,
        actor: str | None = None,
        reason: str = "",
    ) -> ModelVersion | None:
        """Point ``alias`` at ``version``, or bind it to follow an exclusive stage; return the
        version it points at.

        With ``follow="production"`` the alias equals the stage's holder from now on: every
        transition and rollback that changes the holder moves the alias in the same event. While
        the stage has no holder the alias points at nothing (resolving it raises
        :class:`~modelyard.errors.NotFoundError`, and None is returned here); it comes back with
        the next version that enters the stage. Pointing a bound alias at a version by hand
        unbinds it, in one event that records the stage it stopped following.

        ``expected`` makes the move a compare-and-set: the alias must currently point at that
        version (``None``: must point at nothing), else :class:`ConcurrentModificationError` is
        raised and nothing is written. ``latest`` is maintained automatically and cannot be set,
        and an alias cannot be named like a stage of the model's lifecycle (``name@production``
        names the stage's holder).

        >>> from modelyard.storage import MemoryStore
        >>> registry = Registry(MemoryStore(), actor="ana")
        >>> _ = registry.register("churn", b"v1"), registry.register("churn", b"v2")
        >>> registry.set_alias("churn", "champion", follow="production") is None  # nobody yet
        True
        >>> for stage in ("staging", "production"):
        ...     _ = registry.transition("churn", 2, stage)
        >>> registry.resolve("churn@champion").version, registry.model("churn").follows
        (2, {'champion': 'production'})
        """
        validate_name(alias, kind="alias")
        if alias in RESERVED_ALIASES:
            raise InputError(f"the alias {alias!r} is maintained automatically; pick another name")
        if (version is None) == (follow is None):
            raise InputError(
                "set_alias needs either a version to point at or follow=<exclusive stage>, "
                f"not {'both' if version is not None else 'neither'}: "
                f"set_alias({name!r}, {alias!r}, 3) or "
                f"set_alias({name!r}, {alias!r}, follow='production')"
            )
        _check_expected_version(expected)
        who, reason = self._actor(actor), check_text(reason, what="reason")
        validate_name(name, kind="model name")
        governed = self._governed(name, who)
        lifecycle = governed[0]
        check_alias_name(name, alias, lifecycle)
        if follow is not None:
            check_follow(name, alias, follow, lifecycle)

        def build(state: ModelState) -> AliasSet:
            current, bound = state.aliases.get(alias), state.follows.get(alias)
            if follow is not None:
                target: int | None = follow_target(state.holders(follow), current)
            else:
                assert version is not None  # checked above: one of version and follow
                target = self._lookup(state, version).version
            self._check_expected(name, alias, current, expected)
            return AliasSet(
                at=self._now(state),
                actor=who,
                reason=reason,
                alias=alias,
                version=target,
                previous=current,
                follows=follow,
                unfollowed=bound if bound is not None and bound != follow else None,
            )

        state, event = self._commit(name, build, must_exist=True, governed=governed)
        return None if event.version is None else self._version(state, event.version)

    def delete_alias(
        self,
        name: str,
        alias: str,
        *,
        expected: int | None = UNSET,
        actor: str | None = None,
        reason: str = "",
    ) -> None:
        """Remove ``alias`` (and its binding, if it follows a stage); ``expected`` makes it a
        compare-and-set as in :meth:`set_alias`."""
        validate_name(alias, kind="alias")
        if alias in RESERVED_ALIASES:
            raise InputError(f"the alias {alias!r} is maintained automatically")
        _check_expected_version(expected)
        who, reason = self._actor(actor), check_text(reason, what="reason")

        def build(state: ModelState) -> AliasDeleted:
            current, bound = state.aliases.get(alias), state.follows.get(alias)
            if current is None and bound is None:
                raise NotFoundError(
                    f"model {name!r} has no alias {alias!r}",
                    available=sorted(state.all_aliases()),
                    name=name,
                    alias=alias,
                )
            self._check_expected(name, alias, current, expected)
            return AliasDeleted(
                at=self._now(state),
                actor=who,
                reason=reason,
                alias=alias,
                previous=current,
                follows=bound,
            )

        self._commit(name, build, must_exist=True, actor=who)

    def aliases(self, name: str) -> dict[str, int]:
        """Every alias of ``name`` that points at a version (``latest`` and following aliases
        included) and that version. Which aliases follow which stage: ``model(name).follows``."""
        return self._existing(name).all_aliases()

    def resolve(self, ref: str) -> ModelVersion:
        """The version a reference names: ``"churn/3"``, ``"churn@latest"``, ``"churn@champion"``
        or ``"churn@production"``.

        The part after ``@`` is read in this order: ``latest`` is the highest version that is not
        deleted; a state of the model's lifecycle names the version that holds it, if the state
        is exclusive (:class:`~modelyard.errors.NotFoundError` if nobody holds it now;
        :class:`~modelyard.errors.InvalidReferenceError` for a state several versions may be in);
        anything else is an alias. ``"churn/3"`` names version 3, even if deleted.

        >>> from modelyard.storage import MemoryStore
        >>> registry = Registry(MemoryStore(), actor="ana")
        >>> _ = registry.register("churn", b"v1"), registry.register("churn", b"v2")
        >>> registry.resolve("churn@latest").version, registry.resolve("churn/1").aliases
        (2, ())
        >>> for stage in ("staging", "production"):
        ...     _ = registry.transition("churn", 1, stage)
        >>> registry.resolve("churn@production").version
        1
        >>> registry.resolve("churn@staging")
        Traceback (most recent call last):
        ...
        modelyard.errors.InvalidReferenceError: 'churn@staging' cannot name one version: ...
        """
        name, alias, number = parse_ref(ref)
        return self._target(self._existing(name), alias, number, allow_deleted=alias is None)

    def _by_name(self, state: ModelState, name: str, alias: str) -> int:
        if alias not in RESERVED_ALIASES:
            # Resolving stays one lookup: the governance this object last read decides what a
            # stage name is; every write reads it afresh.
            lifecycle = self._governance.in_force(name, fresh=False)
            if alias in lifecycle.states:
                return self._stage_holder(state, name, alias, lifecycle)
        number = state.all_aliases().get(alias)
        if number is not None:
            return number
        stage = state.follows.get(alias)
        if stage is not None:
            raise NotFoundError(
                f"alias {alias!r} of model {name!r} follows {stage!r}, which no version holds "
                f"now; it points at the next version that enters {stage!r}",
                name=name,
                alias=alias,
                follows=stage,
            )
        raise NotFoundError(
            f"model {name!r} has no alias {alias!r}",
            available=sorted(state.all_aliases()),
            name=name,
            alias=alias,
        )

    def _stage_holder(self, state: ModelState, name: str, stage: str, lifecycle: Lifecycle) -> int:
        if lifecycle.displacement(stage) is None:
            exclusive = sorted(lifecycle.exclusive)
            raise InvalidReferenceError(
                f"'{name}@{stage}' cannot name one version: {stage!r} is not an exclusive stage "
                f"of {name!r}'s lifecycle, so several versions may be in it. Use "
                f"search(name={name!r}, state={stage!r}) to list them"
                + (f", or an exclusive stage ({', '.join(exclusive)})" if exclusive else ""),
                ref=f"{name}@{stage}",
                state=stage,
            )
        holders = state.holders(stage)
        if not holders:
            raise NotFoundError(
                f"no version of model {name!r} is in {stage!r} now; "
                f"history({name!r}, kinds={{'transition', 'rollback'}}) shows who held it",
                name=name,
                state=stage,
            )
        return holders[-1]

    def load(self, ref: str, *, trusted: bool = False) -> Any:
        """Load the object a reference names (see :meth:`resolve`) from the artifact store.

        ``trusted=True`` is needed only for artifacts stored with a pickle-based codec.
        """
        version = self.resolve(ref)
        return self.artifacts.get(version.artifact, trusted=trusted)

    # -- evidence and model cards ----------------------------------------------------------------

    def attach(
        self,
        ref: str,
        artifact_or_object: Any,
        *,
        kind: str,
        actor: str | None = None,
        note: str = "",
        codec: str | None = None,
    ) -> Evidence:
        """Attach an artifact to the version ``ref`` names as evidence of ``kind``; return it.

        ``kind`` is a short lowercase name: ``"drift-report"``, ``"evaluation"``, ``"dataset"``,
        ``"model-card-review"``, ... ``artifact_or_object`` is an
        :class:`~modelyard.artifacts.ArtifactRef`, an artifact id or reference
        (``"churn-eval@latest"``), or any object, which is first stored as an artifact named
        ``"<model>-<kind>"`` (with ``codec`` if given). The attachment is an audited event in
        the model's log (who, when, ``note``) and, like a registered version, keeps its artifact
        and the artifact's ancestors safe from gc. An alias in ``ref`` is resolved once, when
        attaching. A bad kind, a missing model or version, or an artifact that is not whole is
        refused before anything is written.

        Guards read attached evidence: a drift guard (:func:`~modelyard.lifecycle.drift_clean`)
        judges the latest ``"drift-report"`` of the version when the transition passes none.

        >>> from modelyard.storage import MemoryStore
        >>> registry = Registry(MemoryStore(), actor="ana")
        >>> mv = registry.register("churn", b"weights")
        >>> ev = registry.attach("churn/1", {"auc": 0.91}, kind="evaluation", note="holdout")
        >>> ev.kind, ev.version, ev.actor, ev.note
        ('evaluation', 1, 'ana', 'holdout')
        >>> registry.load_evidence(ev)
        {'auc': 0.91}
        """
        name, alias, number = parse_ref(ref)
        kind = check_evidence_kind(kind)
        note = check_text(note, what="note")
        who = self._actor(actor)
        self._require_writable()
        # The version is looked up before an object is stored for it, so a bad reference writes
        # nothing at all.
        version = self._target(self._existing(name), alias, number).version
        artifact = self._artifact(artifact_or_object, name=f"{name}-{kind}", codec=codec)
        guard = self.artifacts.reference_guard(artifact)

        def build(state: ModelState) -> EvidenceAttached:
            self._lookup(state, version)
            return EvidenceAttached(
                at=self._now(state),
                actor=who,
                reason=note,
                version=version,
                evidence=kind,
                artifact=artifact.id,
            )

        with guard:
            state, event = self._commit(name, build, must_exist=True)
        return next(e for e in state.evidence if e.seq == event.seq)

    def evidence(self, ref: str, *, kind: str | None = None) -> list[Evidence]:
        """The evidence attached to the version ``ref`` names, newest first; ``kind`` filters.

        >>> from modelyard.storage import MemoryStore
        >>> registry = Registry(MemoryStore(), actor="ana")
        >>> _ = registry.register("churn", b"weights")
        >>> _ = registry.attach("churn/1", b"first", kind="evaluation")
        >>> _ = registry.attach("churn/1", b"second", kind="evaluation", note="rerun")
        >>> [e.note for e in registry.evidence("churn@latest", kind="evaluation")]
        ['rerun', '']
        """
        name, alias, number = parse_ref(ref)
        if kind is not None:
            kind = check_evidence_kind(kind)
        state = self._existing(name)
        version = self._target(state, alias, number, allow_deleted=True).version
        return _evidence_of(state, version, kind)

    def load_evidence(self, evidence: Evidence, *, trusted: bool = False) -> Any:
        """Load the artifact of an attachment (see :meth:`evidence`)."""
        return self.artifacts.get(evidence.artifact, trusted=trusted)

    def card(self, ref: str) -> ModelCard:
        """The model card of the version ``ref`` names: what the yard knows about it.

        Description, metrics, parameters, tags, aliases and stage; the artifact (id, size, media
        type, codec) and its lineage (the data and code it was made from); the producing
        environment; every approval and transition with who, when and why; and the attached
        evidence. ``.to_markdown()`` and ``.to_html()`` render it (every stored value escaped;
        the HTML is one self-contained page). Deleted versions have cards too (``"churn/3"``).

        >>> from modelyard.storage import MemoryStore
        >>> registry = Registry(MemoryStore(), actor="ana")
        >>> mv = registry.register("churn", b"weights", metrics={"auc": 0.91})
        >>> card = registry.card("churn/1")
        >>> card.version.metrics["auc"], card.artifact.size
        (0.91, 7)
        >>> print(card.to_markdown().splitlines()[0])
        # Model card: churn/1
        """
        name, alias, number = parse_ref(ref)
        state = self._existing(name)
        version = self._target(state, alias, number, allow_deleted=alias is None)
        # The log only grows, so events read after the state cover it; later ones are left out.
        events = [e for e in self._log.events(name) if e.seq <= state.head]
        return build_card(state, version, events, self.artifacts, _history_entry)

    # -- tags ------------------------------------------------------------------------------------

    def set_tag(
        self,
        name: str,
        key: str,
        value: str,
        *,
        version: int | None = None,
        actor: str | None = None,
    ) -> None:
        """Tag the model (``version=None``) or one version."""
        check_tag_key(key)
        value = check_tag_value(value, key=key)
        who = self._actor(actor)

        def build(state: ModelState) -> TagSet:
            if version is not None:
                self._lookup(state, version)
            return TagSet(at=self._now(state), actor=who, version=version, key=key, value=value)

        self._commit(name, build, must_exist=True, actor=who)

    def delete_tag(
        self, name: str, key: str, *, version: int | None = None, actor: str | None = None
    ) -> None:
        """Remove a tag from the model or one version; :class:`NotFoundError` if it is absent."""
        check_tag_key(key)
        who = self._actor(actor)

        def build(state: ModelState) -> TagDeleted:
            tags = state.tags if version is None else self._lookup(state, version).tags
            if key not in tags:
                raise NotFoundError(
                    f"no tag {key!r} on {name!r}" + (f" version {version}" if version else ""),
                    available=sorted(tags),
                )
            return TagDeleted(at=self._now(state), actor=who, version=version, key=key)

        self._commit(name, build, must_exist=True, actor=who)

    # -- lifecycle -------------------------------------------------------------------------------

    def transition(
        self,
        name: str,
        version: int,
        target: str,
        *,
        actor: str | None = None,
        reason: str = "",
        context: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Move ``version`` to lifecycle state ``target`` and return it.

        The model's lifecycle decides: a transition it does not allow, or a guard that fails,
        raises :class:`~modelyard.errors.TransitionRejected` with every guard's result, and
        nothing is written. Entering an exclusive state displaces its holder in the same event,
        and moves the aliases that follow the states it changes (see :meth:`set_alias`).
        ``context`` carries guard inputs such as ``{"drift_report": report}``; a guard that reads
        evidence (``drift_clean``) gets the latest attachment of its kind (see :meth:`attach`)
        when ``context`` has nothing under its key.
        """
        validate_name(name, kind="model name")
        who, reason = self._actor(actor), check_text(reason, what="reason")
        governed = self._governed(name, who)
        lifecycle, roles = governed[0], governed[1].role_book()
        lifecycle.require_state(target)

        def build(state: ModelState) -> Transitioned:
            record = self._lookup(state, version)
            at = self._now(state)
            guard_context = self._with_evidence(lifecycle, state, record, target, context or {})
            request = TransitionRequest(version, target, who, at, reason, guard_context)
            decision = decide(lifecycle, self._status(state), request, roles=roles)
            changes = tuple(decision.changes)
            return Transitioned(
                at=at,
                actor=who,
                reason=reason,
                version=version,
                changes=changes,
                results=tuple(decision.results),
                alias_moves=alias_moves(state, changes),
            )

        state, _ = self._commit(name, build, must_exist=True, governed=governed)
        return self._version(state, version)

    def approve(
        self,
        name: str,
        version: int,
        target: str,
        *,
        actor: str | None = None,
        role: str | None = None,
        comment: str = "",
    ) -> Approval:
        """Record ``actor``'s sign-off for moving exactly ``version`` to exactly ``target``.

        Approval guards (``Transition(..., approvals=2)``, ``require_approvals``) count these.
        """
        validate_name(name, kind="model name")
        who = self._actor(actor)
        comment = check_text(comment, what="comment")
        if role is not None:
            check_label(role, what="role")
        governed = self._governed(name, who)
        governed[0].require_state(target)
        if role is not None:
            require_approver_role(governed[1], who, role, "approve")

        def build(state: ModelState) -> ApprovalRecorded:
            self._lookup(state, version)
            at = self._now(state)
            approval = Approval(version, target, who, at, role=role, comment=comment)
            return ApprovalRecorded(
                at=at, actor=who, reason=comment, version=version, approval=approval
            )

        state, _ = self._commit(name, build, must_exist=True, governed=governed)
        return state.approvals[-1]

    def rollback(
        self,
        name: str,
        state: str = "production",
        *,
        actor: str | None = None,
        reason: str = "",
        version: int | None = None,
    ) -> ModelVersion:
        """Give exclusive ``state`` back to its previous holder; return the restored version.

        The current holder moves to the state's displacement state, and aliases that follow
        ``state`` move with it in the same event. Guards do not apply to a rollback (it is the
        lever pulled during an incident); the event records who and why.
        """
        validate_name(name, kind="model name")
        who, reason = self._actor(actor), check_text(reason, what="reason")
        governed = self._governed(name, who)
        lifecycle = governed[0]
        lifecycle.require_state(state)

        def build(current: ModelState) -> RolledBack:
            at = self._now(current)
            decision = decide_rollback(
                lifecycle,
                self._status(current),
                state,
                current.changes,
                actor=who,
                at=at,
                reason=reason,
                version=version,
            )
            changes = tuple(decision.changes)
            return RolledBack(
                at=at,
                actor=who,
                reason=reason,
                version=changes[0].version,
                changes=changes,
                alias_moves=alias_moves(current, changes),
            )

        new_state, event = self._commit(name, build, must_exist=True, governed=governed)
        return self._version(new_state, event.version)

    def history(self, name: str, *, kinds: Iterable[str] | None = None) -> list[HistoryEntry]:
        """Every committed change of ``name``, oldest first: who, when, what, why, guard results.

        ``kinds`` filters by event kind, e.g. ``{"transition", "rollback"}``.
        """
        self._existing(name)
        wanted = set(kinds) if kinds is not None else None
        events = self._log.events(name)
        return [_history_entry(e) for e in events if wanted is None or e.kind in wanted]

    def state_at(self, name: str, when: datetime) -> ModelSnapshot:
        """The model as it stood at ``when``: each version's state and every alias.

        Answers "what was in production at time T" from the log itself.
        """
        if when.tzinfo is None:
            raise InputError("state_at needs an aware datetime (e.g. tzinfo=timezone.utc)")
        self._existing(name)
        state = ModelState(name)
        for event in self._log.events(name):
            if event.at > when:
                break
            state = event.apply(state)
        versions = tuple(state.record(v) for _, v in sorted(state.versions.items()))
        return ModelSnapshot(
            name=name,
            at=when,
            versions=versions,
            aliases=state.all_aliases(),
            follows=state.follows,
        )

    def verify(self) -> RegistryReport:
        """Walk every model's log and snapshots and report what is wrong, model by model.

        Checks what reads check (every event parses, follows its predecessor's digest, belongs to
        its model, and applies) but records each problem and goes on, so a damaged model never
        raises: holes, edits, reordered and foreign events, snapshots that do not match the
        chain, stray files, and names that are not claimed or clash under case folding. Each
        model's ``head_digest`` can be kept outside the store to detect a log rewritten to its
        head. Reads every event: an audit, not something for a request path.

        >>> from modelyard.storage import MemoryStore
        >>> registry = Registry(MemoryStore(), actor="ana")
        >>> _ = registry.register("churn", b"weights")
        >>> report = registry.verify()
        >>> report.ok, report.models[0].name, report.models[0].events
        (True, 'churn', 1)
        """
        return verify_registry(self.store)

    # -- search ----------------------------------------------------------------------------------

    def search(
        self,
        name: str | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        model_tags: Mapping[str, str] | None = None,
        min_metrics: Mapping[str, float] | None = None,
        max_metrics: Mapping[str, float] | None = None,
        state: str | None = None,
        alias: str | None = None,
        include_deleted: bool = False,
        order_by: OrderBy = "created_at",
        descending: bool = True,
        limit: int | None = None,
    ) -> list[ModelVersion]:
        """Versions across models that match every filter given, ordered.

        ``name`` is a glob over model names (``"churn*"``); ``tags``/``model_tags`` must all match
        exactly; ``min_metrics``/``max_metrics`` are inclusive thresholds (a version without the
        metric does not match); ``state`` and ``alias`` select versions in that state or behind that
        alias. ``order_by`` is ``"created_at"``, ``"version"``, ``"name"`` or ``"metrics.<name>"``
        (versions without that metric come last).
        """
        if alias is not None:
            validate_name(alias, kind="alias")
        if state is not None:
            validate_name(state, kind="state")
        check_search(order_by, limit)
        filters = Filters(
            tags=check_tags(tags),
            model_tags=check_tags(model_tags),
            min_metrics=check_metrics(min_metrics),
            max_metrics=check_metrics(max_metrics),
            state=state,
            alias=alias,
            include_deleted=include_deleted,
        )
        # The catalog picks the models with a matching version; their versions are read from the
        # logs, so what search returns is what the logs say (the catalog is only an index).
        names = self._catalog.select(filters, name)
        states = [self._log.state(n) for n in names]
        return search_versions(
            [s for s in states if s.head > 0],
            tags=filters.tags,
            model_tags=filters.model_tags,
            min_metrics=filters.min_metrics,
            max_metrics=filters.max_metrics,
            state=state,
            alias=alias,
            include_deleted=include_deleted,
            order_by=order_by,
            descending=descending,
            limit=limit,
        )

    def rebuild_catalog(self) -> int:
        """Rebuild the yard's search catalog from the model logs; the number of models in it.

        The catalog is an index that :meth:`search` keeps current from the event feed and
        rebuilds by itself when it is missing or damaged. Rebuild it by hand after restoring
        the ``models/`` folder from a backup, or after a machine crash lost a feed marker (the
        feed then never names that event, see :meth:`watch`). Reads every model's log.

        >>> from modelyard.storage import MemoryStore
        >>> registry = Registry(MemoryStore(), actor="ana")
        >>> _ = registry.register("churn", b"weights")
        >>> registry.rebuild_catalog()
        1
        """
        return self._catalog.rebuild()

    # -- the feed --------------------------------------------------------------------------------

    def events(self, since: str | None = None, *, limit: int | None = None) -> FeedPage:
        """Committed events of every model after the cursor ``since`` (from the start of the
        feed when None), in feed order: event time, then model, then number.

        Reads the yard's feed: one listing per minute, hour or day folder from the cursor to now,
        and the checked event behind each new marker. Pass the page's ``cursor`` (or a returned
        event's) to resume, in this process or any other. A marker that landed more than 30 s
        after its event, or was lost, is not seen here: :meth:`watch` heals those. See
        ``docs/registry.md``, "Watching a yard".

        >>> from modelyard.storage import MemoryStore
        >>> registry = Registry(MemoryStore(), actor="ana")
        >>> _ = registry.register("churn", b"weights")
        >>> page = registry.events()
        >>> [(e.model, e.seq, e.kind) for e in page]
        [('churn', 1, 'version.registered')]
        >>> _ = registry.set_alias("churn", "champion", 1)
        >>> [(e.model, e.seq, e.kind) for e in registry.events(page.cursor)]
        [('churn', 2, 'alias.set')]
        """
        return read_events(self._feed, since, self.clock.now(), limit=limit)

    def feed_cursor(self) -> str:
        """A cursor at the end of the feed as of now: :meth:`events` and :meth:`watch` from it
        see only what is committed after this call. Take one before a watch that may see no
        event, so that the next run resumes from here and misses nothing in between.

        >>> from modelyard.storage import MemoryStore
        >>> registry = Registry(MemoryStore(), actor="ana")
        >>> _ = registry.register("churn", b"weights")
        >>> cursor = registry.feed_cursor()
        >>> _ = registry.set_alias("churn", "champion", 1)
        >>> [(e.model, e.seq, e.kind) for e in registry.events(cursor)]
        [('churn', 2, 'alias.set')]
        """
        return cursor_now(self.clock.now()).encode()

    def watch(
        self,
        since: str | None = None,
        *,
        poll: float = 1.0,
        stop: threading.Event | None = None,
        timeout: float | None = None,
        reconcile_every: float | None = 600.0,
    ) -> Iterator[FeedEvent]:
        """Yield committed events of every model as they happen, from ``since`` (a cursor) or,
        when None, from now on.

        Polls the feed every ``poll`` seconds: an idle poll costs one or two listings, however
        many models the yard holds. Stops when ``stop`` is set or after ``timeout`` seconds. Every
        ``reconcile_every`` seconds (None: never) it compares every model's head with what it
        delivered and delivers events whose marker was lost, late; that scan, and one when the
        watch starts, read every model. Each event carries the cursor to resume after it.

        >>> from modelyard.storage import MemoryStore
        >>> registry = Registry(MemoryStore(), actor="ana")
        >>> watching = registry.watch(poll=0.01, timeout=5, reconcile_every=None)
        >>> _ = registry.register("churn", b"weights")
        >>> event = next(watching)
        >>> event.model, event.seq, event.kind
        ('churn', 1, 'version.registered')
        """
        return watch_events(
            self._feed,
            since,
            self.clock.now,
            poll=poll,
            stop=stop,
            timeout=timeout,
            reconcile_every=reconcile_every,
        )

    # -- listeners -------------------------------------------------------------------------------

    def subscribe(self, listener: RegistryListener) -> Callable[[], None]:
        """Call ``listener`` with every event committed through this registry object.

        Listeners run after the event is durably committed, never before, in the committing
        thread; an exception in one is logged and does not affect the others or the caller.
        Returns a function that unsubscribes.
        """
        return self._add_listener(self._listeners, listener)

    def on_transition(self, listener: TransitionListener) -> Callable[[], None]:
        """Call ``listener`` with a :class:`~modelyard.lifecycle.CommittedTransition` after each
        committed transition or rollback. Returns a function that unsubscribes."""
        return self._add_listener(self._transition_listeners, listener)

    def _add_listener(self, listeners: list[Any], listener: Any) -> Callable[[], None]:
        if not callable(listener):
            raise InputError(f"a listener must be callable, got {listener!r}")
        with self._listener_lock:
            listeners.append(listener)

        def unsubscribe() -> None:
            with self._listener_lock:
                if listener in listeners:
                    listeners.remove(listener)

        return unsubscribe

    # -- internals -------------------------------------------------------------------------------

    def _actor(self, actor: str | None) -> str:
        if actor is None:
            return self.actor
        return check_actor(actor)

    def _require_writable(self) -> None:
        if not (self.store.capabilities.atomic_create or self.allow_non_atomic_create):
            raise CapabilityError(
                f"{self.store!r} cannot create keys atomically, so concurrent writers could lose "
                "registry events; use a store with atomic create, or pass "
                "allow_non_atomic_create=True if only one writer ever writes",
                store=repr(self.store),
            )

    def _now(self, state: ModelState) -> datetime:
        # Event times never go backwards within a model, even across machines whose clocks
        # disagree, so "state at time T" has one answer.
        now = self.clock.now()
        if state.updated_at is not None and now < state.updated_at:
            return state.updated_at
        return now

    def _governed(self, name: str, actor: str) -> tuple[Lifecycle, GovernanceState]:
        """The stored lifecycle a write to ``name`` obeys, and the governance it came from."""
        validate_name(name, kind="model name")
        self._require_writable()
        return self._governance.for_write(name, actor)

    def _protected(self, name: str) -> frozenset[str]:
        return self._governance.protected(name)

    def _commit(
        self,
        name: str,
        build: Callable[[ModelState], E],
        *,
        must_exist: bool = False,
        actor: str | None = None,
        governed: tuple[Lifecycle, GovernanceState] | None = None,
    ) -> tuple[ModelState, E]:
        """Fold, check, create the next event; on a lost race re-fold, re-check and retry.

        ``governed`` is what :meth:`_governed` returned for this write; without it, it is read
        here (as ``actor``), so that every write obeys the stored lifecycle."""
        validate_name(name, kind="model name")
        self._require_writable()
        if governed is None:
            governed = self._governance.for_write(name, actor or self.actor)
        protected = governed[0].protected
        # Start from the cached fold without asking the store whether it is current: the
        # exclusive create below fails if it is not, and we then re-read and decide again.
        state, probed = self._log.cached(name), False
        if state is None:
            state, probed = self._write_state(name), True
        for delay in itertools.chain(self.retry.delays(), [None]):
            try:
                if must_exist and state.head == 0:
                    raise self._missing_model(name)
                event = build(state)
            except ModelyardError:
                if probed:
                    raise
                # The refusal may come from a stale cache: decide again on the current state.
                state, probed = self._write_state(name), True
                continue
            try:
                state, event = self._log.append(
                    state, event, protected=protected, announce=self._feed
                )
            except KeyExistsError:
                if delay is None:
                    break
                time.sleep(delay)
                state, probed = self._write_state(name), True
                continue
            self._notify(name, event)
            return state, event
        raise ConcurrentModificationError(
            f"gave up writing to model {name!r} after {self.retry.attempts} attempts: other "
            "writers kept changing it; retry later",
            name=name,
        )

    def _write_state(self, name: str) -> ModelState:
        try:
            return self._log.state(name, listing=True)
        except NotFoundError as exc:
            existing = exc.context.get("existing")
            if existing is None:
                raise
            # Only a case-insensitive store maps this name onto another model's folder.
            raise name_taken(name, existing) from None

    def _notify(self, name: str, event: Event) -> None:
        with self._listener_lock:
            listeners = list(self._listeners)
            transition_listeners = list(self._transition_listeners)
        if not listeners and not transition_listeners:
            return
        record = RegistryEvent(
            model=name,
            seq=event.seq,
            kind=event.kind,
            at=event.at,
            actor=event.actor,
            reason=event.reason,
            data=event.data(),
        )
        for listener in listeners:
            try:
                listener(record)
            except Exception:
                logger.exception("registry listener %r failed on %s", listener, event.kind)
        if transition_listeners and isinstance(event, Transitioned):
            committed = CommittedTransition(
                model=name,
                changes=event.changes,
                actor=event.actor,
                reason=event.reason,
                at=event.at,
                results=event.results,
            )
            for error in notify(transition_listeners, committed):
                logger.error("transition listener failed: %r", error)

    def _existing(self, name: str) -> ModelState:
        validate_name(name, kind="model name")
        state = self._log.state(name)
        if state.head == 0:
            raise self._missing_model(name)
        return state

    def _missing_model(self, name: str) -> NotFoundError:
        names = self._log.names()
        alike = [other for other in names if fold(other) == fold(name)]
        hint = f"; did you mean {alike[0]!r}? (names are the same ignoring case)" if alike else ""
        return NotFoundError(f"no model named {name!r}{hint}", available=names, name=name)

    def _lookup(
        self, state: ModelState, version: int, *, allow_deleted: bool = False
    ) -> ModelVersion:
        if isinstance(version, bool) or not isinstance(version, int):
            raise InputError(f"a version is a positive integer, got {version!r}")
        record = state.versions.get(version)
        if record is None or (record.deleted and not allow_deleted):
            live = [n for n, v in sorted(state.versions.items()) if not v.deleted]
            what = "is deleted" if record is not None else "does not exist"
            raise NotFoundError(
                f"version {version} of model {state.name!r} {what}; versions: {live}",
                available=live,
                name=state.name,
                version=version,
            )
        return record

    def _target(
        self,
        state: ModelState,
        alias: str | None,
        number: int | None,
        *,
        allow_deleted: bool = False,
    ) -> ModelVersion:
        """The version a parsed reference names in ``state`` (an alias may name a stage)."""
        if alias is not None:
            number = self._by_name(state, state.name, alias)
        assert number is not None
        return state.record(self._lookup(state, number, allow_deleted=allow_deleted))

    def _with_evidence(
        self,
        lifecycle: Lifecycle,
        state: ModelState,
        record: ModelVersion,
        target: str,
        context: Mapping[str, Any],
    ) -> Mapping[str, Any]:
        """``context`` plus, for each guard on this edge that reads evidence under a key the
        caller left empty, the latest attachment of the guard's kind. Only what a guard asks for
        is loaded, so transitions without such guards read nothing more."""
        edge = lifecycle.transition(record.state, target)
        if edge is None:
            return context  # decide() refuses the transition and says why
        filled = dict(context)
        for guard in edge.all_guards:
            reads = getattr(guard, "context_evidence", None)
            if not isinstance(reads, Mapping):
                continue
            for key, kind in reads.items():
                if key in filled or not isinstance(kind, str):
                    continue
                latest = _evidence_of(state, record.version, kind)
                if latest:
                    filled[key] = self.artifacts.get(latest[0].artifact)
        return filled

    def _artifact(self, artifact_or_object: Any, *, name: str, codec: str | None) -> ArtifactRef:
        if isinstance(artifact_or_object, ArtifactRef):
            return artifact_or_object  # the caller's reference_guard() checks that it exists
        if isinstance(artifact_or_object, str):
            parsed = parse_reference(artifact_or_object, expect="artifact")
            if parsed.ambiguous:
                warnings.warn(
                    f"{artifact_or_object!r} reads as an artifact here but as a model version "
                    f"in load() and resolve(); write {str(parsed)!r} (the bare spelling will "
                    "be refused in a later release)",
                    DeprecationWarning,
                    stacklevel=3,
                )
            return self.artifacts.resolve(artifact_or_object)
        return self.artifacts.put(artifact_or_object, name=name, codec=codec)

    def _version(
        self, state: ModelState, version: int, allow_deleted: bool = False
    ) -> ModelVersion:
        return state.record(self._lookup(state, version, allow_deleted=allow_deleted))

    def _status(self, state: ModelState) -> ModelStatus:
        versions = {
            number: VersionStatus(number, v.state, metrics=v.metrics, tags=v.tags)
            for number, v in state.versions.items()
            if not v.deleted
        }
        return ModelStatus(state.name, versions, state.approvals, model_tags=state.tags)

    def _check_expected(self, name: str, alias: str, current: int | None, expected: Any) -> None:
        if expected is UNSET or expected == current:
            return
        now = "does not exist" if current is None else f"points at version {current}"
        raise ConcurrentModificationError(
            f"alias {alias!r} of {name!r} {now}, not {expected!r} as expected; another writer "
            "moved it. Re-read and decide again",
            name=name,
            alias=alias,
            expected=expected,
            actual=current,
        )

    def _model_record(self, state: ModelState) -> RegisteredModel:
        assert state.created_at is not None and state.updated_at is not None
        return RegisteredModel(
            name=state.name,
            description=state.description,
            tags=state.tags,
            aliases=state.all_aliases(),
            latest_version=state.latest,
            version_count=sum(1 for v in state.versions.values() if not v.deleted),
            created_at=state.created_at,
            updated_at=state.updated_at,
            head=state.head,
            follows=state.follows,
        )


def _kind(lifecycle: Lifecycle, state: str) -> str:
    return "exclusive" if state in lifecycle.exclusive else "protected"


def _check_expected_version(expected: Any) -> None:
    if expected is UNSET or expected is None:
        return
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 1:
        raise InputError(
            f"expected must be a version number (or None: the alias must not exist), "
            f"got {expected!r}"
        )


def _evidence_of(state: ModelState, version: int, kind: str | None) -> list[Evidence]:
    return [
        e
        for e in reversed(state.evidence)
        if e.version == version and (kind is None or e.kind == kind)
    ]


def _history_entry(event: Event) -> HistoryEntry:
    data = event.data()
    moves = event if isinstance(event, Transitioned) else None
    return HistoryEntry(
        seq=event.seq,
        at=event.at,
        kind=event.kind,
        actor=event.actor,
        reason=event.reason,
        version=data.get("version"),
        changes=moves.changes if moves else (),
        results=moves.results if moves else (),
        data=data,
        alias_moves=moves.alias_moves if moves else (),
        code=event.code if isinstance(event, VersionRegistered) else None,
    )
