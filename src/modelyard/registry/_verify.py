"""``registry.verify()``: walk every model's chain and snapshots; report, never raise.

Reads every key under ``models/`` once (one listing), then each model's events in order: the same
checks as a read (``_chain.link``), but a problem is recorded and the walk goes on, so one report
shows every hole, edit, foreign event and bad snapshot. After a problem the fold is unknown; the
walk then still checks each event's number, identity and link to the event before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from modelyard._internal.hashing import digest_bytes
from modelyard.errors import IntegrityError, ModelyardError, NotFoundError
from modelyard.registry._chain import link
from modelyard.registry._countersign import changed
from modelyard.registry._events import Event, ModelIdentity, parse_event
from modelyard.registry._governance import GovernanceLog, GovernanceState
from modelyard.registry._layout import (
    INDEX,
    NAMES,
    ROOT,
    countersign_key,
    log_key,
    log_prefix,
    seq_of,
    snapshot_prefix,
)
from modelyard.registry._names import NameClaims, claim_key, fold
from modelyard.registry._report import LogProblem, ModelCheck, ProblemKind, RegistryReport
from modelyard.registry._snapshots import Legacy, PastEnd, encode_snapshot, snapshot_problem
from modelyard.registry._state import ModelState
from modelyard.storage import Store

__all__ = ["verify_registry"]

_KINDS: tuple[ProblemKind, ...] = (
    "event",
    "newer",
    "order",
    "chain",
    "foreign",
    "hole",
    "name",
    "unsigned",
)


def verify_registry(store: Store) -> RegistryReport:
    """Check every model stored under ``models/``."""
    folders: dict[str, list[str]] = {}
    index: list[str] = []
    for key in store.list(f"{ROOT}/"):
        if key.startswith(INDEX):
            index.append(key[len(INDEX) :])
        elif not key.startswith(NAMES):
            folders.setdefault(key[len(ROOT) + 1 :].partition("/")[0], []).append(key)
    by_fold: dict[str, list[str]] = {}
    for name in index:
        by_fold.setdefault(fold(name), []).append(name)
    claims = NameClaims(store)
    governance, problems = _check_governance(store)
    return RegistryReport(
        tuple(
            _check_model(store, name, folders[name], set(index), by_fold, claims, governance)
            for name in sorted(folders)
        ),
        governance=problems,
    )


def _check_governance(store: Store) -> tuple[GovernanceState, tuple[LogProblem, ...]]:
    try:
        return GovernanceLog(store).state(), ()
    except (IntegrityError, NotFoundError) as exc:
        detail = _detail(exc)
        key = exc.context.get("key", "governance/log/")
        # Protected stages are unknown: the models are checked without them.
        return GovernanceState(), (LogProblem("governance", key, detail),)


def _check_model(
    store: Store,
    name: str,
    keys: Iterable[str],
    index: set[str],
    by_fold: Mapping[str, list[str]],
    claims: NameClaims,
    governance: GovernanceState,
) -> ModelCheck:
    problems: list[LogProblem] = []
    events: dict[int, str] = {}
    snapshots: dict[int, str] = {}
    for key in keys:
        if seq := seq_of(key, log_prefix(name)):
            events[seq] = key
        elif seq := seq_of(key, snapshot_prefix(name)):
            snapshots[seq] = key
        else:
            problems.append(LogProblem("stray", key, "neither an event nor a snapshot"))
    stored = governance.lifecycle_for(name)
    walk = _Walk(store, name, stored.lifecycle.protected if stored is not None else frozenset())
    for seq in sorted(events):
        walk.step(seq, events[seq])
    problems.extend(walk.problems)
    problems.extend(_check_snapshots(store, name, snapshots, walk.chain_start))
    if events:
        problems.extend(_check_name(name, walk.identity, index, by_fold, claims))
    return ModelCheck(
        name=name,
        events=len(events),
        head_digest=walk.digest,
        chained=walk.identity is not None,
        problems=tuple(problems),
    )


class _Walk:
    """The events of one model, checked in order."""

    def __init__(self, store: Store, name: str, protected: frozenset[str]) -> None:
        self.store, self.name, self.protected = store, name, protected
        self.state: ModelState | None = ModelState(name)  # None once the fold is unknown
        self.problems: list[LogProblem] = []
        self.identity: ModelIdentity | None = None
        self.chain_start: int | None = None  # the first chained event
        self.seq = 0  # the last event read
        self.digest: str | None = None  # the sha256 of its bytes

    def step(self, seq: int, key: str) -> None:
        if seq != self.seq + 1:
            first, last = self.seq + 1, seq - 1
            what = f"event {first} is" if first == last else f"events {first} to {last} are"
            self._problem("hole", log_key(self.name, first), f"{what} missing, but {key} exists")
        try:
            raw = self.store.read(key)
        except NotFoundError:
            return  # removed since it was listed
        digest = digest_bytes(raw)
        try:
            event = parse_event(raw, key)
        except IntegrityError as exc:
            self._error(exc, key)
        else:
            self._check(seq, key, event, digest)
            if self.identity is None and event.model is not None:
                self.identity, self.chain_start = event.model, seq
        self.seq, self.digest = seq, digest

    def _check(self, seq: int, key: str, event: Event, digest: str) -> None:
        if self.state is not None:
            before = self.state
            try:
                self.state = link(self.state, event, key, digest)
            except (IntegrityError, NotFoundError) as exc:
                self._error(exc, key)
                return
            for stage in changed(before, self.state, self.protected):
                sign = countersign_key(stage, self.name, seq, digest)
                if not self.store.exists(sign):
                    detail = f"changes who holds the protected stage {stage!r} but has no {sign}"
                    self.problems.append(LogProblem("unsigned", key, detail))
            fold_digest = digest_bytes(encode_snapshot(self.state)) if event.snapshot else None
            if fold_digest != event.snapshot:
                detail = "records a snapshot digest that is not the one of the fold after it"
                self._problem("event", key, detail)
            return
        # The fold is unknown past an earlier problem: check what can still be checked.
        if event.seq != seq:
            self._problem("order", key, f"holds event {event.seq} of its log")
        elif event.model is not None and (
            event.model.name != self.name
            or (self.identity is not None and event.model.id != self.identity.id)
        ):
            self._problem("foreign", key, f"belongs to model {event.model.name!r}")
        elif event.chained and seq == self.seq + 1 and event.prev != self.digest:
            self._problem("chain", key, f"does not follow the stored event {self.seq}")

    def _error(self, exc: ModelyardError, key: str) -> None:
        kind = exc.context.get("problem")
        where = exc.context.get("key", key)
        self._problem(kind if kind in _KINDS else "event", where, _detail(exc))

    def _problem(self, kind: ProblemKind, key: str, detail: str) -> None:
        self.problems.append(LogProblem(kind, key, detail))
        self.state = None


def _detail(exc: ModelyardError) -> str:
    # The message ends by pointing at verify(), which is where this text now appears.
    return str(exc).split(" registry.verify()")[0].rstrip(".;")


def _check_snapshots(
    store: Store, name: str, snapshots: Mapping[int, str], chain_start: int | None
) -> list[LogProblem]:
    problems = []
    for seq, key in sorted(snapshots.items()):
        try:
            result = snapshot_problem(store, name, key, seq, store.read(key))
        except Legacy:
            if chain_start is not None and seq >= chain_start:
                detail = "has the format written before the chain, but the log is chained here"
                problems.append(LogProblem("snapshot", key, detail))
        except PastEnd:
            problems.append(
                LogProblem("snapshot", key, f"lies past the end of the log (no event {seq})")
            )
        except (IntegrityError, NotFoundError):
            continue  # the problem of the event it was taken after is reported
        else:
            if isinstance(result, str):
                problems.append(LogProblem("snapshot", key, result))
    return problems


def _check_name(
    name: str,
    identity: ModelIdentity | None,
    index: set[str],
    by_fold: Mapping[str, list[str]],
    claims: NameClaims,
) -> list[LogProblem]:
    problems = []
    if name not in index:
        detail = f"{log_prefix(name)} holds events but has no index entry"
        if identity is None:
            detail += " (copied or moved by hand?); readers refuse it"
        problems.append(LogProblem("name", INDEX + name, detail))
    alike = [other for other in by_fold.get(fold(name), []) if other != name]
    if alike:
        detail = f"shares its folded name with {alike}; only one of them can be written"
        problems.append(LogProblem("name", INDEX + name, detail))
    if identity is not None:
        try:
            owner = claims.owner(name)
        except IntegrityError as exc:
            problems.append(LogProblem("name", claim_key(name), str(exc)))
        else:
            if owner != name:
                found = "no claim" if owner is None else f"a claim for {owner!r}"
                detail = f"the model's folded name has {found}; it should be claimed by {name!r}"
                problems.append(LogProblem("name", claim_key(name), detail))
    return problems
